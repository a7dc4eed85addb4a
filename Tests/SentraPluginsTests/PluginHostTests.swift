import Foundation
import SentraCore
import Testing
import SentraWire
import SentraAlertLog
import SentraTestSupport
import SentraProcess
@testable import SentraPlugins


#if canImport(Glibc)
    import Glibc
#endif

/// A test plugin whose behaviour a file decides, so one program can crash, hang or print
/// garbage and then recover. It appends every seq it acknowledges to `seqs`.
let scriptedPlugin = #"""
    #!/usr/bin/env python3
    import json, sys, time
    seqs, mode_file = sys.argv[1], sys.argv[2]
    def mode():
        with open(mode_file) as f:
            return f.read().strip()
    for line in sys.stdin:
        m = json.loads(line)
        if m["type"] == "hello":
            print(json.dumps({"type": "hello", "protocol": 1, "name": "scripted"}), flush=True)
            print(json.dumps({"type": "log", "level": "info", "message": "started"}), flush=True)
        elif m["type"] == "event":
            md = mode()
            if md == "crash":
                sys.exit(3)
            if md == "hang":
                time.sleep(3600)
            if md == "garbage":
                print("this is not json {", flush=True)
                continue
            with open(seqs, "a") as f:
                f.write("%d\n" % m["seq"])
            print(json.dumps({"type": "ack", "seq": m["seq"]}), flush=True)
    """#

struct PluginFixture {
    let dir: String
    let log: AlertLog
    let seqsPath: String
    let modePath: String
    let spec: PluginSpec

    init(name: String = #function, timeoutMillis: Int64 = 2000) throws {
        dir = temporaryDirectory(name)
        log = try AlertLog(path: dir + "/alerts.jsonl", timeZone: jakarta)
        seqsPath = dir + "/seqs.txt"
        modePath = dir + "/mode"
        let script = dir + "/plugin.py"
        try scriptedPlugin.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        try "ok".write(toFile: modePath, atomically: true, encoding: .utf8)
        spec = PluginSpec(
            name: "scripted", builtin: nil, command: [script, seqsPath, modePath], options: ["x": "y"],
            timeoutMillis: timeoutMillis, minSeverity: .info)
    }

    func setMode(_ m: String) throws { try m.write(toFile: modePath, atomically: true, encoding: .utf8) }

    func host() throws -> PluginHost {
        var s = PluginHost.Settings()
        s.initialBackoff = .milliseconds(20)
        s.maxBackoff = .milliseconds(200)
        s.failuresBeforeAlert = 2
        s.idlePoll = .milliseconds(200)
        s.stopGrace = .milliseconds(200)
        return try PluginHost(log: log, plugins: [spec], stateDirectory: dir + "/state", settings: s)
    }

    var delivered: Set<Int64> { Set(readLines(seqsPath).compactMap { Int64($0) }) }
    var logEvents: [AlertEvent] { readLines(log.path).compactMap { AlertEvent.parse(line: $0) } }
    var allSeqs: Set<Int64> { Set(logEvents.map(\.seq)) }
}

/// Runs `host` while `body` runs, then cancels it and waits for it to stop.
func withHost(_ host: PluginHost, _ body: () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { g in
        g.addTask { try await host.run() }
        do {
            try await body()
        } catch {
            g.cancelAll()
            throw error
        }
        g.cancelAll()
        try await g.waitForAll()
    }
}

@Suite struct PluginHostTests {
    @Test func deliversInOrderAndResumesFromTheCursorAfterARestart() async throws {
        let f = try PluginFixture()
        try f.log.append(sampleEvent(0))  // before the plugin existed: not delivered
        let host = try f.host()
        try await withHost(host) {
            for i in 1...3 { try f.log.append(sampleEvent(i)) }
            try await eventually("3 events delivered") { f.delivered == [2, 3, 4] }
            try await eventually("3 events acknowledged") { host.cursor("scripted") == 4 }
        }
        // The daemon is down while alerts are written (e.g. by a restart's recovery).
        for i in 4...6 { try f.log.append(sampleEvent(i)) }
        try await withHost(try f.host()) {
            try await eventually("the missed events") { f.delivered == [2, 3, 4, 5, 6, 7] }
        }
        // In order, and nothing acknowledged came twice.
        #expect(readLines(f.seqsPath).map { Int64($0)! }.prefix(6) == [2, 3, 4, 5, 6, 7])
    }

    @Test(arguments: ["crash", "hang", "garbage"])
    func aFailingPluginRaisesAnAlertAndLaterGetsEverything(mode: String) async throws {
        let f = try PluginFixture(name: "failing-\(mode)", timeoutMillis: 500)
        let host = try f.host()
        try await withHost(host) {
            try f.log.append(sampleEvent(0))
            try await eventually("first event") { f.delivered == [1] }
            try f.setMode(mode)
            // The ingest thread's appends return at once whatever the plugin does.
            for i in 1...3 { try f.log.append(sampleEvent(i)) }
            try await eventually("plugin_failing firing") {
                f.logEvents.contains { $0.rule == "plugin_failing" && $0.status == .firing }
            }
            let firing = f.logEvents.first { $0.rule == "plugin_failing" }!
            #expect(firing.labels == ["component": "scripted"] && firing.severity == .warning)
            #expect(f.delivered == [1])
            try f.setMode("ok")
            try await eventually("plugin_failing resolved") {
                f.logEvents.contains { $0.rule == "plugin_failing" && $0.status == .resolved }
            }
            // Every line of the log, the daemon's own alerts included, reaches the plugin.
            try await eventually("every alert delivered") { f.delivered == f.allSeqs }
        }
        let events = f.logEvents
        #expect(events.filter { $0.rule == "plugin_failing" }.map(\.status) == [.firing, .resolved])
        #expect(events.map(\.seq) == Array(1...Int64(events.count)))
    }

    @Test func aPluginThatCannotStartIsReportedAndOthersKeepGoing() async throws {
        let f = try PluginFixture()
        let broken = PluginSpec(
            name: "broken", builtin: nil, command: [f.dir + "/does-not-exist"], options: [:], timeoutMillis: 500,
            minSeverity: .info)
        var s = PluginHost.Settings()
        s.initialBackoff = .milliseconds(20)
        s.maxBackoff = .milliseconds(100)
        s.failuresBeforeAlert = 2
        let host = try PluginHost(log: f.log, plugins: [broken, f.spec], stateDirectory: f.dir + "/state", settings: s)
        try await withHost(host) {
            try await eventually("plugin_failing for broken") {
                f.logEvents.contains { $0.rule == "plugin_failing" && $0.labels["component"] == "broken" }
            }
            try f.log.append(sampleEvent(1))
            try await eventually("the healthy plugin's delivery") { f.delivered == f.allSeqs }
        }
        #expect(host.cursor("broken") == 0)
    }

    @Test func pluginAlertsAndLogsGoThroughTheDaemon() async throws {
        let dir = temporaryDirectory()
        let log = try AlertLog(path: dir + "/alerts.jsonl", timeZone: jakarta)
        let script = dir + "/emitter.sh"
        try #"""
        #!/bin/sh
        read hello
        echo '{"type":"hello","protocol":1}'
        echo '{"type":"log","level":"warning","message":"about to alert"}'
        echo '{"type":"alert","rule":"disk_full","severity":"critical","summary":"Disk full","value":97.5}'
        echo '{"type":"future_thing","x":1}'
        while read line; do
          seq=$(echo "$line" | sed -n 's/^{"type":"event","seq":\([0-9]*\).*/\1/p')
          echo "{\"type\":\"ack\",\"seq\":$seq}"
        done
        """#.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let spec = PluginSpec(name: "emitter", builtin: nil, command: [script], options: [:], timeoutMillis: 2000, minSeverity: .info)
        let host = try PluginHost(log: log, plugins: [spec], stateDirectory: dir + "/state")
        try await withHost(host) {
            try await eventually("the plugin's alert in the log") { log.lastSeq >= 1 }
            try await eventually("its own alert acknowledged") { host.cursor("emitter") == 1 }
        }
        let e = AlertEvent.parse(line: readLines(log.path)[0])!
        #expect(e.rule == "disk_full" && e.severity == .critical && e.labels == ["component": "emitter"] && e.value == 97.5)
    }

    @Test func journaldSinkWritesNativeProtocolFields() async throws {
        let dir = temporaryDirectory()
        let path = dir + "/journal.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in for (i, b) in path.utf8.enumerated() { p[i] = b } }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(rc == 0)
        var ev = sampleEvent(2, severity: .critical)
        ev.seq = 42
        try await JournaldSink(socketPath: path, timeZone: jakarta).deliver(ev)
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buf, buf.count, 0)
        let bytes = Array(buf[0..<n])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("PRIORITY=2\n"))
        #expect(text.contains("SENTRA_RULE=voltage_sag\n") && text.contains("SENTRA_STATUS=firing\n"))
        #expect(text.contains("SENTRA_WORKSHOP=ws-a\n") && text.contains("SENTRA_DEVICE=pm-2\n"))
        #expect(text.contains("SENTRA_ALERT_ID=\(ev.id)\n") && text.contains("SENTRA_SEQ=42\n"))
        // The summary has a newline: the binary-safe form, with its length.
        let message = "[firing] " + ev.summary
        var len = UInt64(message.utf8.count).littleEndian
        let expected = Array("MESSAGE\n".utf8) + withUnsafeBytes(of: &len) { Array($0) } + Array(message.utf8) + [10]
        #expect(bytes.starts(with: expected))
    }
}
