import Foundation
import GRDB
import SentraCore

/// Sentra's durable state in one SQLite file (WAL): counter baselines, device states,
/// hourly buckets, daily roll-ups and alert states. The ingest thread writes through
/// `commit`, one transaction per call, so baselines and the buckets they produced are
/// always on disk together; `sentractl` reads concurrently without blocking it.
public final class ProductionStore: @unchecked Sendable {
    public let path: String
    let pool: DatabasePool

    /// The database's identity (`meta.database_identity`), and whether the identity file beside
    /// it records it yet (written after the first commit).
    private let identity: String
    private let identityLock = NSLock()
    private var identityRecorded: Bool

    /// Opens (creating and migrating) the database for writing. Refuses, as a `StoreError`
    /// (`isDamagedState`), a database SQLite finds damaged (`PRAGMA quick_check`, SQLITE_CORRUPT,
    /// SQLITE_NOTADB) and one that is missing, empty or another where the identity file says this
    /// state directory counted before: nothing is changed then.
    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Self.refuseLostHistory(path: path)
        var config = GRDB.Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // NORMAL is durable across process crashes in WAL mode; FULL also across power loss.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let pool = try Self.damageChecked(path) { try DatabasePool(path: path, configuration: config) }
        try Self.checkIntegrity(pool, path: path)
        try Self.refuseNewerSchema(pool, path: path)
        try Self.damageChecked(path) { try Self.migrator.migrate(pool) }
        let checked = try Self.damageChecked(path) { try Self.checkIdentity(pool, path: path) }
        self.pool = pool
        identity = checked.identity
        identityRecorded = checked.recorded
        // A database from before identity files, which has counted: record it now.
        if !identityRecorded, (try? meta(Self.journalMarkKey)) != nil {
            identityRecorded = (try? Self.recordIdentity(identity, path: path)) != nil
        }
    }

    /// Opens an existing database read-only (for `sentractl`, while the daemon runs), after the
    /// same checks as the daemon's open (a damaged or lost database is a `StoreError` whose
    /// `isDamagedState` is true).
    public init(readingFrom path: String) throws {
        self.path = path
        try Self.refuseLostHistory(path: path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
        guard let size, size > 0 else {
            throw StoreError(message: "no state database at \(path): has sentrad run with this state_dir?")
        }
        var config = GRDB.Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        let pool = try Self.damageChecked(path) { try DatabasePool(path: path, configuration: config) }
        try Self.checkIntegrity(pool, path: path)
        try Self.refuseNewerSchema(pool, path: path)
        self.pool = pool
        identity = ""
        identityRecorded = true
    }

    /// Runs `body`, turning SQLite's corruption codes into a `StoreError` naming the file.
    @discardableResult
    static func damageChecked<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            if isDamage(error) && !(error is StoreError) { throw damaged(path, "\(error)") }
            throw error
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE device_state (
                        device TEXT PRIMARY KEY,        -- workshop/kind/id
                        last_ts INTEGER, last_seq INTEGER,
                        state INTEGER, state_ts INTEGER,
                        voltage REAL, voltage_ts INTEGER,
                        has_run_counter INTEGER NOT NULL DEFAULT 0,
                        offline_since INTEGER
                    ) WITHOUT ROWID;
                    CREATE TABLE counter (
                        device TEXT NOT NULL, field TEXT NOT NULL,
                        value REAL NOT NULL, ts INTEGER NOT NULL,
                        pending_value REAL, pending_ts INTEGER,
                        PRIMARY KEY (device, field)
                    ) WITHOUT ROWID;
                    CREATE TABLE hourly (
                        hour INTEGER NOT NULL,          -- start of the local hour, UTC seconds
                        day TEXT NOT NULL,              -- local date of that hour
                        device TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        workshop TEXT NOT NULL,
                        loom TEXT NOT NULL,             -- '' for meters
                        craftsman TEXT NOT NULL,        -- '' when it counts for the workshop
                        picks REAL NOT NULL DEFAULT 0, pieces REAL NOT NULL DEFAULT 0,
                        skeins REAL NOT NULL DEFAULT 0, run_ms REAL NOT NULL DEFAULT 0,
                        stop_ms REAL NOT NULL DEFAULT 0, fault_ms REAL NOT NULL DEFAULT 0,
                        stoppages REAL NOT NULL DEFAULT 0, kwh REAL NOT NULL DEFAULT 0,
                        water_l REAL NOT NULL DEFAULT 0, v_out_ms REAL NOT NULL DEFAULT 0,
                        no_power_ms REAL NOT NULL DEFAULT 0,
                        PRIMARY KEY (hour, device, craftsman)
                    ) WITHOUT ROWID;
                    CREATE INDEX hourly_day ON hourly(day);
                    CREATE TABLE daily (
                        day TEXT NOT NULL, craftsman TEXT NOT NULL, workshop TEXT NOT NULL,
                        pieces REAL NOT NULL, picks REAL NOT NULL, run_ms REAL NOT NULL,
                        kwh REAL NOT NULL, water_l REAL NOT NULL,
                        PRIMARY KEY (day, craftsman, workshop)
                    ) WITHOUT ROWID;
                    CREATE TABLE alert_state (id TEXT PRIMARY KEY, record BLOB NOT NULL) WITHOUT ROWID;
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                    """)
        }
        // Production totals per device and craftsman since the first reading, never pruned:
        // what Prometheus sees as counters. Backfilled from the hourly rows still kept.
        m.registerMigration("v2-totals") { db in
            let cols = metricColumns.map { "\($0) REAL NOT NULL DEFAULT 0" }.joined(separator: ", ")
            let sums = metricColumns.map { "SUM(\($0))" }.joined(separator: ", ")
            try db.execute(
                sql: """
                    CREATE TABLE total (
                        device TEXT NOT NULL, craftsman TEXT NOT NULL,
                        kind TEXT NOT NULL, workshop TEXT NOT NULL, loom TEXT NOT NULL,
                        \(cols),
                        PRIMARY KEY (device, craftsman)
                    ) WITHOUT ROWID;
                    INSERT INTO total (device, craftsman, kind, workshop, loom, \(metricColumns.joined(separator: ", ")))
                    SELECT device, craftsman, MAX(kind), MAX(workshop), MAX(loom), \(sums) FROM hourly GROUP BY device, craftsman;
                    """)
        }
        // When each device was last heard on the daemon's clock: silence after a restart is
        // measured from it.
        m.registerMigration("v3-heard") { db in
            try db.execute(sql: "ALTER TABLE device_state ADD COLUMN heard_at INTEGER")
        }
        // The highest event time accepted from each device (above last_ts after its clock
        // stepped back); NULL in older rows, read as last_ts.
        m.registerMigration("v4-highest-ts") { db in
            try db.execute(sql: "ALTER TABLE device_state ADD COLUMN highest_ts INTEGER")
        }
        // Off-the-shelf devices: each one's clock skew, and the topics no device claims.
        m.registerMigration("v5-devices", migrate: migrateDevices)
        m.registerMigration("v6-orders", migrate: migrateOrders)
        m.registerMigration("v7-access", migrate: migrateAccess)
        return m
    }

    /// `meta` keys the commit writes with the counts: how far the receive journal has been
    /// counted, and the alert log's last line whose effect the alert states include.
    public static let journalMarkKey = "receive_journal"
    public static let alertLogSeqKey = "alert_log_seq"

    // MARK: Writing (the ingest thread)

    /// What one commit writes.
    public struct Batch {
        public var deltas: BucketDeltas
        public var devices: [(key: DeviceKey, state: DeviceState)]
        public var alertStates: [(id: String, record: Data?)]
        /// `alertStates` replace every alert row (the engine's slot set changed).
        public var replaceAlertStates: Bool
        /// Small key/value facts committed alongside (ingest counts for `sentractl status`).
        public var meta: [(key: String, value: String)]
        /// Topics no device claims, seen since the last commit (`sentractl devices unknown`).
        public var unknownTopics: [UnknownTopic] = []
        public init(
            deltas: BucketDeltas, devices: [(key: DeviceKey, state: DeviceState)], alertStates: [(id: String, record: Data?)] = [],
            replaceAlertStates: Bool = false, meta: [(key: String, value: String)] = [], unknownTopics: [UnknownTopic] = []
        ) {
            self.unknownTopics = unknownTopics
            self.replaceAlertStates = replaceAlertStates
            self.deltas = deltas
            self.devices = devices
            self.alertStates = alertStates
            self.meta = meta
        }
    }

    static let metricColumns = Metric.allCases.map(\.column)
    static let upsertHourly: String = {
        let cols = metricColumns.joined(separator: ", ")
        let qs = metricColumns.map { _ in "?" }.joined(separator: ", ")
        let sets = metricColumns.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO hourly (hour, day, device, kind, workshop, loom, craftsman, \(cols))
            VALUES (?, ?, ?, ?, ?, ?, ?, \(qs))
            ON CONFLICT (hour, device, craftsman) DO UPDATE SET \(sets)
            """
    }()
    static let upsertTotal: String = {
        let cols = metricColumns.joined(separator: ", ")
        let qs = metricColumns.map { _ in "?" }.joined(separator: ", ")
        let sets = metricColumns.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO total (device, craftsman, kind, workshop, loom, \(cols))
            VALUES (?, ?, ?, ?, ?, \(qs))
            ON CONFLICT (device, craftsman) DO UPDATE SET loom = excluded.loom, \(sets)
            """
    }()

    // Long: every table one commit touches, in one transaction, statement by statement.
    /// Writes deltas, device states, alert states and meta in one transaction. `beforeCommit`
    /// runs inside it, after the writes (a test's fault-injection point).
    public func commit(_ batch: Batch, registry: Registry, calendar: LocalCalendar, beforeCommit: () -> Void = {}) throws {
        var calendar = calendar
        try pool.write { db in
            if !batch.deltas.isEmpty {
                let stmt = try db.cachedStatement(sql: Self.upsertHourly)
                let totals = try db.cachedStatement(sql: Self.upsertTotal)
                for (key, bucket) in batch.deltas.buckets {
                    let d = registry.devices[Int(key.device)]
                    let craftsman = key.craftsman >= 0 ? registry.craftsmen[Int(key.craftsman)].id : ""
                    let deviceKey = d.key.description
                    var values: [(any DatabaseValueConvertible)?] = []
                    for m in Metric.allCases { values.append(bucket[m]) }
                    try stmt.execute(
                        arguments: StatementArguments(
                            [
                                key.hour, calendar.date(atMillis: key.hour * 1000), deviceKey, d.kind.rawValue, d.workshop,
                                d.loom ?? "", craftsman,
                            ] + values))
                    try totals.execute(
                        arguments: StatementArguments([deviceKey, craftsman, d.kind.rawValue, d.workshop, d.loom ?? ""] + values))
                }
            }
            if !batch.devices.isEmpty {
                let ds = try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO device_state
                        (device, last_ts, last_seq, state, state_ts, voltage, voltage_ts, has_run_counter, offline_since, heard_at, highest_ts,
                         skew_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                let cs = try db.cachedStatement(
                    sql: "INSERT OR REPLACE INTO counter (device, field, value, ts, pending_value, pending_ts) VALUES (?, ?, ?, ?, ?, ?)")
                for (device, s) in batch.devices {
                    let key = device.description
                    try ds.execute(arguments: [
                        key, s.lastTs, s.lastSeq, s.state.map { Int($0.rawValue) }, s.stateTs, s.voltage, s.voltageTs,
                        s.hasRunCounter, s.offlineSince, s.heardAt, s.highestTs, s.skewMs,
                    ])
                    for f in Field.allCases {
                        if let c = s[counter: f] {
                            try cs.execute(arguments: [key, f.wireName, c.value, c.ts, c.pendingValue, c.pendingTs])
                        }
                    }
                }
            }
            try Self.saveUnknownTopics(batch.unknownTopics, db)
            for (key, value) in batch.meta {
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
            }
            if batch.replaceAlertStates { try db.execute(sql: "DELETE FROM alert_state") }
            for (id, record) in batch.alertStates {
                if let record {
                    try db.execute(sql: "INSERT OR REPLACE INTO alert_state (id, record) VALUES (?, ?)", arguments: [id, record])
                } else {
                    try db.execute(sql: "DELETE FROM alert_state WHERE id = ?", arguments: [id])
                }
            }
            beforeCommit()
        }
        noteCommitted()
    }

    /// After a commit: the identity file is written once (retried at the next commit if it fails).
    private func noteCommitted() {
        identityLock.lock()
        defer { identityLock.unlock() }
        if !identityRecorded { identityRecorded = (try? Self.recordIdentity(identity, path: path)) != nil }
    }

    /// Device states as last committed (stored under the key's text form, `workshop/kind/id`).
    public func loadDeviceStates() throws -> [DeviceKey: DeviceState] {
        try pool.read { db in
            var out: [DeviceKey: DeviceState] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM device_state") {
                var s = DeviceState()
                s.lastTs = row["last_ts"]
                s.lastSeq = row["last_seq"]
                s.state = (row["state"] as Int?).flatMap { LoomState(rawValue: UInt8($0)) }
                s.stateTs = row["state_ts"]
                s.voltage = row["voltage"]
                s.voltageTs = row["voltage_ts"]
                s.hasRunCounter = row["has_run_counter"]
                s.offlineSince = row["offline_since"]
                s.heardAt = row["heard_at"]
                s.highestTs = row["highest_ts"]
                s.skewMs = row["skew_ms"]
                if let key = DeviceKey(row["device"] as String) { out[key] = s }
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM counter") {
                guard let key = DeviceKey(row["device"] as String), let f = Field(wireName: row["field"]) else { continue }
                var s = out[key] ?? DeviceState()
                s[counter: f] = CounterBaseline(
                    value: row["value"], ts: row["ts"], pendingValue: row["pending_value"], pendingTs: row["pending_ts"])
                out[key] = s
            }
            return out
        }
    }

    public func loadAlertStates() throws -> [(id: String, record: Data)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, record FROM alert_state").map { ($0["id"], $0["record"]) }
        }
    }

    public func meta(_ key: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    /// Size of the database and its WAL, bytes.
    public func sizeOnDisk() -> Int64 {
        [path, path + "-wal"].reduce(0) { sum, p in
            sum + ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? 0)
        }
    }

    /// Compacts the WAL into the database file (cheap; done after large writes and at stop).
    public func checkpoint() throws {
        _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }
}

/// Everything one device counted for one craftsman ('' for its workshop) since it was first
/// heard: monotonic, never pruned, the source of the production counters in `/metrics`.
public struct DeviceTotal: Sendable, Equatable {
    /// `workshop/kind/id`, a `DeviceKey`'s text form.
    public var device: String
    public var deviceID: String
    public var kind: String
    public var workshop: String
    public var loom: String
    public var craftsman: String
    public var values: [Double]
    public subscript(_ m: Metric) -> Double { values[m.rawValue] }
}

extension ProductionStore {
    /// The production totals, one row per device and craftsman.
    public func totals() throws -> [DeviceTotal] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM total ORDER BY device, craftsman").map { row in
                let key: String = row["device"]
                return DeviceTotal(
                    device: key, deviceID: DeviceKey(key)?.id ?? key,
                    kind: row["kind"], workshop: row["workshop"], loom: row["loom"], craftsman: row["craftsman"],
                    values: Metric.allCases.map { row[$0.column] ?? 0 })
            }
        }
    }
}

extension ProductionStore {
    /// Pieces per craftsman (or of one), local day and local hour of day (0...23) for days
    /// `from` through `to`, inclusive. `utcOffset` is the sentra's offset in seconds (hours
    /// are stored as UTC seconds).
    public func piecesByHour(
        craftsman: String? = nil, from: String, to: String, utcOffset: Int64
    ) throws -> [String: [String: [Double]]] {
        try pool.read { db in
            var out: [String: [String: [Double]]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT craftsman, day, ((hour + ?) / 3600) % 24 AS h, SUM(pieces) AS pieces
                    FROM hourly WHERE kind = 'loom' AND craftsman != '' AND day >= ? AND day <= ?
                    AND (? IS NULL OR craftsman = ?)
                    GROUP BY craftsman, day, h
                    """, arguments: [utcOffset, from, to, craftsman, craftsman])
            while let row = try rows.next() {
                let c: String = row["craftsman"]
                let d: String = row["day"]
                let h: Int = row["h"]
                guard (0..<24).contains(h) else { continue }
                out[c, default: [:]][d, default: [Double](repeating: 0, count: 24)][h] += row["pieces"] ?? 0
            }
            return out
        }
    }

    /// Each craftsman's pieces per local hour on each of his last `days` working days (days
    /// he made anything) before local date `before`, newest first, found within the 3 × `days`
    /// days before it: what his usual is the median of, for the `production_low` rule and for
    /// the dashboard alike. `craftsman` narrows it to one.
    public func workingDayHours(
        craftsman: String? = nil, before: String, days: Int, utcOffset: Int64
    ) throws -> [String: [[Double]]] {
        guard let end = LocalCalendar.daysSinceEpoch(before), days > 0 else { return [:] }
        let byDay = try piecesByHour(
            craftsman: craftsman, from: LocalCalendar.civilDate(daysSinceEpoch: end - Int64(days) * 3),
            to: LocalCalendar.civilDate(daysSinceEpoch: end - 1), utcOffset: utcOffset)
        return byDay.mapValues { hoursOf in
            hoursOf.filter { $0.value.reduce(0, +) > 0 }.sorted { $0.key > $1.key }.prefix(days).map(\.value)
        }
    }
}
