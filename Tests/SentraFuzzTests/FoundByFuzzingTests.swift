import Foundation
import SentraAlertLog
import SentraCore
import Testing

/// What the fuzzers found, pinned where it was fixed (the inputs are in Tests/Fuzz/crashers).
@Suite struct FoundByFuzzingTests {
    @Test func aSeqPastInt64IsNoSeq() {
        #expect(AlertLog.seq(ofLine: #"{"seq":42,"ts":"x"}"#) == 42)
        #expect(AlertLog.seq(ofLine: #"{"seq":99999999999999999999,"ts":"x"}"#) == nil)
        #expect(AlertLog.seq(ofLine: #"{"seq":9223372036854775807,"ts":"x"}"#) == nil)
        #expect(AlertLog.seq(ofLine: #"{"seq":9223372036854775806,"ts":"x"}"#) == 9_223_372_036_854_775_806)
    }

    @Test func aTimeInAnOffsetWithSecondsKeepsItsInstant() throws {
        // Asia/Jakarta kept local mean time, +07:07:12, until 1924.
        let jakarta = try #require(TimeZone(identifier: "Asia/Jakarta"))
        let ms = try #require(RFC3339.parse("1013-11-24T10:15:00Z"))
        #expect(RFC3339.format(ms, timeZone: jakarta) == "1013-11-24T17:22:00+07:07")
        #expect(RFC3339.parse(RFC3339.format(ms, timeZone: jakarta)) == ms)
    }
}
