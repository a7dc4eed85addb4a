import Foundation
import GRDB
import SentraCore

/// An order as stored (`coop_order`): docs/orders.md says what each field means.
public struct OrderRecord: Sendable, Equatable {
    public var id: String
    public var product: String
    public var title: String?
    public var wanted: Int
    /// Local date `YYYY-MM-DD`: due by the end of that day.
    public var due: String
    /// The order's own rate (rupiah per piece), overriding its product's.
    public var rate: Int64?
    /// `open` or `closed`.
    public var status: String
    /// ms since the epoch.
    public var created: Int64
    public var closed: Int64?

    public init(
        id: String, product: String, title: String?, wanted: Int, due: String, rate: Int64?, status: String, created: Int64,
        closed: Int64?
    ) {
        self.id = id
        self.product = product
        self.title = title
        self.wanted = wanted
        self.due = due
        self.rate = rate
        self.status = status
        self.created = created
        self.closed = closed
    }

    public var isOpen: Bool { status == "open" }
}

/// A loom on an order from `joined` until `left` (ms; nil: still on it).
public struct OrderLoomRecord: Sendable, Equatable {
    public var orderID: String
    public var loom: String
    public var joined: Int64
    public var left: Int64?
    public init(orderID: String, loom: String, joined: Int64, left: Int64?) {
        self.orderID = orderID
        self.loom = loom
        self.joined = joined
        self.left = left
    }
}

/// The pieces one loom made for one craftsman in one local hour (`hour`: its start, UTC seconds).
public struct LoomHourPieces: Sendable, Equatable {
    public var hour: Int64
    public var loom: String
    public var workshop: String
    public var craftsman: String
    public var pieces: Double
    public init(hour: Int64, loom: String, workshop: String, craftsman: String, pieces: Double) {
        self.hour = hour
        self.loom = loom
        self.workshop = workshop
        self.craftsman = craftsman
        self.pieces = pieces
    }
}

extension ProductionStore {
    /// `v6-orders`: orders, the looms on them, and the coordinator's shares.
    static func migrateOrders(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE coop_order (
                    id TEXT PRIMARY KEY, product TEXT NOT NULL, title TEXT, wanted INTEGER NOT NULL,
                    due TEXT NOT NULL,              -- local YYYY-MM-DD
                    rate INTEGER,                   -- rupiah per piece, overriding the product's
                    status TEXT NOT NULL,           -- open or closed
                    created INTEGER NOT NULL, closed INTEGER
                ) WITHOUT ROWID;
                CREATE TABLE order_loom (
                    order_id TEXT NOT NULL, loom TEXT NOT NULL, joined INTEGER NOT NULL, "left" INTEGER,
                    PRIMARY KEY (order_id, loom, joined)
                ) WITHOUT ROWID;
                CREATE INDEX order_loom_loom ON order_loom(loom, joined);
                CREATE TABLE order_share (
                    order_id TEXT NOT NULL, craftsman TEXT NOT NULL, pieces INTEGER NOT NULL,
                    PRIMARY KEY (order_id, craftsman)
                ) WITHOUT ROWID;
                """)
    }

    /// Opens an existing state database for writing (`sentractl order`), whether the daemon
    /// runs or not: SQLite's busy timeout (10 s) waits for its commits. A missing or empty file
    /// is a `StoreError` (nothing is created); the checks and migrations are the daemon's.
    public static func openExisting(path: String) throws -> ProductionStore {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
        guard let size, size > 0 else {
            throw StoreError(message: "no state database at \(path): has sentrad run with this state_dir?")
        }
        return try ProductionStore(path: path)
    }

    /// Whether the orders' tables exist (a database opened read-only may predate them).
    func hasOrderTables(_ db: Database) throws -> Bool { try db.tableExists("coop_order") }

    /// Orders by creation, open ones only unless `includeClosed`.
    public func coopOrders(includeClosed: Bool) throws -> [OrderRecord] {
        try pool.read { db in
            guard try hasOrderTables(db) else { return [] }
            let sql = "SELECT * FROM coop_order" + (includeClosed ? "" : " WHERE status = 'open'") + " ORDER BY created, id"
            return try Row.fetchAll(db, sql: sql).map(Self.order)
        }
    }

    public func coopOrder(_ id: String) throws -> OrderRecord? {
        try pool.read { db in
            guard try hasOrderTables(db) else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM coop_order WHERE id = ?", arguments: [id]).map(Self.order)
        }
    }

    static func order(_ row: Row) -> OrderRecord {
        OrderRecord(
            id: row["id"], product: row["product"], title: row["title"], wanted: row["wanted"], due: row["due"], rate: row["rate"],
            status: row["status"], created: row["created"], closed: row["closed"])
    }

    /// Every loom's time on every order (the table is small: one row per join).
    public func orderLooms() throws -> [OrderLoomRecord] {
        try pool.read { db in
            guard try hasOrderTables(db) else { return [] }
            return try Row.fetchAll(db, sql: #"SELECT order_id, loom, joined, "left" FROM order_loom ORDER BY loom, joined, order_id"#)
                .map { OrderLoomRecord(orderID: $0["order_id"], loom: $0["loom"], joined: $0["joined"], left: $0["left"]) }
        }
    }

    /// The coordinator's shares of order `id`, pieces by craftsman.
    public func orderShares(_ id: String) throws -> [String: Int] {
        try pool.read { db in
            guard try hasOrderTables(db) else { return [:] }
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT craftsman, pieces FROM order_share WHERE order_id = ?", arguments: [id]) {
                out[row["craftsman"]] = row["pieces"]
            }
            return out
        }
    }

    /// The pieces of loom rows for hours starting in `[fromHour, toHour)` (UTC seconds), per
    /// hour, loom and craftsman; only `looms` when given. A range of the `hourly` table's
    /// primary key (`hour` leads it).
    public func loomHourPieces(looms: [String]? = nil, fromHour: Int64, toHour: Int64) throws -> [LoomHourPieces] {
        if let looms, looms.isEmpty { return [] }
        return try pool.read { db in
            try Row.fetchAll(db, sql: Self.loomHourSQL(looms: looms?.count), arguments: Self.loomHourArguments(looms, fromHour, toHour))
                .map {
                    LoomHourPieces(
                        hour: $0["hour"], loom: $0["loom"], workshop: $0["workshop"], craftsman: $0["craftsman"], pieces: $0["pieces"] ?? 0)
                }
        }
    }

    static func loomHourSQL(looms: Int?) -> String {
        let filter = looms.map { " AND loom IN (" + Array(repeating: "?", count: $0).joined(separator: ", ") + ")" } ?? ""
        return """
            SELECT hour, loom, workshop, craftsman, SUM(pieces) AS pieces FROM hourly
            WHERE hour >= ? AND hour < ? AND kind = 'loom'\(filter)
            GROUP BY hour, loom, workshop, craftsman ORDER BY hour, loom, craftsman
            """
    }

    static func loomHourArguments(_ looms: [String]?, _ from: Int64, _ to: Int64) -> StatementArguments {
        StatementArguments([from, to] as [any DatabaseValueConvertible]) + StatementArguments(looms ?? [])
    }

    /// SQLite's plan for `loomHourPieces` (a test checks it searches the primary key).
    public func loomHourPlan(looms: [String]?) throws -> [String] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + Self.loomHourSQL(looms: looms?.count),
                arguments: Self.loomHourArguments(looms, 0, 1)
            ).map { $0["detail"] }
        }
    }

    /// Pieces of the daily roll-ups (no loom) of local days `from` through `to`, per day and craftsman.
    public func dailyPieces(from: String, to: String) throws -> [(day: String, craftsman: String, workshop: String, pieces: Double)] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT day, craftsman, workshop, pieces FROM daily WHERE day >= ? AND day <= ? ORDER BY day, craftsman",
                arguments: [from, to]
            ).map { ($0["day"], $0["craftsman"], $0["workshop"], $0["pieces"]) }
        }
    }

    /// Runs `body` in one write transaction on the orders' tables.
    public func editOrders<T>(_ body: (OrderEdit) throws -> T) throws -> T {
        try pool.write { db in try body(OrderEdit(db: db)) }
    }
}

/// Writes to the orders' tables inside one transaction (`ProductionStore.editOrders`).
public struct OrderEdit {
    let db: Database

    public func order(_ id: String) throws -> OrderRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM coop_order WHERE id = ?", arguments: [id]).map(ProductionStore.order)
    }

    /// The next free number `n` of ids `o-<n>`.
    public func nextOrderNumber() throws -> Int {
        let ids = try String.fetchAll(db, sql: "SELECT id FROM coop_order WHERE id LIKE 'o-%'")
        return (ids.compactMap { Int($0.dropFirst(2)) }.max() ?? 0) + 1
    }

    public func insert(_ r: OrderRecord) throws {
        try db.execute(
            sql:
                "INSERT INTO coop_order (id, product, title, wanted, due, rate, status, created, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [r.id, r.product, r.title, r.wanted, r.due, r.rate, r.status, r.created, r.closed])
    }

    public func update(_ r: OrderRecord) throws {
        try db.execute(
            sql: "UPDATE coop_order SET product = ?, title = ?, wanted = ?, due = ?, rate = ?, status = ?, closed = ? WHERE id = ?",
            arguments: [r.product, r.title, r.wanted, r.due, r.rate, r.status, r.closed, r.id])
    }

    /// Puts `looms` on order `id` at `at` (ms), taking each off any other order it is on; a
    /// loom already on it stays as it is.
    public func join(_ looms: [String], order id: String, at: Int64) throws {
        for loom in looms {
            let on = try Int.fetchOne(
                db, sql: #"SELECT COUNT(*) FROM order_loom WHERE order_id = ? AND loom = ? AND "left" IS NULL"#, arguments: [id, loom])
            if (on ?? 0) > 0 { continue }
            try db.execute(sql: #"UPDATE order_loom SET "left" = ? WHERE loom = ? AND "left" IS NULL"#, arguments: [at, loom])
            try db.execute(
                sql: #"INSERT OR REPLACE INTO order_loom (order_id, loom, joined, "left") VALUES (?, ?, ?, NULL)"#,
                arguments: [id, loom, at])
        }
    }

    /// Takes `looms` (every loom when nil) off order `id` at `at` (ms).
    public func leave(_ looms: [String]?, order id: String, at: Int64) throws {
        if let looms {
            for loom in looms {
                try db.execute(
                    sql: #"UPDATE order_loom SET "left" = ? WHERE order_id = ? AND loom = ? AND "left" IS NULL"#, arguments: [at, id, loom])
            }
        } else {
            try db.execute(sql: #"UPDATE order_loom SET "left" = ? WHERE order_id = ? AND "left" IS NULL"#, arguments: [at, id])
        }
    }

    /// The looms on order `id` now.
    public func currentLooms(order id: String) throws -> [String] {
        try String.fetchAll(
            db, sql: #"SELECT loom FROM order_loom WHERE order_id = ? AND "left" IS NULL ORDER BY loom"#, arguments: [id])
    }

    /// Sets the coordinator's share of `craftsman` in order `id`.
    public func setShare(order id: String, craftsman: String, pieces: Int) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO order_share (order_id, craftsman, pieces) VALUES (?, ?, ?)", arguments: [id, craftsman, pieces])
    }
}
