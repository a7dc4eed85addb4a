import Foundation
import Logging
import SentraAlertLog
import SentraCore
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraPlugins

#if canImport(Glibc)
    import Glibc
#endif

/// What one plugin may send: its alerts' rate and shape, its lines' length and rate, its name.
@Suite struct PluginBoundsTests {
    let t0: Int64 = 1_764_000_000_000
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func alert(_ n: Int, rule: String = "disk_full", labels: [String: String]? = nil) -> AlertEvent {
        AlertEvent(
            ts: t0, rule: rule, status: .firing, severity: .warning, labels: labels ?? ["component": "p", "disk": "d\(n)"],
            value: Double(n), summary: "alert \(n)", started: t0)
    }

    /// How many of `n` takes at `now` succeed.
    func takes(_ b: inout TokenBucket, _ n: Int, at now: Int64) -> Int {
        var ok = 0
        for _ in 0..<n where b.take(now: now) { ok += 1 }
        return ok
    }

    @Test func aBurstOf20ThenOneASecond() {
        var b = TokenBucket(capacity: 20, perSecond: 1)
        #expect(takes(&b, 25, at: t0) == 20)
        #expect(takes(&b, 1, at: t0 + 999) == 0)
        #expect(takes(&b, 2, at: t0 + 1000) == 1)
        // 10 s quiet: 10 tokens back.
        #expect(takes(&b, 15, at: t0 + 11_000) == 10)
        // A clock going backwards gives nothing.
        #expect(takes(&b, 1, at: t0) == 0)
        // Never more than the burst, however long the quiet.
        #expect(takes(&b, 30, at: t0 + 86_400_000) == 20)
    }

    @Test func theGateDropsTheExcessAndEndsTheSpellAfterAQuietMinute() {
        let gate = PluginAlertGate(plugin: "p", bounds: PluginBounds(), logger: quiet)
        let verdicts = (0..<25).map { gate.admit(alert($0), now: t0) }
        #expect(verdicts.prefix(20).allSatisfy { if case .append = $0 { true } else { false } })
        #expect(verdicts[20] == .dropped(spellBegins: true))
        #expect(verdicts[21...].allSatisfy { $0 == .dropped(spellBegins: false) })
        #expect(gate.counts == .init(accepted: 20, dropped: 5, invalid: 0))
        // 30 s later the bucket is full again (20, not 30): 20 pass, the 21st is dropped in the same spell.
        let later = (0..<21).map { gate.admit(alert($0), now: t0 + 30_000) }
        #expect(later.filter { if case .append = $0 { true } else { false } }.count == 20)
        #expect(later.last == .dropped(spellBegins: false))
        #expect(gate.tick(now: t0 + 30_000 + 59_999) == nil)
        #expect(gate.tick(now: t0 + 30_000 + 60_000) == 6)
        #expect(gate.tick(now: t0 + 30_000 + 120_000) == nil)
        #expect(gate.counts == .init(accepted: 40, dropped: 6, invalid: 0))
    }

    @Test func malformedAlertsAreRefusedAndCountNoToken() {
        let b = PluginBounds()
        #expect(b.problem(with: alert(0)) == nil)
        #expect(b.problem(with: alert(0, rule: "plugin-x_2")) == nil)
        for rule in ["", "Disk_Full", "disk full", "../x", "_x", String(repeating: "r", count: 64), "d\u{0}"] {
            #expect(b.problem(with: alert(0, rule: rule)) != nil, "rule \(rule)")
        }
        let many = Dictionary(uniqueKeysWithValues: (0..<17).map { ("l\($0)", "v") })
        let bad: [[String: String]] = [
            many, ["Component": "x"], ["com-ponent": "x"], ["1x": "x"], ["": "x"], [String(repeating: "k", count: 64): "x"],
            ["k": ""], ["k": String(repeating: "v", count: 257)], ["k": "a\nb"], ["k": "a\u{7F}"],
        ]
        for labels in bad { #expect(b.problem(with: alert(0, labels: labels)) != nil, "labels \(labels)") }
        #expect(b.problem(with: alert(0, labels: ["k": String(repeating: "v", count: 256), "w_2": "Ünïcode ok"])) == nil)
        #expect(b.problem(with: alert(0, labels: Dictionary(uniqueKeysWithValues: (0..<16).map { ("l\($0)", "v") }))) == nil)

        let gate = PluginAlertGate(plugin: "p", bounds: b, logger: quiet)
        for _ in 0..<30 { #expect(gate.admit(alert(0, rule: "Bad Rule"), now: t0) != .append(alert(0, rule: "Bad Rule"))) }
        #expect(gate.counts == .init(accepted: 0, dropped: 0, invalid: 30))
        // Refused alerts took no tokens.
        #expect((0..<20).allSatisfy { if case .append = gate.admit(alert($0), now: t0) { true } else { false } })
    }

    @Test func aLongSummaryIsCutAtACharacterBoundary() {
        let gate = PluginAlertGate(plugin: "p", bounds: PluginBounds(), logger: quiet)
        var a = alert(0)
        a.summary = String(repeating: "é", count: 600)  // 1,200 bytes
        guard case .append(let e) = gate.admit(a, now: t0) else {
            Issue.record("not appended")
            return
        }
        #expect(e.summary == String(repeating: "é", count: 512))
    }

    @Test func logLinesAreLetThroughAtABoundedRate() {
        let l = PluginLineLimiter(bounds: PluginBounds())
        let first = (0..<60).map { _ in l.admit(now: t0) }
        #expect(first.filter(\.pass).count == 50)
        // 1 s later: 5 more; the first of them reports the 10 held back.
        let next = (0..<6).map { _ in l.admit(now: t0 + 1000) }
        #expect(next.map(\.pass) == [true, true, true, true, true, false])
        #expect(next[0].heldBack == 10 && next[1].heldBack == 0)
    }

    @Test func longLinesAreCutAndTheirRestSkipped() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let text = String(repeating: "a", count: 100) + "\n" + String(repeating: "b", count: 10) + "\n" + String(repeating: "c", count: 50)
        _ = text.withCString { write(fds[1], $0, strlen($0)) }
        close(fds[1])
        var lines: [(String, Bool)] = []
        ExternalPlugin.readLines(fds[0], maxBytes: 20) { lines.append(($0, $1)) }
        close(fds[0])
        #expect(
            lines.map(\.0) == [String(repeating: "a", count: 20), String(repeating: "b", count: 10), String(repeating: "c", count: 20)])
        #expect(lines.map(\.1) == [true, false, true])
    }

    /// A plugin writing lines faster than the host takes its replies: the queue keeps the
    /// first 1,024 in order and counts the rest as lost, however many come.
    @Test func theRepliesQueueIsBounded() async {
        let box = Mailbox<Int>()
        for i in 0..<5000 { box.push(i) }
        #expect(box.queued == 1024)
        #expect(box.dropped == 5000 - 1024)
        guard case .value(let first) = await box.take() else {
            Issue.record("no value")
            return
        }
        #expect(first == 0)
        box.push(5000)
        #expect(box.queued == 1024 && box.dropped == 5000 - 1024)
    }

    @Test func aPluginNameThatIsNoIdIsRefused() throws {
        let dir = temporaryDirectory()
        let log = try AlertLog(path: dir + "/alerts.jsonl", timeZone: jakarta)
        for name in ["../escape", "", "Upper", "a/b", String(repeating: "n", count: 64), "-x"] {
            let spec = PluginSpec(name: name, builtin: "journald", command: [], options: [:], timeoutMillis: 1000, minSeverity: .info)
            #expect(throws: PluginError.self) { try PluginHost(log: log, plugins: [spec], stateDirectory: dir + "/state") }
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/escape.cursor"))
    }

    /// A plugin that writes 100 alerts at once and 3 malformed ones: 20 reach the log, one
    /// `plugin_alerts_dropped` says so, and the host counts the rest.
    @Test func aPluginFloodingAlertsIsLimited() async throws {
        let dir = temporaryDirectory()
        let log = try AlertLog(path: dir + "/alerts.jsonl", timeZone: jakarta)
        let script = dir + "/flood.sh"
        try #"""
        #!/bin/sh
        read hello
        echo '{"type":"hello","protocol":1}'
        i=0
        while [ $i -lt 100 ]; do
          echo "{\"type\":\"alert\",\"rule\":\"flood\",\"labels\":{\"n\":\"$i\"}}"
          i=$((i + 1))
        done
        echo '{"type":"alert","rule":"Bad Rule"}'
        echo '{"type":"alert","rule":"ok","labels":{"bad-key":"x"}}'
        echo '{"type":"alert","rule":"ok","labels":{"k":""}}'
        while read line; do
          seq=$(echo "$line" | sed -n 's/^{"type":"event","seq":\([0-9]*\).*/\1/p')
          echo "{\"type\":\"ack\",\"seq\":$seq}"
        done
        """#.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        // A minute to answer each event: on a loaded machine the shell's acks (a `sed` each) may
        // take seconds, and a timeout would add `plugin_failing` lines to the count.
        let spec = PluginSpec(name: "flood", builtin: nil, command: [script], options: [:], timeoutMillis: 60_000, minSeverity: .info)
        var s = PluginHost.Settings()
        // No refill within the test, so the count does not depend on how fast the shell runs.
        s.bounds.alertsPerSecond = 0.0001
        let host = try PluginHost(log: log, plugins: [spec], stateDirectory: dir + "/state", settings: s)
        try await withHost(host) {
            try await eventually("every alert seen") {
                let h = host.health[0]
                return h.alertsAccepted + h.alertsDropped + h.alertsInvalid == 103
            }
            try await eventually("the log delivered back to the plugin") { host.cursor("flood") == log.lastSeq }
        }
        let h = host.health[0]
        #expect(h.alertsAccepted == 20 && h.alertsDropped == 80 && h.alertsInvalid == 3)
        let events = readLines(log.path).compactMap { AlertEvent.parse(line: $0) }
        #expect(events.filter { $0.rule == "flood" }.count == 20)
        let about = events.filter { $0.rule == "plugin_alerts_dropped" }
        #expect(about.count == 1)
        #expect(about.first?.status == .firing && about.first?.labels == ["component": "flood"])
        #expect(events.count == 21, "\(events.map { "\($0.rule) \($0.status)" })")
    }
}
