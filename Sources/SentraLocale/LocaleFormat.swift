/// Numbers, money and dates as a language writes them, by hand (no ICU): `1.234,5` and
/// `Senin, 23 Nov 2026` in Indonesian, `1,234.5` and `Monday, 23 Nov 2026` in English. The
/// day and month names come from the catalogue.
public struct LocaleFormat: Sendable {
    public let language: Language
    let catalogue: Catalogue
    let group: String
    let decimal: String

    public init(_ language: Language) {
        self.language = language
        self.catalogue = Catalogue.of(language)
        (group, decimal) = language == .id ? (".", ",") : (",", ".")
    }

    /// `x` rounded to at most `fractionDigits` digits (trailing zeros dropped), grouped by
    /// thousands. Not finite: `-`.
    public func number(_ x: Double, fractionDigits: Int = 1) -> String {
        guard x.isFinite else { return "-" }
        let digits = max(0, min(fractionDigits, 6))
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(x) * Double(scale)).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e17 else { return String(x) }
        let n = Int64(scaled)
        var whole = grouped(n / scale)
        var frac = n % scale
        if digits > 0 && frac != 0 {
            var width = digits
            while frac % 10 == 0 {
                frac /= 10
                width -= 1
            }
            let f = String(frac)
            whole += decimal + String(repeating: "0", count: width - f.count) + f
        }
        return (x < 0 && n != 0 ? "-" : "") + whole
    }

    /// A whole number grouped by thousands: `12.345` / `12,345`.
    public func integer(_ n: Int64) -> String { (n < 0 ? "-" : "") + grouped(n.magnitude) }

    /// Rupiah, whole: `Rp 1.250.000` / `Rp 1,250,000`.
    public func rupiah(_ n: Int64) -> String { (n < 0 ? "-" : "") + "Rp " + grouped(n.magnitude) }

    /// A local date `YYYY-MM-DD` in long form, `Senin, 23 Nov 2026`; the input itself when it is
    /// no date.
    public func date(_ ymd: String) -> String {
        guard let (y, m, d) = Self.split(ymd) else { return ymd }
        return catalogue.text(
            "format.date_long",
            [
                "weekday": catalogue["weekday.\(Self.weekday(y, m, d))"], "day": String(d),
                "month": catalogue["month.short.\(m)"], "year": String(y),
            ])
    }

    /// A local date without the weekday: `23 Nov 2026`.
    public func shortDate(_ ymd: String) -> String {
        guard let (y, m, d) = Self.split(ymd) else { return ymd }
        return catalogue.text("format.date_short", ["day": String(d), "month": catalogue["month.short.\(m)"], "year": String(y)])
    }

    /// A rule's duration: `30 s`, `2 min 30 s`, `15 min`, `2 h` (`30 detik`, `15 menit`, `2 jam`).
    /// Whole hours in hours, whole minutes in minutes, else minutes and seconds (under two
    /// minutes: seconds).
    public func duration(millis: Int64) -> String {
        let unit = { (key: String, n: String) in self.catalogue.text("format.duration.\(key)", ["n": n]) }
        if millis % 1000 != 0 && millis < 60_000 { return unit("s", number(Double(millis) / 1000, fractionDigits: 3)) }
        let s = millis / 1000
        if s < 60 || (s < 120 && s % 60 != 0) { return unit("s", integer(s)) }
        if s % 60 != 0 { return unit("min", integer(s / 60)) + " " + unit("s", integer(s % 60)) }
        let m = s / 60
        return m % 60 != 0 ? unit("min", integer(m)) : unit("h", integer(m / 60))
    }

    private func grouped<T: BinaryInteger>(_ n: T) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out += group }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `YYYY-MM-DD` as numbers: a day that exists (30 February does not), years 1 to 9999.
    static func split(_ ymd: String) -> (Int, Int, Int)? {
        guard ymd.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let p = ymd.split(separator: "-", omittingEmptySubsequences: false)
        guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2, let y = Int(p[0]), let m = Int(p[1]),
            let d = Int(p[2]), (1...9999).contains(y), (1...12).contains(m), (1...daysIn(month: m, year: y)).contains(d)
        else { return nil }
        return (y, m, d)
    }

    /// Days in a month of the Gregorian calendar.
    static func daysIn(month m: Int, year y: Int) -> Int {
        switch m {
        case 2: (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// ISO weekday (1 = Monday) of a civil date (Sakamoto's method).
    static func weekday(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
        let yy = m < 3 ? y - 1 : y
        let w = (yy + yy / 4 - yy / 100 + yy / 400 + t[m - 1] + d) % 7  // 0 = Sunday
        return w == 0 ? 7 : w
    }
}
