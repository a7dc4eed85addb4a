import SentraCore
import SentraTestSupport
import Testing

@testable import SentraCoop

/// Shift hours walked over a schedule in Jakarta, against hours counted by hand.
@Suite struct ShiftWalkTests {
    /// Monday to Saturday 07:00–16:00 with a break 12:00–13:00 (8 h a day); Christmas off.
    static let weaving = Schedule(
        days: Set(1...6), windows: [DayWindow(startMinute: 7 * 60, endMinute: 16 * 60)],
        breaks: [DayWindow(startMinute: 12 * 60, endMinute: 13 * 60)], holidays: ["2026-12-25"])
    static let calendar = LocalCalendar(timeZone: jakarta)

    func walk(_ s: Schedule = weaving) -> ShiftWalk { ShiftWalk(schedules: [s], calendar: Self.calendar) }

    @Test func aWorkingDayHasEightHours() {
        #expect(ShiftWalk.hoursPerWorkingDay(Self.weaving) == 8)
    }

    @Test func hoursAcrossABreak() {
        var w = walk()
        // Monday 10:30–12:00 (1.5 h), the break, 13:00–14:00 (1 h).
        #expect(w.hours(from: at("2026-11-23T10:30:00"), to: at("2026-11-23T14:00:00")) == 2.5)
    }

    @Test func hoursAcrossAHolidayAndAWeekend() {
        var w = walk()
        // Thursday 24 Dec 15:00–16:00 (1), Friday 25 Dec a holiday (0), Saturday 26 (8), Sunday (0),
        // Monday 28 07:00–08:00 (1): 10 hours.
        #expect(w.hours(from: at("2026-12-24T15:00:00"), to: at("2026-12-28T08:00:00")) == 10)
    }

    @Test func forwardOverASunday() {
        var w = walk()
        // Saturday 15:30–16:00 is half an hour; Sunday is off; Monday 07:00 + 1.5 h = 08:30.
        #expect(w.forward(from: at("2026-11-28T15:30:00"), hours: 2) == at("2026-11-30T08:30:00"))
        // Starting outside shift (Sunday noon): Monday 07:00 + 3 h of which the morning has 5.
        #expect(w.forward(from: at("2026-11-29T12:00:00"), hours: 3) == at("2026-11-30T10:00:00"))
        // Five hours from Monday 10:00: 10–12 (2), 13–16 (3) → 16:00 exactly.
        #expect(w.forward(from: at("2026-11-30T10:00:00"), hours: 5) == at("2026-11-30T16:00:00"))
    }

    @Test func backOverASunday() {
        var w = walk()
        // From Monday 08:30 back 8 h: Monday 07:00–08:30 (1.5), Saturday 16:00–13:00 (3),
        // Saturday 12:00–08:30 (3.5): Saturday 08:30.
        #expect(w.back(from: at("2026-11-30T08:30:00"), hours: 8, notBefore: at("2026-11-01T00:00:00")) == at("2026-11-28T08:30:00"))
        // Not before a moment with fewer hours since: that moment.
        #expect(w.back(from: at("2026-11-30T08:30:00"), hours: 8, notBefore: at("2026-11-30T07:30:00")) == at("2026-11-30T07:30:00"))
    }

    /// A night shift, "22:00-06:00" Monday to Friday with a break 02:00–02:30. A moment is in
    /// shift when its own day is a working day (as `Schedule.contains` has it), so each working
    /// day has 00:00–06:00 less the break (5.5 h) and 22:00–24:00 (2 h).
    @Test func aNightShift() {
        let night = Schedule(
            days: Set(1...5), windows: [DayWindow(startMinute: 22 * 60, endMinute: 30 * 60)],
            breaks: [DayWindow(startMinute: 2 * 60, endMinute: 2 * 60 + 30)])
        #expect(ShiftWalk.hoursPerWorkingDay(night) == 7.5)
        var w = walk(night)
        // Tuesday 20:00 → Wednesday 12:00: Tuesday 22–24 (2), Wednesday 00–02 (2), 02:30–06 (3.5).
        #expect(w.hours(from: at("2026-11-24T20:00:00"), to: at("2026-11-25T12:00:00")) == 7.5)
        // Friday 20:00 → Monday 12:00: Friday 22–24 (2); Saturday and Sunday off; Monday 00–06 less the break (5.5).
        #expect(w.hours(from: at("2026-11-27T20:00:00"), to: at("2026-11-30T12:00:00")) == 7.5)
        // Four hours from Tuesday 23:00: 23–24 (1), 00–02 (2), 02:30 + 1 = 03:30 Wednesday.
        #expect(w.forward(from: at("2026-11-24T23:00:00"), hours: 4) == at("2026-11-25T03:30:00"))
        // Every hour it counts is one `Schedule.contains` calls shift, minute by minute.
        var cal = Self.calendar
        var minutes = 0
        var t = at("2026-11-27T20:00:00")
        while t < at("2026-11-30T12:00:00") {
            if night.contains(cal.local(atMillis: t)) { minutes += 1 }
            t += 60_000
        }
        #expect(Double(minutes) / 60 == 7.5)
    }

    @Test func noShiftTimeAtAllHasNoForward() {
        var w = walk(Schedule(days: [], windows: []))
        #expect(w.forward(from: at("2026-11-23T10:00:00"), hours: 1) == nil)
        #expect(w.hours(from: at("2026-11-23T00:00:00"), to: at("2026-11-30T00:00:00")) == 0)
    }
}
