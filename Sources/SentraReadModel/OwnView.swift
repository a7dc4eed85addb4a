import Foundation
import SentraCore
import SentraWire

/// `GET /api/v1/me`: one craftsman's own view (docs/access.md), built from the same reads as
/// the dashboard's panels but keeping only his rows.
extension DaemonView {
    /// His numbers today, his looms, his shares of open orders and his pay this month. A
    /// craftsman the sentra no longer has is `APIError.notFound`. Reads the state database:
    /// call it off Swift's cooperative threads.
    public func meAnswer(craftsman id: String) throws -> MeAnswer {
        guard let snap = live.snapshot else { throw APIError.notReady }
        let reg = snap.registry
        guard let c = reg.craftsmen.first(where: { $0.id == id }) else { throw APIError.unknownCraftsman(id) }
        let usualDay = try usualAnswer(UsualQuery(craftsman: id))
        let usual = usualDay.craftsmen.first
        let report = try productionAnswer(ProductionQuery(days: nil, by: .loom, craftsman: id))
        let piecesOf = Dictionary((report.looms ?? []).map { ($0.loom, $0.pieces) }, uniquingKeysWith: +)
        let groups = RegistryGroups(reg)
        let looms = reg.looms.filter { RegistryGroups.craftsman(of: $0) == id }.map { l in
            let a = loom(l, device: groups.loomDevice[l.id], snapshot: snap)
            return MeAnswer.Loom(
                loom: l.id, state: a.online ? a.state.rawValue : nil, piecesToday: WireJSON.rounded(piecesOf[l.id] ?? 0))
        }
        let coop = try ownCoop(craftsman: id)
        return MeAnswer(
            craftsman: c.id, name: c.name, workshop: c.workshop,
            today: .init(
                date: usualDay.date, pieces: usual?.piecesToday ?? 0, usualSoFar: usual?.usualSoFar,
                usualDay: usual?.usualDay),
            looms: looms, orders: coop.orders, payMonth: coop.pay)
    }

    /// This month so far as local dates: the first of the month and today.
    func monthSoFar() -> (from: String, to: String) {
        var cal = calendar
        let today = cal.date(atMillis: clock())
        return (String(today.prefix(8)) + "01", today)
    }
}
