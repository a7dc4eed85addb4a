import Foundation
import GRDB
import SentraConfig
import SentraCore
import SentraTestSupport
import Testing

@testable import SentraStore

#if canImport(Glibc)
    import Glibc
#endif

/// Opening the state database: a damaged file and a lost history are refused, with nothing
/// changed; a new state directory starts.
@Suite struct StoreIntegrityTests {
    /// A database that has counted one reading of one loom.
    static func counted(_ dir: String) throws -> String {
        let path = dir + "/sentra.sqlite"
        let c = try Configuration.load(path: exampleConfigPath)
        let store = try ProductionStore(path: path)
        var deltas = BucketDeltas()
        deltas.add(BucketKey(hour: 1_764_000_000 / 3600 * 3600, device: 0, craftsman: -1), .kwh, 1.5)
        try store.commit(
            .init(deltas: deltas, devices: [], meta: [(ProductionStore.journalMarkKey, "abc:4096")]), registry: c.registry,
            calendar: c.calendar)
        try store.checkpoint()
        return path
    }

    static func overwrite(_ path: String, at offset: Int, bytes count: Int) throws {
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let garbage = [UInt8]((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
        #expect(garbage.withUnsafeBytes { pwrite(fd, $0.baseAddress, count, off_t(offset)) } == count)
    }

    @Test func aNewStateDirectoryStartsAndRecordsItsIdentityAtTheFirstCommit() throws {
        let dir = temporaryDirectory()
        let path = dir + "/sentra.sqlite"
        _ = try ProductionStore(path: path)
        #expect(!FileManager.default.fileExists(atPath: ProductionStore.identityPath(path)), "nothing counted yet")
        _ = try Self.counted(dir)
        let recorded = try String(contentsOfFile: ProductionStore.identityPath(path), encoding: .utf8)
        let store = try ProductionStore(path: path)
        #expect(try store.meta(ProductionStore.identityKey).map { $0 + "\n" } == recorded)
        #expect(try store.totals().first?[.kwh] == 1.5)
    }

    @Test func garbageInsideTheDatabaseIsDamage() throws {
        let path = try Self.counted(temporaryDirectory())
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        // Every page after the first (the header stays, so SQLite opens it).
        try Self.overwrite(path, at: 4096, bytes: size - 4096)
        for open in [{ _ = try ProductionStore(path: path) }, { _ = try ProductionStore(readingFrom: path) }] {
            let error = try #require(throws: StoreError.self) { try open() }
            #expect(error.kind == .damaged)
            #expect(error.isDamagedState)
            #expect(error.message.contains("is damaged") && error.message.contains(path), "\(error)")
        }
    }

    @Test func aBrokenHeaderIsDamage() throws {
        let path = try Self.counted(temporaryDirectory())
        try Self.overwrite(path, at: 0, bytes: 100)
        let error = try #require(throws: StoreError.self) { _ = try ProductionStore(path: path) }
        #expect(error.kind == .damaged, "\(error)")
        #expect(try #require(throws: StoreError.self) { _ = try ProductionStore(readingFrom: path) }.kind == .damaged)
    }

    @Test func anEmptyOrMissingDatabaseWhereHistoryExistedIsRefused() throws {
        let path = try Self.counted(temporaryDirectory())
        #expect(truncate(path, 0) == 0)
        for open in [{ _ = try ProductionStore(path: path) }, { _ = try ProductionStore(readingFrom: path) }] {
            let error = try #require(throws: StoreError.self) { try open() }
            #expect(error.kind == .historyLost)
            #expect(error.message.contains("is empty (0 bytes)") && error.message.contains(".identity"), "\(error)")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 0, "left as it was")
        try FileManager.default.removeItem(atPath: path)
        let missing = try #require(throws: StoreError.self) { _ = try ProductionStore(path: path) }
        #expect(missing.kind == .historyLost && missing.message.contains("is missing"), "\(missing)")
        #expect(!FileManager.default.fileExists(atPath: path), "not created")
        // Moving the identity file aside starts an empty history on purpose.
        try FileManager.default.removeItem(atPath: ProductionStore.identityPath(path))
        #expect(try ProductionStore(path: path).totals().isEmpty)
    }

    @Test func anotherDatabaseWhereHistoryExistedIsRefused() throws {
        let dir = temporaryDirectory()
        let path = try Self.counted(dir)
        let other = try Self.counted(temporaryDirectory())
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: other, toPath: path)
        let error = try #require(throws: StoreError.self) { _ = try ProductionStore(path: path) }
        #expect(error.kind == .historyLost && error.message.contains("is another database"), "\(error)")
    }

    @Test func aDatabaseFromBeforeIdentityFilesGetsOneWhenItHasCounted() throws {
        let dir = temporaryDirectory()
        let path = try Self.counted(dir)
        try FileManager.default.removeItem(atPath: ProductionStore.identityPath(path))
        _ = try ProductionStore(path: path)
        #expect(FileManager.default.fileExists(atPath: ProductionStore.identityPath(path)))
    }

    /// A downgrade: a newer Sentra added a schema step. Both opens refuse, naming it, and the
    /// file is left as it was; it is not damage (the commands exit 1, not 2).
    @Test func aDatabaseANewerSentraMigratedIsRefusedUnchanged() throws {
        let path = try Self.counted(temporaryDirectory())
        try Self.sql(path, "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        let before = try Self.contents(path)
        for open in [{ _ = try ProductionStore(path: path) }, { _ = try ProductionStore(readingFrom: path) }] {
            let error = try #require(throws: StoreError.self) { try open() }
            #expect(error.kind == .newerSchema)
            #expect(!error.isDamagedState)
            #expect(error.message.contains("v99-from-the-future") && error.message.contains(path), "\(error)")
            #expect(error.message.contains("up to \(ProductionStore.schemaSteps.last ?? "?")"), "\(error)")
        }
        #expect(try Self.contents(path) == before, "schema, steps, meta and rows as they were")
    }

    /// A new database records every step this version knows, in order, and nothing else.
    @Test func aNewDatabaseRecordsTheKnownSchemaSteps() throws {
        let path = temporaryDirectory() + "/sentra.sqlite"
        _ = try ProductionStore(path: path)
        let steps = ProductionStore.schemaSteps
        #expect(steps.first == "v1" && steps.count >= 7)
        // A step that shipped never changes or moves: a newer version only appends.
        let shipped = ["v1", "v2-totals", "v3-heard", "v4-highest-ts", "v5-devices", "v6-orders", "v7-access"]
        #expect(Array(steps.prefix(shipped.count)) == shipped)
        #expect(try Self.sql(path, "SELECT identifier FROM grdb_migrations ORDER BY rowid") == steps)
    }

    /// What the database holds: its schema, schema steps, meta and hourly rows, as text.
    static func contents(_ path: String) throws -> [String] {
        try sql(path, "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master ORDER BY name)")
            + sql(path, "SELECT group_concat(identifier) FROM (SELECT identifier FROM grdb_migrations ORDER BY 1)")
            + sql(path, "SELECT group_concat(key || '=' || value) FROM (SELECT * FROM meta ORDER BY key)")
            + sql(path, "SELECT count(*) || ':' || total(kwh) FROM hourly")
    }

    /// Runs `sql` on the database with a connection of its own; the first column of each row.
    @discardableResult
    static func sql(_ path: String, _ sql: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        return try queue.write { db in try String.fetchAll(db, sql: sql) }
    }

    @Test func writeFailuresAreNamed() {
        #expect(StoreFailure(StoreError(.damaged, "x")) == .damaged)
        #expect(StoreFailure(StoreError(message: "x")) == .other)
        #expect(StoreFailure(NSError(domain: "x", code: 1, userInfo: [NSLocalizedDescriptionKey: "No space left on device"])) == .diskFull)
    }
}
