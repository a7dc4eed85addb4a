import Foundation
import SentraWire

extension DaemonView {
    /// His shares of the open orders and his pay this month.
    func ownCoop(craftsman id: String) throws -> (orders: [MeAnswer.Order], pay: MeAnswer.PayMonth) {
        let month = monthSoFar()
        return ([], MeAnswer.PayMonth(from: month.from, to: month.to, pieces: 0, amount: 0))
    }
}
