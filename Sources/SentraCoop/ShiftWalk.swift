import SentraCore

/// Walks shift time: the moments inside any of `schedules` (a moment is in shift when
/// `Schedule.contains` says so for its local time; a window past 24:00 covers the small hours
/// of each working day), in the sentra's time zone. Hours are counted to the minute.
public struct ShiftWalk: Sendable {
    public let schedules: [Schedule]
    private var calendar: LocalCalendar
    /// Per schedule, the minutes of one of its working days that are in shift, as `[a, b)` ranges.
    private let dayRanges: [[Range<Int>]]
    /// How far `forward` looks for shift time before it gives up (ten years).
    public static let horizonDays: Int64 = 3660

    public init(schedules: [Schedule], calendar: LocalCalendar) {
        self.schedules = schedules
        self.calendar = calendar
        dayRanges = schedules.map(Self.minuteRanges)
    }

    /// The in-shift minutes of a working day of `s` (windows less breaks), as ranges.
    static func minuteRanges(_ s: Schedule) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start: Int?
        for m in 0...1440 {
            let inside =
                m < 1440 && s.windows.contains { $0.contains(minute: m) } && !s.breaks.contains { $0.contains(minute: m) }
            if inside, start == nil { start = m }
            if !inside, let a = start {
                out.append(a..<m)
                start = nil
            }
        }
        return out
    }

    /// Shift hours of one working day of `s`.
    public static func hoursPerWorkingDay(_ s: Schedule) -> Double {
        Double(minuteRanges(s).reduce(0) { $0 + $1.count }) / 60
    }

    /// Hours as whole ms, rounded up, ignoring what floating point adds below a microsecond.
    static func millis(_ hours: Double) -> Int64 {
        guard hours.isFinite, hours > 0 else { return 0 }
        return Int64(min(hours * 3_600_000 - 0.001, 9e15).rounded(.up))
    }

    /// The local day (days since 1970-01-01) of `ms`.
    private mutating func day(of ms: Int64) -> Int64 {
        floorDiv(floorDiv(ms, 1000) + calendar.offset(atMillis: ms), 86_400)
    }

    /// The in-shift spans of local day `d` in ms, sorted and merged.
    private mutating func spans(day d: Int64) -> [Range<Int64>] {
        let weekday = Int(floorMod(d + 3, 7)) + 1
        let date = LocalCalendar.civilDate(daysSinceEpoch: d)
        var minutes: [Range<Int>] = []
        for (i, s) in schedules.enumerated() where s.days.contains(weekday) && !s.holidays.contains(date) {
            minutes += dayRanges[i]
        }
        guard !minutes.isEmpty else { return [] }
        minutes.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for r in minutes {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        let start = calendar.startOfDay(daysSinceEpoch: d)
        return merged.map { (start + Int64($0.lowerBound) * 60_000)..<(start + Int64($0.upperBound) * 60_000) }
    }

    /// Shift hours in `[from, to)` (ms).
    public mutating func hours(from: Int64, to: Int64) -> Double {
        guard to > from else { return 0 }
        var ms: Int64 = 0
        for d in day(of: from)...day(of: to - 1) {
            for s in spans(day: d) {
                let a = max(s.lowerBound, from)
                let b = min(s.upperBound, to)
                if b > a { ms += b - a }
            }
        }
        return Double(ms) / 3_600_000
    }

    /// The moment `hours` shift hours after `from`; nil when the schedules have no shift
    /// time within `horizonDays`.
    public mutating func forward(from: Int64, hours: Double) -> Int64? {
        var left = Self.millis(hours)
        if left <= 0 { return from }
        let first = day(of: from)
        for d in first...(first + Self.horizonDays) {
            for s in spans(day: d) where s.upperBound > from {
                let a = max(s.lowerBound, from)
                let n = s.upperBound - a
                if left <= n { return a + left }
                left -= n
            }
        }
        return nil
    }

    /// The latest moment `s` ≥ `notBefore` with `hours` shift hours in `[s, from)`; `notBefore`
    /// when there are fewer.
    public mutating func back(from: Int64, hours: Double, notBefore: Int64) -> Int64 {
        guard from > notBefore else { return notBefore }
        var left = Self.millis(hours)
        var d = day(of: from - 1)
        let last = day(of: notBefore)
        while d >= last {
            for s in spans(day: d).reversed() where s.lowerBound < from {
                let b = min(s.upperBound, from)
                let a = max(s.lowerBound, notBefore)
                guard b > a else { continue }
                if left <= b - a { return b - left }
                left -= b - a
            }
            d -= 1
        }
        return notBefore
    }
}
