import Foundation
import Testing

@testable import SentraLocale

@Suite struct LocaleFormatTests {
    let id = LocaleFormat(.id)
    let en = LocaleFormat(.en)

    @Test func numbersAreGroupedAndPointedAsEachLanguageWritesThem() {
        #expect(id.number(1234.5) == "1.234,5")
        #expect(en.number(1234.5) == "1,234.5")
        #expect(id.number(187.5) == "187,5")
        #expect(id.number(1_234_567.25, fractionDigits: 2) == "1.234.567,25")
        #expect(en.number(1_234_567.25, fractionDigits: 2) == "1,234,567.25")
        #expect(id.number(999) == "999")
        #expect(id.number(1000) == "1.000")
        #expect(id.number(0) == "0")
        #expect(id.number(.nan) == "-")
        #expect(en.number(.infinity) == "-")
    }

    @Test func negativesKeepTheirSignUnlessTheyRoundToZero() {
        #expect(id.number(-1234.5) == "-1.234,5")
        #expect(en.number(-1234.5) == "-1,234.5")
        #expect(en.number(-0.04) == "0")
        #expect(id.integer(-1_000_000) == "-1.000.000")
        #expect(en.integer(Int64.min) == "-9,223,372,036,854,775,808")
        #expect(id.rupiah(-15000) == "-Rp 15.000")
    }

    @Test func roundingIsHalfAwayFromZeroAndDropsTrailingZeros() {
        #expect(en.number(2.25, fractionDigits: 1) == "2.3")  // 2.25 is exact in binary
        #expect(en.number(-2.25, fractionDigits: 1) == "-2.3")
        #expect(en.number(0.5, fractionDigits: 0) == "1")
        #expect(en.number(1.5, fractionDigits: 0) == "2")
        #expect(en.number(2.5, fractionDigits: 0) == "3")
        #expect(id.number(1.20, fractionDigits: 2) == "1,2")
        #expect(id.number(1.999, fractionDigits: 2) == "2")
        #expect(id.number(0.05, fractionDigits: 3) == "0,05")
        #expect(id.number(999.96, fractionDigits: 1) == "1.000")
    }

    @Test func rupiahIsWholeAndGrouped() {
        #expect(id.rupiah(1_250_000) == "Rp 1.250.000")
        #expect(en.rupiah(1_250_000) == "Rp 1,250,000")
        #expect(id.rupiah(0) == "Rp 0")
        #expect(id.rupiah(85000) == "Rp 85.000")
    }

    @Test func datesNameTheWeekdayAndMonthInTheLanguage() {
        #expect(id.date("2026-11-23") == "Senin, 23 Nov 2026")
        #expect(en.date("2026-11-23") == "Monday, 23 Nov 2026")
        #expect(id.date("2026-08-17") == "Senin, 17 Agu 2026")
        #expect(id.date("2026-12-06") == "Minggu, 6 Des 2026")
        #expect(en.shortDate("2026-05-01") == "1 May 2026")
        #expect(id.shortDate("2026-05-01") == "1 Mei 2026")
    }

    @Test func leapDaysExistOnlyInLeapYears() {
        #expect(en.date("2024-02-29") == "Thursday, 29 Feb 2024")
        #expect(en.date("2000-02-29") == "Tuesday, 29 Feb 2000")
        #expect(id.date("2028-02-29") == "Selasa, 29 Feb 2028")
        // Not dates: given back as they are.
        for bad in ["2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-1-5", "+026-01-05", "x", ""] {
            #expect(en.date(bad) == bad)
        }
    }

    @Test func theWeekdayOfEveryDayFrom1900To2100AgreesWithFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(secondsFromGMT: 0))
        var day = try #require(calendar.date(from: DateComponents(year: 1900, month: 1, day: 1)))
        let end = try #require(calendar.date(from: DateComponents(year: 2100, month: 12, day: 31)))
        var checked = 0
        var wrong: [String] = []
        while day <= end {
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            let (y, m, d, w) = (c.year ?? 0, c.month ?? 0, c.day ?? 0, c.weekday ?? 0)
            let iso = w == 1 ? 7 : w - 1  // Foundation: 1 = Sunday; ISO: 1 = Monday
            if LocaleFormat.weekday(y, m, d) != iso { wrong.append("\(y)-\(m)-\(d)") }
            checked += 1
            day += 86400
        }
        #expect(checked == 73_414)
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    @Test func durationsInEachLanguage() {
        #expect(en.duration(millis: 30_000) == "30 s")
        #expect(id.duration(millis: 30_000) == "30 detik")
        #expect(en.duration(millis: 90_000) == "90 s")
        #expect(id.duration(millis: 150_000) == "2 menit 30 detik")
        #expect(en.duration(millis: 900_000) == "15 min")
        #expect(id.duration(millis: 900_000) == "15 menit")
        #expect(id.duration(millis: 7_200_000) == "2 jam")
        #expect(id.duration(millis: 1_500) == "1,5 detik")
        #expect(en.duration(millis: 5_400_000) == "90 min")
    }
}

@Suite struct LanguageTests {
    @Test(arguments: [
        ("id-ID,id;q=0.9,en;q=0.8", Language.id),
        ("en-US,en;q=0.9", .en),
        ("id", .id),
        ("in", .id),
        ("ms-MY,ms;q=0.9", .en),  // Malay is not Indonesian: fallback
        ("fr", .en),
        ("fr-FR,fr;q=0.9,id;q=0.5", .id),
        ("en;q=0.4,id;q=0.6", .id),
        ("id;q=0.5,en;q=0.5", .id),  // equal quality: the first
        ("en;q=0,id", .id),
        ("id;q=0", .en),
        ("id;q=0, en;q=0", .en),
        ("*", .en),
        ("", .en),
        (";;;,,,=q", .en),
        ("id;q=abc", .id),  // an unreadable quality counts as 1
        ("\u{0}\u{7F}ÿ", .en),
    ])
    func acceptLanguagePicksTheBestLanguageSentraSpeaks(_ header: String, _ expected: Language) {
        #expect(Language.negotiate(acceptLanguage: header, fallback: .en) == expected)
    }

    @Test func theFallbackIsUsedWhenNothingMatches() {
        #expect(Language.negotiate(acceptLanguage: "fr, de", fallback: .id) == .id)
        #expect(Language.negotiate(acceptLanguage: nil, fallback: .id) == .id)
        #expect(Language.negotiate(acceptLanguage: "en", fallback: .id) == .en)
    }

    @Test func aTenKilobyteHeaderIsNotReadAndGivesTheFallback() {
        let huge = "id-ID," + String(repeating: "xx-YY;q=0.1,", count: 850)
        #expect(huge.utf8.count > 10_000)
        #expect(Language.negotiate(acceptLanguage: huge, fallback: .en) == .en)
        #expect(Language.negotiate(acceptLanguage: huge, fallback: .id) == .id)
    }
}
