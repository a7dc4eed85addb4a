import Foundation
import SentraCore
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraAlerts

@Suite struct AlertStateTests {
    let pm1 = "sentra/ws-a/power/pm-1"
    let loom1 = "sentra/ws-a/loom/loom-01"

    @Test func slotKeysPersistAsRuleTypeAndSubject() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag, Rules.productionLow], start: t0, usual: InMemoryUsualRates())
        h.send(pm1, ts: t0, "\"v\":187")
        h.send(loom1, ts: t0, "\"pieces\":1")
        let (records, replaceAll) = h.engine.changedRecords()
        #expect(replaceAll)
        #expect(
            Set(records.map(\.key.description)) == [
                "voltage_sag|threshold|ws-a/power/pm-1", "production_low|below_usual|craftsman/c-anwar",
            ])
        // Only what changed comes next time.
        h.send(pm1, ts: t0 + second(10), "\"v\":187")
        #expect(h.engine.changedRecords().records.isEmpty)
        h.send(pm1, ts: t0 + second(30), "\"v\":187")
        let next = h.engine.changedRecords()
        #expect(!next.replaceAll && next.records.map(\.key.description) == ["voltage_sag|threshold|ws-a/power/pm-1"])
    }

    @Test func aRecordIsStoredFlatAndReadBackFromThatForm() throws {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag], start: t0)
        for s in stride(from: 0, through: 30, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187") }
        let record = try #require(h.engine.snapshot().first)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any])
        #expect(Set(object.keys) == ["rule", "type", "subject", "state"])
        #expect(object["subject"] as? String == "ws-a/power/pm-1" && object["type"] as? String == "threshold")

        // As a database written before holds it: the firing alert goes on and resolves once.
        let firing = try #require(record.state.firing)
        let stored = """
            {"rule":"voltage_sag","type":"threshold","subject":"ws-a/power/pm-1","state":\
            {"firing":{"id":"\(firing.id)","labels":{"device":"pm-1","workshop":"ws-a"},"started":\(t0),"value":187,\
            "summary":"\(firing.summary)","severity":"warning"}}}
            """
        let decoded = try JSONDecoder().decode(AlertStateRecord.self, from: Data(stored.utf8))
        #expect(decoded.key == AlertSlotKey(rule: "voltage_sag", type: "threshold", subject: "ws-a/power/pm-1"))
        let h2 = Harness(rules: [Rules.voltageSag], start: t0 + minute(1))
        h2.engine.restore([decoded])
        h2.send(pm1, ts: t0 + minute(1), "\"v\":187")
        #expect(h2.events.isEmpty)
        h2.send(pm1, ts: t0 + minute(2), "\"v\":230")
        #expect(h2.lines == ["voltage_sag resolved"] && h2.events[0].id == firing.id && h2.events[0].started == t0)
    }

    @Test func aStateOfAnotherRuleTypeIsNotTakenOver() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag], start: t0)
        for s in stride(from: 0, through: 30, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187") }
        var renamed = Rules.deviceSilent(.always)
        renamed.name = "voltage_sag"
        let h2 = Harness(rules: [renamed], start: t0 + minute(1))
        h2.engine.restore(h.engine.snapshot())
        #expect(h2.lines == ["voltage_sag resolved"])
        #expect(h2.events[0].summary.hasPrefix("Resolved (its subject is no longer configured): "))
    }

    @Test func summaryPlaceholdersAreFilledAndOtherBracesKept() {
        let labels = ["workshop": "ws-a", "device": "pm-1"]
        #expect(
            SummaryTemplate.render(
                "{device} at {workshop}: {value} of {limit} for {for}", labels: labels, value: 187.5, limit: 198, forMillis: 120_000)
                == "pm-1 at ws-a: 187.5 of 198 for 2 min")
        #expect(
            SummaryTemplate.render("{loom} {craftsman} {value} {limit} {other}", labels: labels, value: nil, limit: nil, forMillis: 0)
                == "- - - - {other}")
    }
}
