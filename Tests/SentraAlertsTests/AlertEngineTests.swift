import Foundation
import SentraCore
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraAlerts

@Suite struct AlertEngineTests {
    let pm1 = "sentra/ws-a/power/pm-1"
    let wm1 = "sentra/ws-a/water/wm-1"
    let loom1 = "sentra/ws-a/loom/loom-01"

    @Test func thresholdFiresOnFirstReadingPastFor() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag], start: t0)
        for s in stride(from: 0, through: 20, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187") }
        #expect(h.events.isEmpty)
        h.send(pm1, ts: t0 + second(30), "\"v\":187")
        #expect(h.events.count == 1)
        let e = h.events[0]
        #expect(e.status == .firing && e.started == t0 && e.ts == t0 + second(30) && e.value == 187)
        #expect(e.labels == ["workshop": "ws-a", "device": "pm-1"])
        #expect(e.summary == "Voltage 187 V below 198 V for 30 s at ws-a/pm-1")
        var written = e
        written.seq = 7
        #expect(
            written.jsonLine(timeZone: jakarta)
                == "{\"seq\":7,\"ts\":\"2026-11-24T10:00:30+07:00\",\"id\":\"\(e.id)\",\"rule\":\"voltage_sag\",\"status\":\"firing\",\"severity\":\"warning\",\"labels\":{\"device\":\"pm-1\",\"workshop\":\"ws-a\"},\"value\":187,\"summary\":\"Voltage 187 V below 198 V for 30 s at ws-a/pm-1\",\"started\":\"2026-11-24T10:00:00+07:00\"}\n"
        )
    }

    @Test func pendingResetsWhenTheValueRecovers() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag], start: t0)
        h.send(pm1, ts: t0, "\"v\":187")
        h.send(pm1, ts: t0 + second(20), "\"v\":199")
        h.send(pm1, ts: t0 + second(30), "\"v\":187")
        h.send(pm1, ts: t0 + second(50), "\"v\":187")
        #expect(h.events.isEmpty)
        h.send(pm1, ts: t0 + second(60), "\"v\":187")
        #expect(h.events.map(\.started) == [t0 + second(30)])
    }

    @Test func flappingInsideTheBandGivesOneFiringAndOneResolved() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag], start: t0)
        let values = [187, 187, 187, 187, 199, 197, 204, 196, 200, 190, 204.9, 205, 199, 203]
        for (i, v) in values.enumerated() { h.send(pm1, ts: t0 + second(10 * i), "\"v\":\(v)") }
        #expect(h.lines == ["voltage_sag firing", "voltage_sag resolved"])
        #expect(h.events[1].value == 205 && h.events[1].id == h.events[0].id && h.events[1].started == t0)
        #expect(h.events[1].summary.hasPrefix("Resolved: Voltage 187 V"))
    }

    @Test func keepFiringForHoldsAfterRecovery() {
        var rule = Rules.voltageSag
        rule.condition = .threshold(
            field: .v, below: true, limit: 198, resolveAt: 205, forMillis: 0, keepFiringMillis: 60_000, offlineFires: false)
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [rule], start: t0)
        h.send(pm1, ts: t0, "\"v\":180")
        #expect(h.lines == ["voltage_sag firing"])
        h.send(pm1, ts: t0 + second(10), "\"v\":220")
        h.send(pm1, ts: t0 + second(40), "\"v\":220")
        h.send(pm1, ts: t0 + second(50), "\"v\":190")  // back: the hold starts again
        h.send(pm1, ts: t0 + second(60), "\"v\":220")
        h.send(pm1, ts: t0 + second(110), "\"v\":220")
        #expect(h.events.count == 1)
        h.send(pm1, ts: t0 + second(120), "\"v\":221")
        #expect(h.lines == ["voltage_sag firing", "voltage_sag resolved"])
        #expect(h.events[1].ts == t0 + second(120) && h.events[1].value == 221)
    }

    @Test func offlinePowerMeterIsAnOutageAtOnce() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.powerOutage, Rules.voltageSag], start: t0)
        h.send(pm1, ts: t0, "\"v\":220")
        h.status(pm1, "offline", now: t0 + second(30))
        #expect(h.lines == ["power_outage firing"])
        #expect(h.events[0].value == nil && h.events[0].severity == .critical && h.events[0].started == t0 + second(30))
        h.send(pm1, ts: t0 + minute(5), "\"v\":221")
        #expect(h.lines == ["power_outage firing", "power_outage resolved"])
    }

    @Test func waterLowFlowOnlyDuringDyeingAndResolvesWhenDyeingEnds() {
        let t0 = at("2026-11-24T10:50:00")
        let h = Harness(rules: [Rules.waterLowFlow], start: t0)
        for m in 0..<5 { h.send(wm1, ts: t0 + minute(m), "\"lpm\":0.2") }
        #expect(h.lines == ["water_low_flow firing"])
        #expect(h.events[0].summary == "Water flow 0.2 L/min below 1 L/min for 2 min during dyeing at ws-a/wm-1")
        h.tick(at("2026-11-24T10:59:00"))
        #expect(h.events.count == 1)
        h.tick(at("2026-11-24T11:00:01"))
        #expect(h.lines == ["water_low_flow firing", "water_low_flow resolved"])
        #expect(h.events[1].summary.contains("dyeing hours ended"))
        // Outside dyeing hours low flow is no alert.
        for m in 11..<20 { h.send(wm1, ts: t0 + minute(m), "\"lpm\":0") }
        #expect(h.events.count == 2)
    }

    @Test func anAcceleratedReplayFiresAndResolvesAsTheLiveDayDid() {
        // Yesterday 10:50 to 11:05 replayed today at 12:00 (outside dyeing hours), a minute a second.
        let wall0 = at("2026-11-25T12:00:00")
        let t0 = at("2026-11-24T10:50:00")
        let h = Harness(rules: [Rules.waterLowFlow], start: wall0)
        for m in 0...15 {
            let wall = wall0 + second(m)
            h.tick(wall)
            h.pipeline.ingest(topic: wm1, payload: Array("{\"ts\":\(t0 + minute(m)),\"lpm\":0.1}".utf8), now: wall)
            h.tick(wall + 500)
            if m == 9 { #expect(h.lines == ["water_low_flow firing"]) }  // 10:59: still in dyeing hours
        }
        #expect(h.lines == ["water_low_flow firing", "water_low_flow resolved"])
        #expect(h.events[0].ts == t0 + minute(2) && h.events[1].ts == at("2026-11-24T11:00:00"))
    }

    @Test func absentWithoutShift() {
        let t0 = at("2026-11-24T20:00:00")
        let h = Harness(rules: [Rules.deviceSilent(.always)], start: t0)
        h.tick(t0 + minute(1))
        h.send(pm1, ts: t0 + minute(1), "\"v\":220")
        h.tick(t0 + minute(5))
        // wm-1, loom-01 and pm-2 were never heard: silent since the daemon started.
        #expect(Set(h.events.map { $0.labels["device"]! }) == ["wm-1", "loom-01", "pm-2"])
        #expect(h.events.allSatisfy { $0.value == 300 && $0.started == t0 })
        h.events.removeAll()
        h.tick(t0 + minute(6) - 1)
        #expect(h.events.isEmpty)
        h.tick(t0 + minute(6))
        #expect(h.lines == ["device_silent firing"])
        #expect(h.events[0].summary == "No reading from ws-a/pm-1 for 300 s" && h.events[0].started == t0 + minute(1))
        h.tick(t0 + minute(9))
        h.send(pm1, ts: t0 + minute(9), "\"v\":220")
        #expect(h.lines == ["device_silent firing", "device_silent resolved"])
        #expect(h.events[1].value == 480)
    }

    @Test func absentDuringShiftCountsFromTheShiftStart() {
        let t0 = at("2026-11-24T06:50:00")
        let rule = RuleSpec(
            name: "device_silent", severity: .warning, scope: RuleScope(device: IDPattern("pm-1")), window: .shift,
            condition: .absent(forMillis: 300_000), summary: "No reading from {workshop}/{device} for {value} s")
        let h = Harness(rules: [rule], start: t0)
        for m in stride(from: 0, through: 14, by: 1) { h.tick(t0 + minute(m)) }
        #expect(h.events.isEmpty)  // 07:04: in the shift for only 4 minutes
        h.tick(t0 + minute(15))
        #expect(h.lines == ["device_silent firing"])
        #expect(h.events[0].started == at("2026-11-24T07:00:00") && h.events[0].value == 900)
        // Outside the shift it neither fires nor resolves; heard again, it resolves.
        h.send(pm1, ts: t0 + minute(20), "\"v\":220")
        #expect(h.lines == ["device_silent firing", "device_silent resolved"])
        h.tick(at("2026-11-24T17:00:00"))
        h.tick(at("2026-11-24T23:00:00"))
        #expect(h.events.count == 2)
    }

    @Test func stalledLoom() {
        let t0 = at("2026-11-24T08:00:00")
        let h = Harness(rules: [Rules.loomStalled], start: t0)
        h.send(loom1, ts: t0, "\"picks\":1000,\"state\":\"run\"")
        for m in 1...14 { h.send(loom1, ts: t0 + minute(m), "\"picks\":1000") }
        #expect(h.events.isEmpty)
        h.send(loom1, ts: t0 + minute(15), "\"picks\":1000")
        #expect(h.lines == ["loom_stalled firing"])
        let e = h.events[0]
        #expect(e.started == t0 && e.labels == ["workshop": "ws-a", "device": "loom-01", "loom": "loom-01", "craftsman": "c-anwar"])
        #expect(e.summary == "Loom loom-01 of c-anwar at ws-a has not advanced for 15 min")
        h.send(loom1, ts: t0 + minute(16), "\"picks\":1000")
        h.send(loom1, ts: t0 + minute(17), "\"picks\":1100")
        #expect(h.lines == ["loom_stalled firing", "loom_stalled resolved"])
        // Stopped by the weaver: no alert, however long.
        h.send(loom1, ts: t0 + minute(18), "\"picks\":1100,\"state\":\"stop\"")
        for m in 19...60 { h.send(loom1, ts: t0 + minute(m), "\"picks\":1100") }
        #expect(h.events.count == 2)
        // Running again without advancing: stalled 15 min after it said run.
        h.send(loom1, ts: t0 + minute(61), "\"picks\":1100,\"state\":\"run\"")
        for m in 62...76 { h.send(loom1, ts: t0 + minute(m), "\"picks\":1100") }
        #expect(h.events.count == 3 && h.events[2].started == t0 + minute(61))
        h.send(loom1, ts: t0 + minute(77), "\"picks\":1100,\"state\":\"fault\"")
        #expect(h.lines.last == "loom_stalled resolved")
    }

    @Test func stalledOnlyCountsShiftTime() {
        let t0 = at("2026-11-24T06:40:00")
        let h = Harness(rules: [Rules.loomStalled], start: t0)
        for m in 0...34 { h.send(loom1, ts: t0 + minute(m), "\"picks\":5") }  // to 07:14
        #expect(h.events.isEmpty)
        h.send(loom1, ts: t0 + minute(35), "\"picks\":5")
        #expect(h.events.count == 1 && h.events[0].started == at("2026-11-24T07:00:00"))
    }

    @Test func belowUsualAtTheEndOfAnHour() {
        let usual = InMemoryUsualRates()
        for d in 10...23 { usual.record(craftsman: "c-anwar", date: "2026-11-\(d)", hourOfDay: 9, pieces: 10) }
        for d in 10...23 { usual.record(craftsman: "c-anwar", date: "2026-11-\(d)", hourOfDay: 10, pieces: 10) }
        let t0 = at("2026-11-24T08:30:00")
        let h = Harness(rules: [Rules.productionLow], start: t0, usual: usual)
        var pieces = 0
        for m in 0...155 {  // 08:30 to 11:05, a reading a minute
            let ts = t0 + minute(m)
            let local = m + 8 * 60 + 30
            if local >= 9 * 60 && local < 10 * 60 && m % 20 == 0 { pieces += 1 }  // 3 pieces in 9-10
            if local >= 10 * 60 && local < 11 * 60 && m % 7 == 0 { pieces += 1 }  // 9 pieces in 10-11
            h.send(loom1, ts: ts, "\"pieces\":\(pieces)")
            if m == 91 { #expect(h.events.isEmpty) }  // 10:01, inside the grace
        }
        #expect(h.lines == ["production_low firing", "production_low resolved"])
        let e = h.events[0]
        #expect(e.value == 3 && e.started == at("2026-11-24T09:00:00") && e.ts == at("2026-11-24T10:00:00"))
        #expect(e.labels == ["workshop": "ws-a", "craftsman": "c-anwar"])
        #expect(e.summary == "c-anwar made 3 pieces this hour, below 5 (half his usual)")
        #expect(h.events[1].ts == at("2026-11-24T11:00:00") && h.events[1].value == 9)
    }

    @Test func counterResetWritesFiringAndResolvedTogether() {
        let t0 = at("2026-11-24T09:00:00")
        let h = Harness(rules: [Rules.boardReboot], start: t0)
        h.send(loom1, ts: t0, "\"picks\":100,\"pieces\":4")
        h.send(loom1, ts: t0 + minute(1), "\"picks\":200,\"pieces\":4")
        h.send(loom1, ts: t0 + minute(2), "\"picks\":3,\"pieces\":0")
        h.send(loom1, ts: t0 + minute(3), "\"picks\":50,\"pieces\":0")
        #expect(h.lines == ["board_reboot firing", "board_reboot resolved"])
        #expect(h.events[0].ts == h.events[1].ts && h.events[0].severity == .info)
    }

    @Test func restartWritesNoSecondFiringAndKeepsPending() throws {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag, Rules.loomStalled], start: t0)
        for s in stride(from: 0, through: 30, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187") }
        h.send(loom1, ts: t0, "\"picks\":7")
        h.send(loom1, ts: t0 + minute(10), "\"picks\":7")
        #expect(h.lines == ["voltage_sag firing"])
        let saved = try JSONEncoder().encode(h.engine.snapshot())

        // A new daemon, a new pipeline: counters restored as the store would.
        let h2 = Harness(rules: [Rules.voltageSag, Rules.loomStalled], start: t0 + minute(11))
        h2.engine.restore(try JSONDecoder().decode([AlertStateRecord].self, from: saved))
        h2.send(pm1, ts: t0 + minute(11), "\"v\":187")
        h2.send(pm1, ts: t0 + minute(12), "\"v\":190")
        #expect(h2.events.isEmpty)
        h2.send(loom1, ts: t0 + minute(15), "\"picks\":7")
        #expect(h2.lines == ["loom_stalled firing"])  // the pending stall went on
        #expect(h2.events[0].started == t0)
        h2.send(pm1, ts: t0 + minute(13), "\"v\":230")
        #expect(h2.lines == ["loom_stalled firing", "voltage_sag resolved"])
        #expect(h2.events[1].id == h.events[0].id && h2.events[1].started == t0)
    }

    @Test func restoreResolvesAlertsOfRulesThatAreGone() throws {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag], start: t0)
        for s in stride(from: 0, through: 30, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187") }
        let h2 = Harness(rules: [], start: t0 + minute(1))
        h2.engine.restore(h.engine.snapshot())
        #expect(h2.lines == ["voltage_sag resolved"])
        #expect(h2.events[0].summary.contains("rule voltage_sag was removed"))
    }

    @Test func reloadKeepsUnchangedRulesAndResolvesRemovedOnes() {
        let t0 = at("2026-11-24T10:00:00")
        var tank = RuleSpec(
            name: "tank_low", severity: .warning, scope: RuleScope(kind: .water), window: .always,
            condition: .threshold(
                field: .level, below: true, limit: 15, resolveAt: 25, forMillis: 0, keepFiringMillis: 0, offlineFires: false),
            summary: "Water tank at {workshop}/{device} down to {value} %")
        let h = Harness(rules: [Rules.voltageSag, tank], start: t0)
        for s in stride(from: 0, through: 30, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187") }
        h.send(wm1, ts: t0, "\"level\":10")
        // A pending sag on pm-2 must survive the reload too.
        h.send("sentra/ws-b/power/pm-2", ts: t0, "\"v\":180")
        #expect(h.lines == ["voltage_sag firing", "tank_low firing"])

        h.engine.reload(registry: h.registry, rules: [Rules.voltageSag])
        #expect(h.lines == ["voltage_sag firing", "tank_low firing", "tank_low resolved"])
        #expect(h.events[2].summary.contains("rule tank_low was removed by a reload"))
        h.send(pm1, ts: t0 + second(40), "\"v\":187")
        h.send("sentra/ws-b/power/pm-2", ts: t0 + second(30), "\"v\":180")
        #expect(h.lines == ["voltage_sag firing", "tank_low firing", "tank_low resolved", "voltage_sag firing"])
        #expect(h.events[3].labels["device"] == "pm-2" && h.events[3].started == t0)

        // A changed rule starts afresh: its firing alert is resolved, saying why.
        tank.summary = "Tank low"
        h.engine.reload(registry: h.registry, rules: [Rules.voltageSag, tank])
        var sag = Rules.voltageSag
        sag.condition = .threshold(
            field: .v, below: true, limit: 190, resolveAt: 205, forMillis: 30_000, keepFiringMillis: 0, offlineFires: false)
        h.engine.reload(registry: h.registry, rules: [sag, tank])
        #expect(h.events.suffix(2).allSatisfy { $0.status == .resolved && $0.summary.contains("was changed by a reload") })
    }

    @Test func idsAreStableAndDependOnRuleAndLabels() {
        let a = AlertID.make(rule: "voltage_sag", labels: ["workshop": "ws-a", "device": "pm-1"])
        #expect(a == AlertID.make(rule: "voltage_sag", labels: ["device": "pm-1", "workshop": "ws-a"]))
        #expect(a != AlertID.make(rule: "voltage_sag", labels: ["workshop": "ws-a", "device": "pm-2"]))
        #expect(a != AlertID.make(rule: "power_outage", labels: ["workshop": "ws-a", "device": "pm-1"]))
        #expect(a.count == 16)
    }

    @Test func formatting() {
        #expect(NumberFormat.duration(millis: 30_000) == "30 s")
        #expect(NumberFormat.duration(millis: 120_000) == "2 min")
        #expect(NumberFormat.duration(millis: 900_000) == "15 min")
        #expect(NumberFormat.duration(millis: 3_600_000) == "1 h")
        #expect(NumberFormat.duration(millis: 90_000) == "90 s")
        #expect(NumberFormat.human(187.0) == "187" && NumberFormat.human(0.25) == "0.25")
        #expect(NumberFormat.json(187) == "187" && NumberFormat.json(0.5) == "0.5")
        let t = at("2026-11-24T10:15:30")
        #expect(RFC3339.format(t, timeZone: jakarta) == "2026-11-24T10:15:30+07:00")
        #expect(RFC3339.format(t + 250, timeZone: jakarta) == "2026-11-24T10:15:30.250+07:00")
        #expect(RFC3339.parse("2026-11-24T03:15:30Z") == t)
        #expect(RFC3339.format(t, timeZone: TimeZone(identifier: "UTC")!) == "2026-11-24T03:15:30Z")
    }
}
