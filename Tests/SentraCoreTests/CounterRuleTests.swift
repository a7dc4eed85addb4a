import Foundation
import Testing

@testable import SentraCore

/// A one-loom sentra and a pipeline, driven message by message in virtual time.
struct Harness {
    static let t0: Int64 = 1_764_000_000_000  // 2025-11-24T16:00:00Z, 23:00 in Jakarta
    var pipeline: IngestPipeline
    var now: Int64 = Harness.t0 + 86_400_000

    init(registry: Registry = Harness.registry(), settings: IngestSettings = .init()) {
        pipeline = IngestPipeline(registry: registry, settings: settings, calendar: LocalCalendar(identifier: "Asia/Jakarta")!)
    }

    static func registry(
        looms: [(String, String, [Assignment])] = [("loom-1", "ws-1", [Assignment(craftsman: "c-a", since: .min)])],
        craftsmen: [String] = ["c-a", "c-b"], meters: [Device] = []
    ) -> Registry {
        Registry(
            name: "test", workshops: [Workshop(id: "ws-1", name: "one", shift: .always)],
            craftsmen: craftsmen.map { Craftsman(id: $0, name: $0, workshop: "ws-1") },
            looms: looms.map { Loom(id: $0.0, workshop: $0.1, assignments: $0.2) },
            devices: looms.map { Device(id: $0.0, workshop: $0.1, kind: .loom, binding: .loom($0.0)) } + meters)
    }

    mutating func send(_ json: String) { send(topic: "sentra/ws-1/loom/loom-1", json) }

    mutating func send(topic: String, _ json: String) {
        pipeline.ingest(topic: topic, payload: Array(json.utf8), now: now)
    }

    func total(_ m: Metric) -> Double { pipeline.deltas.buckets.values.reduce(0) { $0 + $1[m] } }
    func rejected(_ r: RejectReason) -> UInt64 { pipeline.stats[r] }
}

@Suite struct CounterRuleTests {
    let t = Harness.t0

    @Test func firstValueIsABaselineAndIncreasesCount() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"picks":1000}"#)
        #expect(h.total(.picks) == 0)
        h.send(#"{"ts":\#(t + 10_000),"picks":1010}"#)
        h.send(#"{"ts":\#(t + 20_000),"picks":1025}"#)
        #expect(h.total(.picks) == 25)
    }

    @Test func duplicateSeqAddsNothing() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"seq":1,"picks":10}"#)
        h.send(#"{"ts":\#(t + 1000),"seq":2,"picks":20}"#)
        h.send(#"{"ts":\#(t + 1000),"seq":2,"picks":20}"#)
        h.send(#"{"ts":\#(t + 500),"seq":1,"picks":10}"#)
        #expect(h.total(.picks) == 10)
        #expect(h.rejected(.duplicate) == 2)
        // A lower seq with a later ts: the board restarted its numbering.
        h.send(#"{"ts":\#(t + 2000),"seq":1,"picks":30}"#)
        #expect(h.total(.picks) == 20)
    }

    @Test func outOfOrderAddsNothing() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"picks":10}"#)
        h.send(#"{"ts":\#(t + 2000),"picks":30}"#)
        h.send(#"{"ts":\#(t + 1000),"picks":20}"#)
        #expect(h.total(.picks) == 20)
        #expect(h.rejected(.outOfOrder) == 1)
    }

    @Test func glitchToZeroAndBackCountsNothing() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"picks":500}"#)
        h.send(#"{"ts":\#(t + 10_000),"picks":0}"#)
        #expect(h.total(.picks) == 0)
        h.send(#"{"ts":\#(t + 20_000),"picks":510}"#)
        #expect(h.total(.picks) == 10)
        #expect(h.pipeline.stats.glitches == 1)
        #expect(h.pipeline.stats.resets == 0)
    }

    @Test func confirmedRebootCountsTheNewValue() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"picks":500}"#)
        h.send(#"{"ts":\#(t + 10_000),"picks":3}"#)
        h.send(#"{"ts":\#(t + 20_000),"picks":12}"#)
        #expect(h.total(.picks) == 12)
        h.send(#"{"ts":\#(t + 30_000),"picks":20}"#)
        #expect(h.total(.picks) == 20)
        #expect(h.pipeline.stats.resets == 1)
    }

    /// A board replaced by one that already counted (or preset): the dip and the lower
    /// confirming value look like a reboot, but its whole total is no increase since then.
    @Test func aConfirmedResetToAnImplausibleTotalCountsNothing() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"picks":500000}"#)
        h.send(#"{"ts":\#(t + 10_000),"picks":400000}"#)
        h.send(#"{"ts":\#(t + 20_000),"picks":400010}"#)
        #expect(h.total(.picks) == 0)
        #expect(h.rejected(.implausible) == 1)
        h.send(#"{"ts":\#(t + 30_000),"picks":400020}"#)
        #expect(h.total(.picks) == 10)
    }

    @Test func implausibleJumpCountsNothingAndMovesTheBaseline() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"picks":100}"#)
        h.send(#"{"ts":\#(t + 10_000),"picks":100100}"#)
        #expect(h.total(.picks) == 0)
        #expect(h.rejected(.implausible) == 1)
        h.send(#"{"ts":\#(t + 20_000),"picks":100110}"#)
        #expect(h.total(.picks) == 10)
    }

    @Test func negativeAndNaNAreRejected() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"picks":100}"#)
        h.send(#"{"ts":\#(t + 1000),"picks":-5}"#)
        h.send(#"{"ts":\#(t + 2000),"picks":NaN}"#)
        h.send(#"{"ts":\#(t + 3000),"picks":110}"#)
        #expect(h.rejected(.negativeCounter) == 1)
        #expect(h.rejected(.notFinite) == 1)
        #expect(h.total(.picks) == 10)
    }

    @Test func eventTimeWindow() {
        var h = Harness()
        h.send(#"{"ts":\#(h.now - 8 * 86_400_000),"picks":1}"#)
        h.send(#"{"ts":\#(h.now + 6 * 60_000),"picks":1}"#)
        #expect(h.rejected(.tooOld) == 1)
        #expect(h.rejected(.inFuture) == 1)
        h.send(#"{"picks":1}"#)
        #expect(h.pipeline.stats.accepted == 1)
    }

    @Test func unknownDeviceAndTopic() {
        var h = Harness()
        h.send(topic: "sentra/ws-1/loom/nobody", #"{"picks":1}"#)
        h.send(topic: "sentra/ws-1/power/loom-1", #"{"v":220}"#)
        h.send(topic: "sentra/ws 1/loom/x", #"{"picks":1}"#)
        #expect(h.rejected(.unknownDevice) == 2)
        #expect(h.rejected(.badTopic) == 1)
    }

    @Test func runningTimeFromStateHoldsUntilStaleness() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"state":"run"}"#)
        h.send(#"{"ts":\#(t + 60_000),"state":"stop"}"#)
        h.send(#"{"ts":\#(t + 90_000),"state":"run"}"#)
        // Silent for an hour: only 5 minutes of running count.
        h.send(#"{"ts":\#(t + 90_000 + 3_600_000),"state":"stop"}"#)
        #expect(h.total(.runMs) == 60_000 + 300_000)
        #expect(h.total(.stopMs) == 30_000)
        #expect(h.total(.stoppages) == 2)
    }

    @Test func runCounterWinsOverState() {
        var h = Harness()
        h.send(#"{"ts":\#(t),"state":"run","run_s":100}"#)
        h.send(#"{"ts":\#(t + 60_000),"state":"run","run_s":150}"#)
        #expect(h.total(.runMs) == 50_000)
    }
}
