import Foundation
import SentraTestSupport
import Testing

@testable import SentraCore
@testable import SentraStore

/// A device's highest accepted `ts` (kept for a board's clock stepping back) is committed with
/// the rest of its state, and a database from before it was kept still loads.
@Suite struct DeviceStateStoreTests {
    let calendar = LocalCalendar(identifier: "Asia/Jakarta")!
    let key = DeviceKey(workshop: "ws-1", kind: .loom, id: "loom-1")

    func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sentra-test-\(UUID().uuidString)/sentra.sqlite").path
    }

    @Test func theHighestTimeIsCommittedAndLoaded() throws {
        let p = path()
        var s = DeviceState()
        s.lastTs = 1_000
        s.lastSeq = 11
        s.highestTs = 299_000
        try ProductionStore(path: p).commit(
            .init(deltas: BucketDeltas(), devices: [(key, s)]), registry: PipelineHarness.registry(), calendar: calendar)
        let loaded = try ProductionStore(path: p).loadDeviceStates()[key]
        #expect(loaded?.highestTs == 299_000 && loaded?.lastTs == 1_000 && loaded?.lastSeq == 11)
    }

    @Test func aDatabaseFromBeforeTheHighestTimeLoadsWithoutIt() throws {
        let p = path()
        // A database as the previous version left it: no highest_ts column, no such migration.
        let old = try ProductionStore(path: p)
        try old.pool.write { db in
            try db.execute(sql: "ALTER TABLE device_state DROP COLUMN highest_ts")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v4-highest-ts'")
            try db.execute(
                sql: "INSERT INTO device_state (device, last_ts, last_seq, has_run_counter) VALUES ('ws-1/loom/loom-1', 5000, 7, 0)")
        }
        let loaded = try ProductionStore(path: p).loadDeviceStates()[key]
        #expect(loaded?.lastTs == 5000 && loaded?.lastSeq == 7)
        #expect(loaded?.highestTs == nil)
        // The pipeline takes the last time for the highest: a lower seq at it is a duplicate.
        var h = PipelineHarness()
        h.pipeline = IngestPipeline(registry: PipelineHarness.registry(), calendar: calendar, devices: [key: try #require(loaded)])
        h.now = 6000
        h.send(#"{"ts":5000,"seq":6,"picks":1}"#)
        #expect(h.rejected(.duplicate) == 1)
    }
}
