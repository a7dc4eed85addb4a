import Foundation
import SentraCoop
import SentraCore
import SentraLocale
import SentraStore
import SentraWire

extension DaemonView {
    /// The orders' book over the daemon's store and its registry now, in `language` (the
    /// sentra's by default). Not ready before the registry is loaded.
    public func coopBook(language: Language? = nil) throws -> CoopBook {
        guard let registry = live.snapshot?.registry else { throw APIError.notReady }
        return CoopBook(store: store, registry: registry, pay: pay, calendar: calendar, language: language ?? self.language)
    }

    /// His shares of the open orders and his pay this month: only his numbers are copied out.
    func ownCoop(craftsman id: String) throws -> (orders: [MeAnswer.Order], pay: MeAnswer.PayMonth) {
        let book = try coopBook()
        let month = monthSoFar()
        let orders = try book.orders(now: clock(), includeClosed: false).orders.compactMap { o -> MeAnswer.Order? in
            guard let share = o.shares.first(where: { $0.craftsman == id }) else { return nil }
            return MeAnswer.Order(
                id: o.id, productName: o.productName, title: o.title, due: o.due, assigned: share.assigned, made: share.made,
                eta: o.eta)
        }
        let sheet = try book.pay(from: month.from, to: month.to).craftsmen.first { $0.craftsman == id }
        return (
            orders, MeAnswer.PayMonth(from: month.from, to: month.to, pieces: sheet?.pieces ?? 0, amount: sheet?.amount ?? 0)
        )
    }
}

extension APIQuery {
    /// `from=` and `to=` local dates (one alone is that day; neither: this month so far, which
    /// the caller fills in), at most `DayRange.maxDaysOverHTTP` days; `lang=` is the page's.
    public static func pay(_ items: [(name: String, value: String)]) throws(APIQueryError) -> DayRange? {
        let q = try Items(items, known: ["from", "to", "lang"])
        if let lang = q["lang"], Language(rawValue: lang) == nil {
            throw APIQueryError(parameter: "lang", message: "lang '\(lang)' is not one of: en, id")
        }
        return try days(q).days
    }

    /// `status=open|all`: whether closed orders are listed too (open by default).
    public static func orders(_ items: [(name: String, value: String)]) throws(APIQueryError) -> Bool {
        let q = try Items(items, known: ["status"])
        switch q["status"] {
        case nil, "open": return false
        case "all": return true
        case let s?: throw APIQueryError(parameter: "status", message: "status '\(s)' is not one of: open, all")
        }
    }
}

extension DaemonView {
    /// `range`, or this month so far.
    public func payRange(_ range: DayRange?) -> (from: String, to: String) {
        range.map { ($0.from, $0.to) } ?? monthSoFar()
    }
}
