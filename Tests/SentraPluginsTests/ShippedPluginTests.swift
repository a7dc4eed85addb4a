import Foundation
import SentraAlertLog
import SentraCore
import SentraProcess
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraPlugins

#if canImport(Glibc)
    import Glibc
#endif

/// The repository's `plugins/` folder.
let pluginDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("plugins").path

@Suite struct ShippedPluginTests {
    func host(_ log: AlertLog, _ spec: PluginSpec, state: String) throws -> PluginHost {
        var s = PluginHost.Settings()
        s.pluginDirectory = pluginDirectory
        s.initialBackoff = .milliseconds(50)
        s.stopGrace = .milliseconds(500)
        return try PluginHost(log: log, plugins: [spec], stateDirectory: state, settings: s)
    }

    @Test func examplePluginAppendsAlertsToItsFile() async throws {
        let dir = temporaryDirectory()
        let log = try AlertLog(path: dir + "/alerts.jsonl", timeZone: jakarta)
        let out = dir + "/example.log"
        let spec = PluginSpec(
            name: "example", builtin: "example", command: [], options: ["path": out], timeoutMillis: 5000, minSeverity: .info)
        let h = try host(log, spec, state: dir + "/state")
        try await withHost(h) {
            for i in 0..<3 { try log.append(sampleEvent(i)) }
            try await eventually("three lines") { readLines(out).count == 3 }
        }
        #expect(readLines(out)[0] == "2026-11-24T10:00:00+07:00 firing voltage_sag Event 0 \u{201C}quoted\u{201D} \"x\" second line")
    }

    @Test func mqttPluginPublishesEventsAndRetainedFiringSet() async throws {
        // A missing broker is a failure, not a skip: scripts/install-deps installs it.
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/mosquitto"),
            "mosquitto is not installed: run scripts/install-deps")
        let dir = temporaryDirectory()
        let port = Loopback.freePort()
        // On loopback only (mosquitto -p alone would listen on every interface).
        let conf = dir + "/mosquitto.conf"
        try "listener \(port) 127.0.0.1\nallow_anonymous true\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let broker = Process()
        broker.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
        broker.arguments = ["-c", conf]
        broker.standardError = FileHandle.nullDevice
        broker.standardOutput = FileHandle.nullDevice
        try broker.run()
        defer { kill(broker.processIdentifier, SIGKILL) }
        let log = try AlertLog(path: dir + "/alerts.jsonl", timeZone: jakarta)
        let spec = PluginSpec(
            name: "mqtt", builtin: "mqtt", command: [], options: ["port": "\(port)", "topic_prefix": "t/alerts"],
            timeoutMillis: 10_000, minSeverity: .info)
        let h = try host(log, spec, state: dir + "/state")
        let firing = sampleEvent(0)  // even: firing
        var other = sampleEvent(2)
        other.labels["device"] = "pm-9"
        other.id = AlertID.make(rule: other.rule, labels: other.labels)
        var resolved = firing
        resolved.status = .resolved
        try await withHost(h) {
            try log.append(firing)
            try log.append(other)
            try log.append(resolved)
            try await eventually("all acknowledged") { h.cursor("mqtt") == 3 }
        }
        // What a dashboard connecting now sees: the retained set of firing alerts.
        let sub = Process()
        sub.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_sub")
        sub.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-t", "t/alerts/firing", "-C", "1", "-W", "10"]
        let pipe = Pipe()
        sub.standardOutput = pipe
        try sub.run()
        // Not waitUntilExit(): it spins a run loop on a concurrency thread.
        try await eventually("mosquitto_sub to exit", within: .seconds(15)) { !sub.isRunning }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let set = try WireJSON.decode([AlertLine].self, from: text)
        #expect(set.map(\.id) == [other.id])
        #expect(set.first?.seq == 2)
    }
}
