import SentraCore
import SentraLocale
import SentraStore
import SentraWire

/// Something asked of the orders' book that cannot be done: English, for operators and machines.
public enum CoopError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `what` (`order`, …) with id `id` does not exist.
    case notFound(what: String, id: String)
    /// The value of `field` is wrong; `message` says how.
    case invalid(field: String, message: String)

    public var description: String {
        switch self {
        case .notFound(let what, let id): "no \(what) '\(id)'"
        case .invalid(let field, let message): "\(field): \(message)"
        }
    }
}

/// What the `order_behind` rule needs of an open order.
public struct OrderForecast: Sendable, Equatable {
    public var id: String
    /// The workshop of its first loom.
    public var workshop: String
    /// Pieces left, rounded up.
    public var left: Int
    public var etaMillis: Int64?
    /// Its due date (local `YYYY-MM-DD`) and the end of that day (ms).
    public var due: String
    public var dueEndMillis: Int64
    public var behind: Bool
    public init(id: String, workshop: String, left: Int, etaMillis: Int64?, due: String, dueEndMillis: Int64, behind: Bool) {
        self.id = id
        self.workshop = workshop
        self.left = left
        self.etaMillis = etaMillis
        self.due = due
        self.dueEndMillis = dueEndMillis
        self.behind = behind
    }
}

/// Orders, their split, progress and ETA, and piece-rate pay (docs/orders.md, docs/pay.md):
/// one facade for `sentractl` and the HTTP API. It reads the state database each time it is
/// asked (no cache).
public struct CoopBook: Sendable {
    public let store: ProductionStore
    public let registry: Registry
    public let pay: PaySettings
    public let calendar: LocalCalendar
    public let language: Language

    /// Working days a craftsman's usual pace is the median of.
    public static let usualDays = 14
    /// Elapsed shift hours the ETA's pace is measured over.
    public static let paceHours = 8.0
    /// The most pieces an order may want.
    public static let maxWanted = 1_000_000
    /// The highest rate an order may set, rupiah per piece.
    public static let maxRate: Int64 = 1_000_000_000
    /// How far ahead a due date may be (ten years, the shift walk's horizon).
    public static let maxDueDays: Int64 = 3660
    /// The longest title, characters.
    public static let maxTitle = 200

    public init(store: ProductionStore, registry: Registry, pay: PaySettings, calendar: LocalCalendar, language: Language) {
        self.store = store
        self.registry = registry
        self.pay = pay
        self.calendar = calendar
        self.language = language
    }

    public func orders(now: Int64, includeClosed: Bool) throws -> OrdersAnswer {
        let memberships = Memberships(try store.orderLooms(), calendar: calendar)
        let records = try store.coopOrders(includeClosed: includeClosed)
        var context = try ProgressContext(book: self, now: now)
        return OrdersAnswer(orders: try records.map { try context.document($0, memberships) })
    }

    public func order(_ id: String, now: Int64) throws -> OrderDocument {
        guard let record = try store.coopOrder(id) else { throw CoopError.notFound(what: "order", id: id) }
        var context = try ProgressContext(book: self, now: now)
        return try context.document(record, Memberships(try store.orderLooms(), calendar: calendar))
    }

    /// The open orders' forecasts, for the `order_behind` rule.
    public func forecasts(now: Int64) throws -> [OrderForecast] {
        let memberships = Memberships(try store.orderLooms(), calendar: calendar)
        var context = try ProgressContext(book: self, now: now, withSplit: false)
        return try store.coopOrders(includeClosed: false).map { r in
            let p = try context.progress(r, memberships)
            let first = memberships.records(of: r.id).first.flatMap { registry.loom($0.loom)?.workshop } ?? ""
            return OrderForecast(
                id: r.id, workshop: first, left: Int(p.left.rounded(.up)), etaMillis: p.eta, due: r.due, dueEndMillis: p.dueEnd,
                behind: p.behind)
        }
    }

    public func create(_ r: OrderRequest, now: Int64) throws -> OrderDocument {
        var check = Validation(book: self, now: now)
        let product = try check.product(r.product)
        let wanted = try check.wanted(r.wanted)
        let due = try check.due(r.due)
        let rate = try r.rate.map { try check.rate($0) }
        let title = try r.title.flatMap { $0.isEmpty ? nil : try check.title($0) }
        let looms = try check.looms(r.looms, craftsmen: r.craftsmen)
        if let id = r.id { try check.id(id) }
        let id: String = try store.editOrders { edit in
            let id = try r.id ?? "o-\(edit.nextOrderNumber())"
            guard try edit.order(id) == nil else { throw CoopError.invalid(field: "id", message: "order '\(id)' exists already") }
            try edit.insert(
                OrderRecord(
                    id: id, product: product, title: title, wanted: wanted, due: due, rate: rate, status: "open", created: now, closed: nil)
            )
            try edit.join(looms, order: id, at: now)
            return id
        }
        return try order(id, now: now)
    }

    public func change(_ id: String, _ c: OrderChange, now: Int64) throws -> OrderDocument {
        var check = Validation(book: self, now: now)
        guard var r = try store.coopOrder(id) else { throw CoopError.notFound(what: "order", id: id) }
        guard r.isOpen else { throw CoopError.invalid(field: "status", message: "order '\(id)' is closed") }
        if let t = c.title { r.title = t.isEmpty ? nil : try check.title(t) }
        if let w = c.wanted { r.wanted = try check.wanted(w) }
        if let d = c.due { r.due = try check.due(d) }
        if let rate = c.rate { r.rate = try check.rate(rate) }
        var join: [String] = []
        if c.addLooms != nil || c.addCraftsmen != nil {
            join = try check.looms(c.addLooms, craftsmen: c.addCraftsmen, both: true, field: "add_looms")
        }
        let remove = try c.removeLooms.map { try check.knownLooms($0, field: "remove_looms") }
        let shares = try (c.shares ?? [:]).sorted { $0.key < $1.key }.map { try check.share($0.key, $0.value, wanted: r.wanted) }
        try store.editOrders { edit in
            if let remove {
                let on = Set(try edit.currentLooms(order: id))
                if let stranger = remove.first(where: { !on.contains($0) }) {
                    throw CoopError.invalid(field: "remove_looms", message: "loom '\(stranger)' is not on order '\(id)'")
                }
                try edit.leave(remove, order: id, at: now)
            }
            try edit.join(join, order: id, at: now)
            for s in shares { try edit.setShare(order: id, craftsman: s.craftsman, pieces: s.pieces) }
            try edit.update(r)
        }
        return try order(id, now: now)
    }

    /// Closes order `id`: its looms leave it now. Closing a closed order changes nothing.
    public func close(_ id: String, now: Int64) throws -> OrderDocument {
        guard var r = try store.coopOrder(id) else { throw CoopError.notFound(what: "order", id: id) }
        if r.isOpen {
            r.status = "closed"
            r.closed = now
            try store.editOrders { edit in
                try edit.leave(nil, order: id, at: now)
                try edit.update(r)
            }
        }
        return try order(id, now: now)
    }

    /// The effective rate of an order: its own, else its product's (0 for a product no longer configured).
    func rate(of r: OrderRecord) -> Int64 { r.rate ?? pay.product(r.product)?.rate ?? 0 }
}
