import Foundation
import SentraTestSupport
import Testing

@testable import SentraCore

/// A board's clock running ahead and stepping back, duplicates against restarted numbering,
/// and what a reading without `seq` can and cannot tell (docs/protocol.md, "Duplicates, order
/// and a board's clock").
@Suite struct ClockStepTests {
    /// 22:58:00 in Jakarta (UTC+7, no DST): a reading 299 s ahead falls in the next local hour.
    static let now = at("2025-11-25T22:58:00")
    static let hour22 = at("2025-11-25T22:00:00") / 1000
    static let hour23 = at("2025-11-25T23:00:00") / 1000

    func harness() -> PipelineHarness {
        var h = PipelineHarness()
        h.now = Self.now
        return h
    }

    func inHour(_ h: PipelineHarness, _ hour: Int64, _ m: Metric) -> Double {
        h.pipeline.deltas.buckets.filter { $0.key.hour == hour }.reduce(0) { $0 + $1.value[m] }
    }

    @Test func aHigherSeqAtAnEarlierTimeIsAClockStepAndCountsAtItsOwnTime() {
        var h = harness()
        let now = Self.now
        // 22:57:50, the baseline; running from here.
        h.send(#"{"ts":\#(now - 10_000),"seq":9,"picks":100,"state":"run"}"#)
        // 23:02:59 on a clock 299 s ahead: accepted (within 5 minutes).
        h.send(#"{"ts":\#(now + 299_000),"seq":10,"picks":110,"state":"run"}"#)
        // NTP corrects the clock: 22:58:01 and 22:58:11, real times.
        h.send(#"{"ts":\#(now + 1000),"seq":11,"picks":115,"state":"run"}"#)
        h.send(#"{"ts":\#(now + 11_000),"seq":12,"picks":122,"state":"run"}"#)
        #expect(h.pipeline.stats.accepted == 4)
        #expect(h.rejected(.outOfOrder) == 0)
        #expect(h.rejected(.duplicate) == 0)
        #expect(h.rejected(.implausible) == 0)
        // 10 at 23:02:59, then 5 and 7 at 22:58:01 and 22:58:11.
        #expect(h.total(.picks) == 22)
        #expect(inHour(h, Self.hour23, .picks) == 10)
        #expect(inHour(h, Self.hour22, .picks) == 12)
        // Running: 22:57:50 to 23:02:59 held at most 5 min past 22:57:50, so to 23:02:50:
        // 130 s before 23:00 and 170 s after; the step back adds nothing; 22:58:01 to
        // 22:58:11 adds 10 s.
        #expect(inHour(h, Self.hour22, .runMs) == 140_000)
        #expect(inHour(h, Self.hour23, .runMs) == 170_000)
        #expect(h.total(.runMs) == 310_000)
        #expect(h.pipeline.devices[0].lastTs == now + 11_000)
        #expect(h.pipeline.devices[0].highestTs == now + 299_000)

        // The reading from the future and the first after the step, delivered again: a lower
        // seq at no later time than the highest accepted is a duplicate.
        h.send(#"{"ts":\#(now + 299_000),"seq":10,"picks":110,"state":"run"}"#)
        h.send(#"{"ts":\#(now + 1000),"seq":11,"picks":115,"state":"run"}"#)
        #expect(h.rejected(.duplicate) == 2)
        #expect(h.total(.picks) == 22)
        #expect(h.total(.runMs) == 310_000)
    }

    @Test func afterAStepBackTheVoltageHoldsAgainFromTheNextReading() {
        let now = Self.now
        let topic = "sentra/ws-1/power/pm-1"
        var h = PipelineHarness(
            registry: PipelineHarness.registry(meters: [Device(id: "pm-1", workshop: "ws-1", kind: .power, binding: .workshop)]))
        h.now = now
        // 100 V is out of band: its time is counted.
        h.send(topic: topic, #"{"ts":\#(now + 200_000),"seq":1,"v":100}"#)
        // The step back carries no voltage: the 100 V still holds, from this reading on.
        h.send(topic: topic, #"{"ts":\#(now),"seq":2,"w":50}"#)
        h.send(topic: topic, #"{"ts":\#(now + 30_000),"seq":3,"w":50}"#)
        #expect(h.pipeline.stats.accepted == 3)
        // Nothing for the step back, the 30 s after it.
        #expect(h.total(.vOutMs) == 30_000)
    }

    @Test func sameSeqOrLowerAtNoLaterTimeIsADuplicateLowerAtALaterTimeRestartsNumbering() {
        var h = harness()
        let t = Self.now - 120_000
        h.send(#"{"ts":\#(t),"seq":5,"picks":10}"#)
        h.send(#"{"ts":\#(t + 10_000),"seq":6,"picks":20}"#)
        // Same seq, even at a later time.
        h.send(#"{"ts":\#(t + 20_000),"seq":6,"picks":30}"#)
        // Lower seq at an earlier time.
        h.send(#"{"ts":\#(t + 5000),"seq":3,"picks":15}"#)
        // Lower seq at the very time of the last.
        h.send(#"{"ts":\#(t + 10_000),"seq":4,"picks":20}"#)
        #expect(h.rejected(.duplicate) == 3)
        #expect(h.total(.picks) == 10)
        // Lower seq at a later time: the board restarted its numbering.
        h.send(#"{"ts":\#(t + 30_000),"seq":1,"picks":25}"#)
        h.send(#"{"ts":\#(t + 40_000),"seq":2,"picks":27}"#)
        #expect(h.pipeline.stats.accepted == 4)
        #expect(h.total(.picks) == 17)
        #expect(h.rejected(.outOfOrder) == 0)
    }

    @Test func afterAStepALowerSeqIsADuplicateUntilItIsLaterThanTheHighestTime() {
        var h = harness()
        let now = Self.now
        h.send(#"{"ts":\#(now + 299_000),"seq":10,"picks":100}"#)
        h.send(#"{"ts":\#(now + 1000),"seq":11,"picks":105}"#)
        // Later than the last accepted time, not later than the highest: a duplicate (with
        // only the last time to go by it would pass for restarted numbering).
        h.send(#"{"ts":\#(now + 100_000),"seq":3,"picks":200}"#)
        #expect(h.rejected(.duplicate) == 1)
        #expect(h.total(.picks) == 5)
        // Later than the highest: restarted numbering.
        h.send(#"{"ts":\#(now + 299_500),"seq":1,"picks":106}"#)
        #expect(h.rejected(.duplicate) == 1)
        #expect(h.pipeline.stats.accepted == 3)
        #expect(h.total(.picks) == 6)
    }

    @Test func withoutSeqAStepBackStaysOutOfOrder() {
        var h = harness()
        let now = Self.now
        h.send(#"{"ts":\#(now - 10_000),"picks":100,"state":"run"}"#)
        h.send(#"{"ts":\#(now + 299_000),"picks":110,"state":"run"}"#)
        h.send(#"{"ts":\#(now + 1000),"picks":115,"state":"run"}"#)
        h.send(#"{"ts":\#(now + 11_000),"picks":122,"state":"run"}"#)
        #expect(h.rejected(.outOfOrder) == 2)
        #expect(h.total(.picks) == 10)
        // A seq now is no help: there is no earlier one to be higher than.
        h.send(#"{"ts":\#(now + 21_000),"seq":50,"picks":130}"#)
        #expect(h.rejected(.outOfOrder) == 3)
        // Once the real time passes the reading from the future, readings count again.
        h.now = now + 300_000
        h.send(#"{"ts":\#(now + 300_000),"picks":140,"state":"run"}"#)
        #expect(h.total(.picks) == 40)
        #expect(h.pipeline.stats.accepted == 3)
    }

    @Test func aReadingWithoutSeqAtAnEarlierTimeIsOutOfOrder() {
        var h = harness()
        let now = Self.now
        h.send(#"{"ts":\#(now),"seq":1,"picks":100}"#)
        // No seq at an earlier time: out of order.
        h.send(#"{"ts":\#(now - 1000),"picks":101}"#)
        #expect(h.rejected(.outOfOrder) == 1)
        #expect(h.total(.picks) == 0)
    }

    /// State saved before the highest time was kept (nil) reads as the last accepted time.
    @Test func stateWithoutTheHighestTimeUsesTheLastTime() {
        let now = Self.now
        var saved = DeviceState()
        saved.lastTs = now
        saved.lastSeq = 7
        let key = DeviceKey(workshop: "ws-1", kind: .loom, id: "loom-1")
        var h = harness()
        h.pipeline = IngestPipeline(
            registry: PipelineHarness.registry(), calendar: LocalCalendar(identifier: "Asia/Jakarta")!, devices: [key: saved])
        h.send(#"{"ts":\#(now - 1000),"seq":6,"picks":1}"#)
        #expect(h.rejected(.duplicate) == 1)
        h.send(#"{"ts":\#(now + 1000),"seq":6,"picks":1}"#)
        #expect(h.pipeline.stats.accepted == 1)
        #expect(h.pipeline.devices[0].highestTs == now + 1000)
    }
}
