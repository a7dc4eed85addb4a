import Foundation
import SentraTestSupport
import Testing

@testable import SentraCore

@Suite struct CounterRuleTests {
    let t = PipelineHarness.t0

    @Test func plausibleRatesAnswerByFieldAndFollowAChangedLimit() {
        var rates = PlausibleRates()
        #expect(rates.limit(.picks) == 300 && rates.limit(.kwh) == 0.5)
        #expect(rates.limit(.v) == .infinity)
        rates.perMinute[.picks] = 900
        rates.perMinute[.v] = 5
        #expect(rates.limit(.picks) == 900 && rates.limit(.v) == 5)
        rates.perMinute = [:]
        #expect(rates.limit(.picks) == .infinity)
        #expect(PlausibleRates() != rates && PlausibleRates() == PlausibleRates())
    }

    @Test func aDeviceStatesCountersCompareSlotBySlot() {
        var a = DeviceState()
        var b = DeviceState()
        #expect(a == b)
        a[counter: .picks] = CounterBaseline(value: 10, ts: 1)
        #expect(a != b)
        b[counter: .picks] = CounterBaseline(value: 10, ts: 1)
        #expect(a == b)
        b[counter: .runS] = CounterBaseline(value: 1, ts: 1)
        #expect(a != b && b[counter: .runS]?.value == 1 && b[counter: .v] == nil)
    }

    @Test func firstValueIsABaselineAndIncreasesCount() {
        var h = PipelineHarness()
        h.send(#"{"ts":\#(t),"picks":1000}"#)
        #expect(h.total(.picks) == 0)
        h.send(#"{"ts":\#(t + 10_000),"picks":1010}"#)
        h.send(#"{"ts":\#(t + 20_000),"picks":1025}"#)
        #expect(h.total(.picks) == 25)
    }

    @Test func duplicateSeqAddsNothing() {
        var h = PipelineHarness()
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
        var h = PipelineHarness()
        h.send(#"{"ts":\#(t),"picks":10}"#)
        h.send(#"{"ts":\#(t + 2000),"picks":30}"#)
        h.send(#"{"ts":\#(t + 1000),"picks":20}"#)
        #expect(h.total(.picks) == 20)
        #expect(h.rejected(.outOfOrder) == 1)
    }

    @Test func glitchToZeroAndBackCountsNothing() {
        var h = PipelineHarness()
        h.send(#"{"ts":\#(t),"picks":500}"#)
        h.send(#"{"ts":\#(t + 10_000),"picks":0}"#)
        #expect(h.total(.picks) == 0)
        h.send(#"{"ts":\#(t + 20_000),"picks":510}"#)
        #expect(h.total(.picks) == 10)
        #expect(h.pipeline.stats.glitches == 1)
        #expect(h.pipeline.stats.resets == 0)
    }

    @Test func confirmedRebootCountsTheNewValue() {
        var h = PipelineHarness()
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
        var h = PipelineHarness()
        h.send(#"{"ts":\#(t),"picks":500000}"#)
        h.send(#"{"ts":\#(t + 10_000),"picks":400000}"#)
        h.send(#"{"ts":\#(t + 20_000),"picks":400010}"#)
        #expect(h.total(.picks) == 0)
        #expect(h.rejected(.implausible) == 1)
        h.send(#"{"ts":\#(t + 30_000),"picks":400020}"#)
        #expect(h.total(.picks) == 10)
    }

    @Test func implausibleJumpCountsNothingAndMovesTheBaseline() {
        var h = PipelineHarness()
        h.send(#"{"ts":\#(t),"picks":100}"#)
        h.send(#"{"ts":\#(t + 10_000),"picks":100100}"#)
        #expect(h.total(.picks) == 0)
        #expect(h.rejected(.implausible) == 1)
        h.send(#"{"ts":\#(t + 20_000),"picks":100110}"#)
        #expect(h.total(.picks) == 10)
    }

    @Test func negativeAndNaNAreRejected() {
        var h = PipelineHarness()
        h.send(#"{"ts":\#(t),"picks":100}"#)
        h.send(#"{"ts":\#(t + 1000),"picks":-5}"#)
        h.send(#"{"ts":\#(t + 2000),"picks":NaN}"#)
        h.send(#"{"ts":\#(t + 3000),"picks":110}"#)
        #expect(h.rejected(.negativeCounter) == 1)
        #expect(h.rejected(.notFinite) == 1)
        #expect(h.total(.picks) == 10)
    }

    @Test func readingsTooOldOrInTheFutureAreRejected() {
        var h = PipelineHarness()
        h.send(#"{"ts":\#(h.now - 8 * 86_400_000),"picks":1}"#)
        h.send(#"{"ts":\#(h.now + 6 * 60_000),"picks":1}"#)
        #expect(h.rejected(.tooOld) == 1)
        #expect(h.rejected(.inFuture) == 1)
        h.send(#"{"picks":1}"#)
        #expect(h.pipeline.stats.accepted == 1)
    }

    @Test func unknownDeviceAndTopic() {
        var h = PipelineHarness()
        h.send(topic: "sentra/ws-1/loom/nobody", #"{"picks":1}"#)
        h.send(topic: "sentra/ws-1/power/loom-1", #"{"v":220}"#)
        h.send(topic: "sentra/ws 1/loom/x", #"{"picks":1}"#)
        #expect(h.rejected(.unknownDevice) == 2)
        #expect(h.rejected(.badTopic) == 1)
    }

    @Test func runningTimeFromStateHoldsUntilStaleness() {
        var h = PipelineHarness()
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
        var h = PipelineHarness()
        h.send(#"{"ts":\#(t),"state":"run","run_s":100}"#)
        h.send(#"{"ts":\#(t + 60_000),"state":"run","run_s":150}"#)
        #expect(h.total(.runMs) == 50_000)
    }
}
