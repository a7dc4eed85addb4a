import Foundation
import SentraCore
import SentraLocale
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraAlerts

/// Summaries in the sentra's language: numbers, durations and the words of resolutions.
@Suite struct SummaryLanguageTests {
    let pm1 = "sentra/ws-a/power/pm-1"
    let wm1 = "sentra/ws-a/water/wm-1"
    let loom1 = "sentra/ws-a/loom/loom-01"

    static func indonesian(_ rule: RuleSpec, _ summary: String) -> RuleSpec {
        var r = rule
        r.summary = summary
        return r
    }

    static let sag = indonesian(Rules.voltageSag, "Tegangan {value} V di bawah {limit} V selama {for} di {workshop}/{device}")

    @Test func anIndonesianSentraWritesDecimalCommasAndIndonesianDurations() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Self.sag], start: t0, language: .id)
        for s in stride(from: 0, through: 30, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187.5") }
        #expect(h.lines == ["voltage_sag firing"])
        #expect(h.events[0].summary == "Tegangan 187,5 V di bawah 198 V selama 30 detik di ws-a/pm-1")
        #expect(h.events[0].value == 187.5)
        h.send(pm1, ts: t0 + second(40), "\"v\":230")
        #expect(h.lines == ["voltage_sag firing", "voltage_sag resolved"])
        #expect(h.events[1].summary == "Teratasi: Tegangan 187,5 V di bawah 198 V selama 30 detik di ws-a/pm-1")
    }

    @Test func anEnglishSentraWritesDecimalPointsAndGroupsThousands() {
        var rule = Rules.voltageSag
        rule.condition = .threshold(
            field: .v, below: false, limit: 1200, resolveAt: 1200, forMillis: 0, keepFiringMillis: 0, offlineFires: false)
        rule.summary = "{value} above {limit} for {for}"
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [rule], start: t0, language: .en)
        h.send(pm1, ts: t0, "\"v\":1234.5")
        #expect(h.events.map(\.summary) == ["1,234.5 above 1,200 for 0 s"])
    }

    @Test func theEndOfDyeingHoursIsSaidInIndonesian() {
        let rule = Self.indonesian(Rules.waterLowFlow, "Aliran air {value} L/menit di bawah {limit} L/menit selama {for}")
        let t0 = at("2026-11-24T10:50:00")
        let h = Harness(rules: [rule], start: t0, language: .id)
        for m in 0..<5 { h.send(wm1, ts: t0 + minute(m), "\"lpm\":0.2") }
        #expect(h.events.map(\.summary) == ["Aliran air 0,2 L/menit di bawah 1 L/menit selama 2 menit"])
        h.tick(at("2026-11-24T11:00:01"))
        #expect(h.lines == ["water_low_flow firing", "water_low_flow resolved"])
        #expect(h.events[1].summary == "Teratasi (jam pencelupan berakhir): Aliran air 0,2 L/menit di bawah 1 L/menit selama 2 menit")
    }

    @Test func aStalledLoomSaysItsDurationAndTheLoomsReportInIndonesian() {
        let rule = Self.indonesian(Rules.loomStalled, "Alat tenun {loom} milik {craftsman} tidak maju selama {for}")
        let t0 = at("2026-11-24T08:00:00")
        let h = Harness(rules: [rule], start: t0, language: .id)
        h.send(loom1, ts: t0, "\"picks\":1000,\"state\":\"run\"")
        for m in 1...15 { h.send(loom1, ts: t0 + minute(m), "\"picks\":1000") }
        #expect(h.events.map(\.summary) == ["Alat tenun loom-01 milik c-anwar tidak maju selama 15 menit"])
        h.send(loom1, ts: t0 + minute(16), "\"picks\":1000,\"state\":\"fault\"")
        #expect(h.lines == ["loom_stalled firing", "loom_stalled resolved"])
        #expect(h.events[1].summary == "Teratasi (alat tenun melapor rusak): Alat tenun loom-01 milik c-anwar tidak maju selama 15 menit")
    }

    @Test func aReloadChangesTheLanguageOfWhatIsWrittenFromThenOn() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Rules.voltageSag], start: t0, language: .en)
        for s in stride(from: 0, through: 30, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187") }
        #expect(h.events.map(\.summary) == ["Voltage 187 V below 198 V for 30 s at ws-a/pm-1"])
        // Same rule, language id: the alert goes on; its end is said in Indonesian.
        h.engine.reload(registry: h.registry, rules: [Rules.voltageSag], language: .id)
        #expect(h.events.count == 1)
        h.send(pm1, ts: t0 + second(40), "\"v\":230")
        #expect(h.events.last?.summary == "Teratasi: Voltage 187 V below 198 V for 30 s at ws-a/pm-1")
        // Fires again (Indonesian numbers now), then the rule is removed by a reload.
        for s in stride(from: 50, through: 80, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187.5") }
        #expect(h.events.last?.summary == "Voltage 187,5 V below 198 V for 30 detik at ws-a/pm-1")
        h.engine.reload(registry: h.registry, rules: [], language: .id)
        #expect(h.lines.last == "voltage_sag resolved")
        #expect(
            h.events.last?.summary
                == "Teratasi (aturan voltage_sag dihapus saat konfigurasi dimuat ulang): Voltage 187,5 V below 198 V for 30 detik at ws-a/pm-1"
        )
    }

    @Test func aRestoredAlertWhoseRuleIsGoneResolvesInTheSentrasLanguage() {
        let t0 = at("2026-11-24T10:00:00")
        let h = Harness(rules: [Self.sag], start: t0, language: .id)
        for s in stride(from: 0, through: 30, by: 10) { h.send(pm1, ts: t0 + second(s), "\"v\":187") }
        let h2 = Harness(rules: [], start: t0 + minute(1), language: .id)
        h2.engine.restore(h.engine.snapshot())
        #expect(h2.lines == ["voltage_sag resolved"])
        #expect(
            h2.events.first?.summary
                == "Teratasi (aturan voltage_sag sudah dihapus): Tegangan 187 V di bawah 198 V selama 30 detik di ws-a/pm-1")
    }
}
