import Foundation
import SentraCore
import Synchronization
import Testing
import SentraWire
import SentraAlertLog
import SentraTestSupport
import SentraProcess
@testable import SentraPlugins


/// `PluginTrial`: one delivery outside the daemon, with a transcript.
@Suite struct PluginTrialTests {
    func trial(_ spec: PluginSpec, state: String) async -> PluginTrial {
        await PluginTrial.run(
            spec: spec, event: sampleEvent(0), timeZone: jakarta, sentraName: "test", stateDirectory: state,
            pluginDirectory: pluginDirectory, stopGrace: .milliseconds(500))
    }

    @Test func theExamplePluginAcknowledgesAndTheTranscriptShowsTheConversation() async throws {
        let dir = temporaryDirectory()
        let spec = PluginSpec(
            name: "ex", builtin: "example", command: [], options: ["path": dir + "/out.log"], timeoutMillis: 5000, minSeverity: .info)
        let t = await trial(spec, state: dir)
        #expect(t.outcome == .acknowledged)
        #expect(!t.inProcess)
        let sent = t.transcript.filter { $0.direction == .toPlugin }.map(\.text)
        #expect(sent.count == 2)
        #expect(sent.first?.contains(#""type":"hello""#) == true)
        #expect(sent.last?.hasPrefix(#"{"type":"event","seq":0,"alert":{"seq":0,"#) == true)
        let answers = t.transcript.filter { $0.direction == .fromPlugin }.map(\.text)
        #expect(answers.count == 2)
        #expect(answers.last?.contains(#""ack""#) == true)
        #expect(readLines(dir + "/out.log").count == 1)
    }

    @Test func aNackIsARefusalWithItsReason() async throws {
        let dir = temporaryDirectory()
        let script = dir + "/nack.sh"
        try
            "#!/bin/sh\nread h\necho '{\"type\":\"hello\",\"protocol\":1}'\necho '{\"type\":\"log\",\"level\":\"info\",\"message\":\"hi\"}'\nread e\necho '{\"type\":\"nack\",\"seq\":0,\"error\":\"down\"}'\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        let spec = PluginSpec(name: "n", builtin: nil, command: [script], options: [:], timeoutMillis: 5000, minSeverity: .info)
        let t = await trial(spec, state: dir)
        guard case .refused(let why) = t.outcome else {
            Issue.record("expected a refusal, got \(t.outcome)")
            return
        }
        #expect(why.contains("down"))
        #expect(t.transcript.contains { $0.direction == .fromPlugin && $0.text.contains("\"log\"") })
    }

    @Test func aMissingProgramIsARefusalNotAnInternalFailure() async throws {
        let dir = temporaryDirectory()
        let spec = PluginSpec(name: "m", builtin: "no-such-plugin", command: [], options: [:], timeoutMillis: 1000, minSeverity: .info)
        let t = await trial(spec, state: dir)
        guard case .refused(let why) = t.outcome else {
            Issue.record("expected a refusal, got \(t.outcome)")
            return
        }
        #expect(why.contains("not found"))
    }

    @Test func anInProcessSinkIsDeliveredDirectly() async throws {
        let dir = temporaryDirectory()
        var sinks = SinkRegistry()
        let seen = Seen()
        sinks.register("memory") { _ in MemorySink(seen: seen) }
        let spec = PluginSpec(name: "mem", builtin: "memory", command: [], options: [:], timeoutMillis: 1000, minSeverity: .info)
        let t = await PluginTrial.run(
            spec: spec, event: sampleEvent(0), timeZone: jakarta, sentraName: "test", stateDirectory: dir,
            pluginDirectory: pluginDirectory, sinks: sinks)
        #expect(t.outcome == .acknowledged)
        #expect(t.inProcess)
        #expect(seen.rules.withLock { $0 } == ["voltage_sag"])
    }
}

private final class Seen: Sendable {
    let rules = Mutex<[String]>([])
}

private struct MemorySink: AlertSink {
    let name = "memory"
    let seen: Seen
    func deliver(_ event: AlertEvent) async throws { seen.rules.withLock { $0.append(event.rule) } }
}
