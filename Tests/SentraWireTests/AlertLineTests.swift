import Foundation
import SentraCore
import Testing

@testable import SentraWire

let jakarta = TimeZone(identifier: "Asia/Jakarta")!

/// The alert log's hand-written line, read back through the Codable `AlertLine`.
@Suite struct AlertLineTests {
    func event(labels: [String: String], value: Double?, summary: String) -> AlertEvent {
        AlertEvent(
            seq: 1042, ts: 1_764_000_000_250, rule: "voltage_sag", status: .firing, severity: .warning, labels: labels, value: value,
            summary: summary, started: 1_763_999_970_000)
    }

    func roundTrip(_ e: AlertEvent) throws {
        let line = e.jsonLine(timeZone: jakarta)
        #expect(line.hasSuffix("}\n"))
        #expect(!line.dropLast().contains("\n"), "one line: \(line)")
        let back = try JSONDecoder().decode(AlertEvent.self, from: Data(line.utf8))
        #expect(back == e)
        #expect(AlertEvent.parse(line: line) == e)
        #expect(try WireJSON.decode(AlertLine.self, from: line) == AlertLine(e, timeZone: jakarta))
    }

    @Test func aLineWithLabelsAndAValueReadsBackEqual() throws {
        try roundTrip(event(labels: ["workshop": "ws-bandar-01", "device": "pm-1"], value: 187.5, summary: "Voltage 187.5 V"))
        try roundTrip(event(labels: ["workshop": "ws-bandar-01"], value: 187, summary: "whole"))
        try roundTrip(event(labels: ["workshop": "ws-bandar-01"], value: 0.1 + 0.2, summary: "every digit kept"))
        try roundTrip(event(labels: ["workshop": "ws-bandar-01"], value: -1e-7, summary: "tiny"))
    }

    @Test func noValueIsNullAndNoLabelsAnEmptyObject() throws {
        let e = event(labels: [:], value: nil, summary: "")
        let line = e.jsonLine(timeZone: jakarta)
        #expect(line.contains(#""labels":{},"value":null,"summary":"""#), "\(line)")
        try roundTrip(e)
    }

    @Test func escapesUnicodeAndControlCharactersSurvive() throws {
        let nasty = "quote \" backslash \\ slash / newline \n return \r tab \t nul \u{0} bell \u{7} esc \u{1b} us \u{1f} del \u{7f}"
        let unicode = "Bengkel Bandar Satu · naïve 日本語 🧵 \u{2028} end"
        let e = event(labels: ["workshop": unicode, "k\"ey\n": nasty], value: 1, summary: nasty + " " + unicode)
        let line = e.jsonLine(timeZone: jakarta)
        #expect(line.contains(#"\u0000"#) && line.contains(#"\u001b"#) && line.contains(#"\n"#) && line.contains(#"\""#))
        #expect(line.contains("🧵"), "non-ASCII is written as it is")
        try roundTrip(e)
    }

    @Test func fieldsAreInTheDocumentedOrder() {
        let line = event(labels: ["b": "2", "a": "1"], value: 3, summary: "s").jsonLine(timeZone: jakarta)
        #expect(
            line
                == #"{"seq":1042,"ts":"2025-11-24T23:00:00.250+07:00","id":"\#(AlertID.make(rule: "voltage_sag", labels: ["a": "1", "b": "2"]))","#
                + #""rule":"voltage_sag","status":"firing","severity":"warning","labels":{"a":"1","b":"2"},"value":3,"summary":"s","#
                + #""started":"2025-11-24T22:59:30+07:00"}"# + "\n")
    }

    @Test func missingLabelsSummaryAndStartedHaveDefaults() throws {
        let line = #"{"seq":3,"ts":"2026-11-24T10:15:30+07:00","id":"x","rule":"r","status":"resolved","severity":"info","value":null}"#
        let e = try #require(AlertEvent.parse(line: line))
        #expect(e.labels == [:] && e.summary == "" && e.started == e.ts && e.value == nil && e.status == .resolved)
        #expect(AlertEvent.parse(line: "not json") == nil)
        #expect(AlertEvent.parse(line: #"{"seq":3,"ts":"yesterday","id":"x","rule":"r","status":"firing","severity":"info"}"#) == nil)
    }

    @Test func theSeqAloneReads() throws {
        #expect(try WireJSON.decode(AlertLine.Seq.self, from: #"{"ts":"x","seq":17}"#).seq == 17)
    }
}
