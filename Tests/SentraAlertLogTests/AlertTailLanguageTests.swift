import Foundation
import SentraCore
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraAlertLog

/// `sentractl tail`'s human line: its own words (status, severity) in the asked language,
/// the summary as the log has it.
@Suite struct AlertTailLanguageTests {
    @Test func theLinesOwnWordsAreIndonesianAndAligned() {
        let firing = sampleEvent(0, severity: .warning)
        let resolved = sampleEvent(1, severity: .critical)
        let f = AlertTail.human(firing, timeZone: jakarta, color: false, language: .id)
        let r = AlertTail.human(resolved, timeZone: jakarta, color: false, language: .id)
        #expect(f.hasPrefix("2026-11-24 10:00:00  AKTIF     peringatan  voltage_sag  ws-a/pm-0  Event 0"), "\(f)")
        #expect(r.hasPrefix("2026-11-24 10:00:01  teratasi  kritis      voltage_sag  ws-a/pm-1  Event 1"), "\(r)")
    }

    @Test func englishIsAsItWas() {
        let f = AlertTail.human(sampleEvent(0, severity: .info), timeZone: jakarta, color: false)
        #expect(f.hasPrefix("2026-11-24 10:00:00  FIRING    info      voltage_sag  ws-a/pm-0  Event 0"), "\(f)")
        #expect(
            AlertTail.human(sampleEvent(0), timeZone: jakarta, color: false, language: .en)
                == AlertTail.human(sampleEvent(0), timeZone: jakarta, color: false))
    }

    @Test func theOptionReachesTheRenderedLines() throws {
        var o = AlertTail.Options()
        o.language = .id
        let tail = AlertTail(path: "/nonexistent", timeZone: jakarta, options: o)
        let line = sampleEvent(2, severity: .critical).jsonLine(timeZone: jakarta)
        let out = try #require(tail.render(String(line.dropLast()), color: false))
        #expect(out.contains("  AKTIF     kritis      voltage_sag  "), "\(out)")
    }
}
