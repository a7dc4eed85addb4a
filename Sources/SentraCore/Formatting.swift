import Foundation

/// RFC 3339 with the sentra's UTC offset; milliseconds only when there are some.
public enum RFC3339 {
    public static func format(_ ms: Int64, timeZone: TimeZone) -> String {
        let exact = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(ms) / 1000)))
        // An offset with seconds (local mean time before 1924 in Jakarta) has none in RFC 3339:
        // the time is written in the whole-minute offset, so it still names the same instant.
        let off = exact - exact % 60
        let secs = floorDiv(ms, 1000)
        let millis = ms - secs * 1000
        let local = secs + off
        let days = floorDiv(local, 86_400)
        let sod = local - days * 86_400
        var s = LocalCalendar.civilDate(daysSinceEpoch: days)
        s += "T" + pad(sod / 3600) + ":" + pad(sod / 60 % 60) + ":" + pad(sod % 60)
        if millis != 0 { s += "." + pad(millis, 3) }
        if off == 0 { return s + "Z" }
        let a = abs(off) / 60
        return s + (off < 0 ? "-" : "+") + pad(a / 60) + ":" + pad(a % 60)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` into ms since the epoch.
    public static func parse(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count >= 20, let days = LocalCalendar.daysSinceEpoch(String(decoding: u[0..<10], as: UTF8.self)),
            u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: " "),
            let hh = num(u, 11, 2), let mm = num(u, 14, 2), let ss = num(u, 17, 2)
        else { return nil }
        var i = 19
        var ms: Int64 = 0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100
            while i < u.count, let d = digit(u[i]) {
                ms += d * scale
                scale /= 10
                i += 1
            }
        }
        guard i < u.count else { return nil }
        var off: Int64 = 0
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            guard i + 1 == u.count else { return nil }
        } else if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            guard i + 6 == u.count, let oh = num(u, i + 1, 2), let om = num(u, i + 4, 2) else { return nil }
            off = (oh * 60 + om) * 60 * (u[i] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        return ((days * 86_400 + hh * 3600 + mm * 60 + ss) - off) * 1000 + ms
    }

    private static func digit(_ b: UInt8) -> Int64? {
        b >= 48 && b <= 57 ? Int64(b - 48) : nil
    }
    private static func num(_ u: [UInt8], _ at: Int, _ n: Int) -> Int64? {
        guard at + n <= u.count else { return nil }
        var v: Int64 = 0
        for i in at..<at + n {
            guard let d = digit(u[i]) else { return nil }
            v = v * 10 + d
        }
        return v
    }
    private static func pad(_ v: Int64, _ n: Int = 2) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
}

/// Numbers as people and JSON want them: 187 not 187.0, at most 3 decimals in summaries.
public enum NumberFormat {
    public static func json(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    public static func human(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        let r = (x * 1000).rounded() / 1000
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        var s = String(format: "%.3f", r)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    /// "30 s", "2 min", "15 min", "1 h", "1 h 30 min".
    public static func duration(millis: Int64) -> String {
        if millis % 1000 != 0 && millis < 60_000 { return "\(human(Double(millis) / 1000)) s" }
        let s = millis / 1000
        if s < 60 || (s < 120 && s % 60 != 0) { return "\(s) s" }
        if s % 60 != 0 { return "\(s / 60) min \(s % 60) s" }
        let m = s / 60
        return m % 60 != 0 ? "\(m) min" : "\(m / 60) h"
    }
}
