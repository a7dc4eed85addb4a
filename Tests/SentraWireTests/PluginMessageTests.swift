import Foundation
import SentraCore
import Testing

@testable import SentraWire

/// The plugin protocol's lines (docs/plugins.md) through `PluginMessage`.
@Suite struct PluginMessageTests {
    func decode(_ line: String) throws -> PluginMessage { try WireJSON.decode(PluginMessage.self, from: line) }

    @Test func theDaemonsHelloCarriesEverythingSorted() throws {
        let spec = PluginSpec(
            name: "am", builtin: "alertmanager", command: [], options: ["url": "http://127.0.0.1:9093"], timeoutMillis: 10_000,
            minSeverity: .warning)
        let hello = PluginMessage.hello(
            .init(
                daemon: "sentrad", protocol: 1, spec: spec, sentra: "Sentra Tenun Ikat Bandar Kidul", timezone: "Asia/Jakarta",
                stateDir: "/var/lib/sentra"))
        let line = try WireJSON.line(hello)
        #expect(
            line
                == #"{"daemon":"sentrad","min_severity":"warning","options":{"url":"http://127.0.0.1:9093"},"plugin":"am","protocol":1,"#
                + #""sentra":"Sentra Tenun Ikat Bandar Kidul","state_dir":"/var/lib/sentra","timeout_ms":10000,"timezone":"Asia/Jakarta","#
                + #""type":"hello"}"#)
        #expect(try decode(line) == hello)
    }

    @Test func aPluginsMessagesDecodeByType() throws {
        #expect(
            try decode(#"{"type":"hello","protocol":1,"name":"alertmanager","version":"1.0"}"#)
                == .hello(.init(protocol: 1, name: "alertmanager", version: "1.0")))
        #expect(try decode(#"{"type":"ack","seq":1042}"#) == .ack(.init(seq: 1042)))
        #expect(
            try decode(#"{"type":"nack","seq":1042,"error":"Alertmanager answered 503"}"#)
                == .nack(.init(seq: 1042, error: "Alertmanager answered 503")))
        #expect(try decode(#"{"type":"log","level":"info","message":"connected"}"#) == .log(.init(level: "info", message: "connected")))
        #expect(try decode(#"{"type":"shiny","seq":1}"#) == .unknown(type: "shiny"))
        #expect(try decode(#"{"type":"ack","seq":1,"extra":{"a":[1]}}"#) == .ack(.init(seq: 1)), "unknown fields are ignored")
    }

    @Test func fieldsOfTheWrongTypeReadAsMissingWhereTheyMayBeMissing() throws {
        #expect(try decode(#"{"type":"hello","protocol":"1"}"#) == .hello(.init(protocol: nil)))
        #expect(try decode(#"{"type":"log","level":5}"#) == .log(.init(level: nil, message: nil)))
        #expect(try decode(#"{"type":"nack","seq":3,"error":false}"#) == .nack(.init(seq: 3, error: nil)))
        #expect(throws: (any Error).self) { try decode(#"{"type":"ack"}"#) }
        #expect(throws: (any Error).self) { try decode(#"{"seq":1}"#) }
        #expect(throws: (any Error).self) { try decode("[1]") }
    }

    @Test func aPluginsAlertGetsItsDefaults() throws {
        let line = #"{"type":"alert","rule":"disk_full","labels":{"host":"nas","n":3},"value":97.5,"started":"2026-11-24T10:00:00+07:00"}"#
        guard case .alert(let alert) = try decode(line) else { Issue.record("not an alert"); return }
        #expect(alert.labels == ["host": "nas"], "a label that is not a string is left out")
        let e = try #require(alert.event(plugin: "nas-watch", now: 5000))
        #expect(e.status == .firing && e.severity == .warning && e.summary == "disk_full" && e.value == 97.5)
        #expect(e.labels == ["host": "nas", "component": "nas-watch"])
        #expect(e.started == RFC3339.parse("2026-11-24T10:00:00+07:00") && e.ts == 5000)
        #expect(PluginAlert(rule: "").event(plugin: "p", now: 0) == nil)
        #expect(PluginAlert(rule: "r", labels: ["workshop": "w"]).event(plugin: "p", now: 7)?.labels == ["workshop": "w"])
        #expect(PluginAlert(rule: "r", started: "soon").event(plugin: "p", now: 7)?.started == 7)
    }

    @Test func anEventCarriesTheLogsLineUnchanged() throws {
        let e = AlertEvent(
            seq: 7, ts: 1_764_000_000_000, rule: "voltage_sag", status: .firing, severity: .warning, labels: ["device": "pm-1"],
            value: 187, summary: "sag", started: 1_764_000_000_000)
        let logLine = e.jsonLine(timeZone: jakarta)
        let line = PluginMessage.eventLine(seq: 7, alertLogLine: logLine)
        #expect(line == #"{"type":"event","seq":7,"alert":"# + logLine.dropLast() + "}")
        #expect(try decode(line) == .event(.init(seq: 7, alert: AlertLine(e, timeZone: jakarta))))
    }
}
