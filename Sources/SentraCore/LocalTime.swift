import Foundation

/// A moment seen in the sentra's time zone.
public struct LocalTime: Sendable, Equatable {
    /// `YYYY-MM-DD`.
    public var date: String
    /// ISO weekday, 1 = Monday.
    public var weekday: Int
    public var minuteOfDay: Int
    /// The local hour's start, in seconds since the epoch (UTC).
    public var hourStart: Int64
}

/// Turns event times into local hours and days. Caches the UTC offset per UTC hour, so the
/// hot path asks Foundation for a time zone offset once an hour, not once a reading.
public struct LocalCalendar: Sendable {
    public let timeZone: TimeZone
    private var cachedHour: Int64 = .min
    private var cachedOffset: Int64 = 0

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    public init?(identifier: String) {
        guard let tz = TimeZone(identifier: identifier) else { return nil }
        self.init(timeZone: tz)
    }

    /// Seconds east of UTC at `ms`.
    public mutating func offset(atMillis ms: Int64) -> Int64 {
        let hour = ms >= 0 ? ms / 3_600_000 : (ms - 3_599_999) / 3_600_000
        if hour != cachedHour {
            cachedHour = hour
            cachedOffset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(hour) * 3600)))
        }
        return cachedOffset
    }

    /// The start (UTC seconds) of the local hour containing `ms`.
    public mutating func hourStart(atMillis ms: Int64) -> Int64 {
        let off = offset(atMillis: ms)
        let local = floorDiv(ms, 1000) + off
        return floorDiv(local, 3600) * 3600 - off
    }

    public mutating func local(atMillis ms: Int64) -> LocalTime {
        let off = offset(atMillis: ms)
        let local = floorDiv(ms, 1000) + off
        let days = floorDiv(local, 86_400)
        let secOfDay = local - days * 86_400
        // 1970-01-01 was a Thursday (ISO 4).
        let weekday = Int((floorMod(days + 3, 7))) + 1
        return LocalTime(
            date: LocalCalendar.civilDate(daysSinceEpoch: days), weekday: weekday,
            minuteOfDay: Int(secOfDay / 60), hourStart: floorDiv(local, 3600) * 3600 - off)
    }

    public mutating func date(atMillis ms: Int64) -> String {
        let off = offset(atMillis: ms)
        return LocalCalendar.civilDate(daysSinceEpoch: floorDiv(floorDiv(ms, 1000) + off, 86_400))
    }

    /// The UTC milliseconds at which local date `YYYY-MM-DD` begins.
    public mutating func startOfDay(_ date: String) -> Int64? {
        LocalCalendar.daysSinceEpoch(date).map { startOfDay(daysSinceEpoch: $0) }
    }

    /// The first millisecond of the local day `days` after 1970-01-01.
    public mutating func startOfDay(daysSinceEpoch days: Int64) -> Int64 {
        let guess = days * 86_400_000
        // Offsets change rarely; two passes settle a transition near midnight.
        var off = offset(atMillis: guess)
        off = offset(atMillis: guess - off * 1000)
        return guess - off * 1000
    }

    /// `YYYY-MM-DD` for a count of days since 1970-01-01 (Howard Hinnant's civil_from_days).
    public static func civilDate(daysSinceEpoch z0: Int64) -> String {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Days since 1970-01-01 for `YYYY-MM-DD`, or nil when it is not a valid date.
    public static func daysSinceEpoch(_ date: String) -> Int64? {
        let parts = date.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y0 = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = m > 2 ? m - 3 : m + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        guard civilDate(daysSinceEpoch: days) == date else { return nil }
        return days
    }
}

@inline(__always) public func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always) public func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
