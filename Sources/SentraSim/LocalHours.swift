import Foundation
import SentraCore

// MARK: Local hours

/// Local hours and days from Foundation's calendar in the sentra's time zone, each found
/// once and numbered in the order first seen.
struct LocalHours {
    struct Hour {
        /// `[start, end)`, ms since the epoch.
        var start: Int64
        var end: Int64
        var day: Int
    }
    struct Day {
        var date: String
        /// The end of the local day, ms.
        var end: Int64
    }

    private var calendar: Calendar
    private(set) var hours: [Hour] = []
    private(set) var days: [Day] = []
    private var hourByStart: [Int64: Int] = [:]
    private var dayByDate: [String: Int] = [:]
    private var last = -1
    private var previous = -1

    init(timeZone: TimeZone) {
        calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
    }

    /// The index of the local hour holding `ms`.
    @inline(__always) mutating func hour(at ms: Int64) -> Int {
        if last >= 0, hours[last].start <= ms, ms < hours[last].end { return last }
        if previous >= 0, hours[previous].start <= ms, ms < hours[previous].end {
            swap(&last, &previous)
            return last
        }
        let i = find(ms)
        previous = last
        last = i
        return i
    }

    private mutating func find(_ ms: Int64) -> Int {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let interval = calendar.dateInterval(of: .hour, for: date) ?? DateInterval(start: date, duration: 0)
        var start = Self.millis(interval.start)
        var end = Self.millis(interval.end)
        if !(start <= ms && ms < end) {
            // Never expected: fall back to the hour of the current offset.
            let off = Int64(calendar.timeZone.secondsFromGMT(for: date)) * 1000
            start = floorDiv(ms + off, 3_600_000) * 3_600_000 - off
            end = start + 3_600_000
        }
        if let i = hourByStart[start] { return i }
        let c = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(start) / 1000))
        let dateText = Self.date(c.year ?? 0, c.month ?? 0, c.day ?? 0)
        let day: Int
        if let d = dayByDate[dateText] {
            day = d
        } else {
            let dayInterval = calendar.dateInterval(of: .day, for: Date(timeIntervalSince1970: Double(start) / 1000))
            day = days.count
            days.append(Day(date: dateText, end: dayInterval.map { Self.millis($0.end) } ?? end))
            dayByDate[dateText] = day
        }
        hours.append(Hour(start: start, end: end, day: day))
        hourByStart[start] = hours.count - 1
        return hours.count - 1
    }

    private static func millis(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded()) }

    static func date(_ y: Int, _ m: Int, _ d: Int) -> String {
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }
}

/// RFC 3339 with the time zone's offset at that moment, e.g. `2026-11-24T07:00:00+07:00`.
func rfc3339(_ ms: Int64, timeZone: TimeZone) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    let seconds = floorDiv(ms, 1000)
    let date = Date(timeIntervalSince1970: Double(seconds))
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    let off = timeZone.secondsFromGMT(for: date)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let sign = off < 0 ? "-" : "+"
    let a = abs(off)
    let frac = ms - seconds * 1000
    let fracText = frac == 0 ? "" : "." + String(String(frac + 1000).dropFirst())
    return "\(LocalHours.date(c.year ?? 0, c.month ?? 0, c.day ?? 0))T\(two(c.hour ?? 0)):\(two(c.minute ?? 0)):\(two(c.second ?? 0))"
        + "\(fracText)\(sign)\(two(a / 3600)):\(two(a / 60 % 60))"
}
