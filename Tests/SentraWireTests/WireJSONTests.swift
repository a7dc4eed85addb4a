import Foundation
import SentraCore
import Testing

@testable import SentraWire

@Suite struct WireJSONTests {
    @Test func integralNumbersPrintAsIntegersAndOthersRounded() throws {
        #expect(try WireJSON.line([3.0, 187, -2, 1e20]) == "[3,187,-2,1e+20]")
        #expect(try WireJSON.line([WireJSON.rounded(0.1 + 0.2), WireJSON.rounded(2.000_000_4), WireJSON.rounded(8.3)]) == "[0.3,2,8.3]")
        #expect(WireJSON.rounded(0.123_456_78, decimals: 4) == 0.1235)
        #expect(WireJSON.rounded(.infinity).isInfinite)
    }

    @Test func documentsAreLaidOutForReading() throws {
        let doc = ReportDocument(
            from: "2026-12-02", to: "2026-12-02",
            craftsmen: [
                .init(
                    craftsman: "c-anwar", name: "Pak \"Anwar\", {x}", workshop: "ws-1", pieces: 3, picks: 100.5, runSeconds: 1800,
                    kwh: 0.61, waterL: 40, kwhPerPiece: nil, litresPerPiece: 13.3333, utilisation: 0.5)
            ], unattributed: [])
        let text = try WireJSON.text(doc)
        #expect(
            text == """
                {
                  "craftsmen": [
                    {"craftsman": "c-anwar", "kwh": 0.61, "kwh_per_piece": null, "litres_per_piece": 13.3333, "name": "Pak \\"Anwar\\", {x}", \
                "picks": 100.5, "pieces": 3, "run_seconds": 1800, "utilisation": 0.5, "water_l": 40, "workshop": "ws-1"}
                  ],
                  "from": "2026-12-02",
                  "to": "2026-12-02",
                  "unattributed": []
                }

                """)
        #expect(try WireJSON.decode(ReportDocument.self, from: text) == doc)
        #expect(!text.contains("\"looms\""), "a grouping not asked for is left out")
    }

    @Test func nullableFieldsAreWrittenAsNullAndReadWhenMissing() throws {
        let device = RegistryDocument.DeviceEntry(id: "pm-1", workshop: "ws-1", kind: .power, loom: nil, craftsman: nil)
        #expect(try WireJSON.line(device) == #"{"craftsman":null,"id":"pm-1","kind":"power","loom":null,"workshop":"ws-1"}"#)
        #expect(try WireJSON.decode(RegistryDocument.DeviceEntry.self, from: #"{"id":"pm-1","kind":"power","workshop":"ws-1"}"#) == device)
    }

    @Test func ingestCountsAreOneFlatObject() throws {
        var stats = IngestStats()
        stats.accepted = 22
        let record = IngestStatsRecord(sinceMs: 1, updatedMs: 2, counts: ReadingCounts(stats))
        let line = try WireJSON.line(record)
        #expect(line.hasPrefix(#"{"accepted":22,"counter_events":{"glitch":0,"reset":0},"ignored":0,"rejected":{"#), "\(line)")
        #expect(line.hasSuffix(#""rejected_total":0,"since_ms":1,"status_messages":0,"updated_ms":2}"#), "\(line)")
        #expect(record.counts.rejected.count == RejectReason.allCases.count)
        #expect(try WireJSON.decode(IngestStatsRecord.self, from: line) == record)
        // Counts written before `ignored` was kept still read.
        let old = line.replacingOccurrences(of: #""ignored":0,"#, with: "")
        #expect(try WireJSON.decode(IngestStatsRecord.self, from: old) == record)
    }

    @Test func answersReadBackEqual() throws {
        let status = StatusAnswer(
            name: "S", version: "1", now: "n", started: "s", uptimeSeconds: 5, configFile: "c",
            mqtt: .init(broker: "b", connected: true, subscribed: false, reconnects: 1),
            readings: ReadingCounts(IngestStats()), queue: .init(depth: 0), journal: .init(usedBytes: 1, capacityBytes: 2),
            commits: .init(count: 0, failures: 0, lastSeconds: nil, last: nil), reloads: .init(count: 0, failures: 0),
            plugins: [.init(name: "p", up: false, consecutiveFailures: 3, failures: 3, delivered: 0, ackedSeq: nil, lastError: "exited")],
            alertLogSeq: 12, alertsFiring: 1, lastError: nil, registry: .init(nil))
        let text = try WireJSON.text(status)
        #expect(text.contains(#""last_error": null"#) && text.contains(#""last_seconds": null"#))
        #expect(try WireJSON.decode(StatusAnswer.self, from: text) == status)
        let health = SentraAnswer.PowerHealth(status: .noMeter, voltage: nil, watts: nil, devices: [], alerts: [])
        #expect(try WireJSON.line(health) == #"{"alerts":[],"devices":[],"status":"none","voltage":null,"watts":null}"#)
    }
}
