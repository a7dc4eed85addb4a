import Foundation
import SentraConfig
import SentraCore
import SentraRegion
import SentraWire
import Testing

/// One line of a sentra's alert log as its bridge delivers it.
func event(
    _ seq: Int64, sentra: String = "bandar-kidul", rule: String = "voltage_sag", status: AlertStatus = .firing,
    ts: Int64 = 1_764_000_000_000
)
    -> String
{
    let e = AlertEvent(
        seq: seq, ts: ts, rule: rule, status: status, severity: .warning, labels: ["workshop": "ws-1", "device": "pm-1"],
        value: 187, summary: "Voltage 187 V", started: ts)
    let line = e.jsonLine(timeZone: TimeZone(identifier: "Asia/Jakarta")!).dropLast()
    return String(line.dropLast()) + ",\"sentra\":\"\(sentra)\"}"
}

/// What a stream shows, in short: `L<seq>` a line (`*` late), `G<from>-<to>` a gap, `R` a restart, `X` invalid.
func shown(_ outputs: [RegionStream.Output]) -> [String] {
    outputs.map {
        switch $0 {
        case .line(let s, let e, _, let late): "\(s):L\(e.seq)\(late ? "*" : "")"
        case .gap(let s, let from, let to): "\(s):G\(from)-\(to)"
        case .restarted(let s, _, let to): "\(s):R\(to)"
        case .invalid: "X"
        }
    }
}

@Suite struct RegionStreamTests {
    let topic = "sentra-region/bandar-kidul/events"

    @Test func aLineDeliveredTwiceIsShownOnce() {
        var s = RegionStream()
        var out: [String] = []
        for seq in [1, 2, 2, 3, 1] as [Int64] { out += shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(seq))) }
        #expect(out == ["bandar-kidul:L1", "bandar-kidul:L2", "bandar-kidul:L3"])
        #expect(s.duplicates == 2)
    }

    @Test func aGapIsShownAndALateLineFillsIt() {
        var s = RegionStream()
        var out: [String] = []
        for seq in [7, 8, 11, 9, 9, 12] as [Int64] { out += shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(seq))) }
        #expect(
            out == ["bandar-kidul:L7", "bandar-kidul:L8", "bandar-kidul:G9-10", "bandar-kidul:L11", "bandar-kidul:L9*", "bandar-kidul:L12"])
        #expect(s.duplicates == 1)
    }

    @Test func aSampleAlertOfSeqZeroIsShownAndNotFollowed() {
        var s = RegionStream()
        var out: [String] = []
        for seq in [0, 7, 0, 8] as [Int64] { out += shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(seq))) }
        #expect(out == ["bandar-kidul:L0", "bandar-kidul:L7", "bandar-kidul:L0", "bandar-kidul:L8"])
    }

    @Test func sentrasAreFollowedApart() {
        var s = RegionStream()
        var out: [String] = []
        out += shown(s.take(topic: "sentra-region/a/events", topicSentra: "a", payload: event(5, sentra: "a")))
        out += shown(s.take(topic: "sentra-region/b/events", topicSentra: "b", payload: event(5, sentra: "b")))
        out += shown(s.take(topic: "sentra-region/a/events", topicSentra: "a", payload: event(6, sentra: "a")))
        #expect(out == ["a:L5", "b:L5", "a:L6"])
        #expect(s.highest == ["a": 6, "b": 5])
    }

    @Test func theTopicNamesTheSentraOverTheEventsOwnField() {
        var s = RegionStream()
        let out = shown(s.take(topic: "sentra-region/b/events", topicSentra: "b", payload: event(1, sentra: "a")))
        #expect(out == ["b:L1"])
        // Without a topic to go by, the field says.
        #expect(shown(s.take(topic: "elsewhere", topicSentra: nil, payload: event(1, sentra: "c"))) == ["c:L1"])
    }

    @Test func aSeqSeenAgainWithOtherContentIsALogBegunAgain() {
        var s = RegionStream()
        var out: [String] = []
        for seq in [1, 2, 3] as [Int64] { out += shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(seq))) }
        out += shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(1, rule: "power_outage", ts: 1_765_000_000_000)))
        out += shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(2, rule: "power_outage", ts: 1_765_000_000_000)))
        #expect(out == ["bandar-kidul:L1", "bandar-kidul:L2", "bandar-kidul:L3", "bandar-kidul:R1", "bandar-kidul:L1", "bandar-kidul:L2"])
    }

    @Test func whatIsNotAnAlertEventIsNamedNotShown() {
        var s = RegionStream()
        #expect(shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: "{\"state\":1}")) == ["X"])
        #expect(shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: "\u{0}garbage")) == ["X"])
        var noSentra = event(1)
        noSentra = noSentra.replacingOccurrences(of: ",\"sentra\":\"bandar-kidul\"", with: "")
        #expect(shown(s.take(topic: "other/topic", topicSentra: nil, payload: noSentra)) == ["X"])
        #expect(s.delivered == 0)
    }

    @Test func memoryStaysBoundedThroughAHugeGap() {
        var s = RegionStream()
        _ = s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(1))
        let out = shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(50_000_000)))
        #expect(out == ["bandar-kidul:G2-49999999", "bandar-kidul:L50000000"])
        // A line far below what is remembered reads as the log begun again.
        #expect(shown(s.take(topic: topic, topicSentra: "bandar-kidul", payload: event(2))).first == "bandar-kidul:R2")
    }

    @Test func sentrasBeyondTheLimitAreNamedNotFollowed() {
        var s = RegionStream()
        for i in 0..<RegionStream.maxSentras {
            _ = s.take(topic: "t", topicSentra: "s\(i)", payload: event(1, sentra: "s\(i)"))
        }
        #expect(shown(s.take(topic: "t", topicSentra: "one-more", payload: event(1, sentra: "one-more"))) == ["X"])
        #expect(shown(s.take(topic: "t", topicSentra: "s7", payload: event(2, sentra: "s7"))) == ["s7:L2"])
        #expect(s.highest.count == RegionStream.maxSentras)
    }

    @Test func whatCameOverTheNetworkCannotDriveTheTerminal() {
        var e = AlertEvent(
            seq: 1, ts: 1_764_000_000_000, rule: "r\u{1B}[2J", status: .firing, severity: .warning,
            labels: ["workshop": "ws\u{7}1"], value: nil, summary: "wipe\u{1B}]0;owned\u{7} \u{9B}1m", started: 1_764_000_000_000)
        let line = RegionTail.human(sentra: "a", event: e, timeZone: TimeZone(identifier: "UTC")!, color: false)
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(line)")
        #expect(line.contains("r?[2J") && line.contains("ws?1") && line.contains("wipe?]0;owned? ?1m"))
        e.summary = String(repeating: "x", count: 5_000)
        #expect(RegionTail.human(sentra: "a", event: e, timeZone: TimeZone(identifier: "UTC")!, color: false).count < 1_200)
    }

    @Test func ignoredMessagesAreNamedAtMostOnceASecond() {
        var limit = NoticeLimit()
        let t0 = ContinuousClock.now
        #expect(limit.admit(now: t0) == 0)
        #expect(limit.admit(now: t0 + .milliseconds(10)) == nil)
        #expect(limit.admit(now: t0 + .milliseconds(900)) == nil)
        #expect(limit.admit(now: t0 + .milliseconds(1_000)) == 2)
        #expect(limit.admit(now: t0 + .milliseconds(2_500)) == 0)
    }

    @Test func aTopicLevelThatIsNoIdNamesNoSentra() {
        let r = RegionConfiguration()
        #expect(r.sentra(inTopic: "sentra-region/Bandar Kidul/events") == nil)
        #expect(r.sentra(inTopic: "sentra-region/\(String(repeating: "a", count: 64))/events") == nil)
        var s = RegionStream()
        #expect(shown(s.take(topic: "x", topicSentra: nil, payload: event(1, sentra: #"bad\u001bid"#))) == ["X"])
    }

    @Test func topicsOfTheRegionNameTheirSentra() {
        let r = RegionConfiguration()
        #expect(r.eventsFilter == "sentra-region/+/events")
        #expect(r.sentra(inTopic: "sentra-region/bandar-kidul/events") == "bandar-kidul")
        #expect(r.sentra(inTopic: "sentra-region/a/b/events") == nil)
        #expect(r.sentra(inTopic: "sentra-region//events") == nil)
        #expect(r.sentra(inTopic: "sentra-alerts/events") == nil)
    }
}
