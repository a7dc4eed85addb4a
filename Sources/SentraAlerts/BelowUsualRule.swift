import SentraCore

/// `below_usual` (craftsmen): the pieces a craftsman made in a local hour, against `fraction`
/// of his usual (the median of his last `days` working days in that hour).
///
/// An hour is evaluated once its workshop's event clock is `Settings.hourGraceMillis` past its
/// end (late readings from other looms still count), and counts as in the window when its
/// middle is. Fires (ts = hour end, started = hour start, value = pieces, limit = `fraction`
/// × usual) when below; resolves at the end of an hour at or above the limit, or of one
/// outside the window. The hour in which the engine first sees a workshop is partial and is not
/// evaluated. No history: no alert. The slot's `hourCounts` holds the pieces of the hours not
/// yet evaluated, `nextHour` the next hour to evaluate.
struct BelowUsualRule: Sendable, Equatable {
    var fraction: Double
    var days: Int
    var window: RuleWindow

    /// Counts `pieces` into the hour starting at `hour` (seconds), unless that hour is evaluated.
    static func count(_ pieces: Double, hour: Int64, slot: inout AlertSlotState) {
        if let next = slot.nextHour, hour < next { return }
        slot.hourCounts = slot.hourCounts ?? [:]
        slot.hourCounts![hour, default: 0] += pieces
    }

    /// The first hour (start, seconds) to evaluate with the workshop's event clock at `clock`;
    /// after a long gap only the last `settings.maxCatchUpHours` finished hours are. Nil when
    /// the workshop is seen for the first time: evaluation starts with the next hour.
    static func firstDueHour(
        clock: Int64, settings: AlertEngine.Settings, calendar: inout RuleCalendar, slot: inout AlertSlotState
    ) -> Int64? {
        guard let next = slot.nextHour else {
            slot.nextHour = calendar.hourStart(atMillis: clock) + 3600
            return nil
        }
        let lastFinished = calendar.hourStart(atMillis: clock - settings.hourGraceMillis) - 3600
        let maxBack = Int64(settings.maxCatchUpHours - 1) * 3600
        return lastFinished - next > maxBack ? lastFinished - maxBack : next
    }

    /// Whether the hour starting at `hour` is due with the workshop's event clock at `clock`.
    static func isDue(hour: Int64, clock: Int64, settings: AlertEngine.Settings) -> Bool {
        (hour + 3600) * 1000 + settings.hourGraceMillis <= clock
    }

    /// When the workshop's event clock makes the slot's next hour due: `.min` when the slot has
    /// not seen its workshop yet (any reading is due to start it).
    static func dueAt(slot: AlertSlotState, settings: AlertEngine.Settings) -> Int64 {
        guard let next = slot.nextHour else { return .min }
        return (next + 3600) * 1000 + settings.hourGraceMillis
    }

    /// Every hour before `next` is evaluated: what was counted for them goes.
    static func evaluated(upTo next: Int64, slot: inout AlertSlotState) {
        slot.nextHour = next
        if let counts = slot.hourCounts {
            let left = counts.filter { $0.key >= next }
            slot.hourCounts = left.isEmpty ? nil : left
        }
    }

    /// Evaluates the finished hour starting at `hour` for craftsman `c` of workshop `w`.
    func evaluate(
        hour: Int64, craftsman c: Craftsman, workshop w: Int, usualRates: (any UsualRateProvider)?,
        calendar: inout RuleCalendar, slot: inout AlertSlotState
    ) -> SlotVerdict {
        let end = (hour + 3600) * 1000
        let mid = hour * 1000 + 1_800_000
        guard calendar.isOpen(window, workshop: w, at: mid) else { return .resolve(at: end, value: nil, note: .windowEnded(window)) }
        let count = slot.hourCounts?[hour] ?? 0
        let lt = calendar.local(atMillis: hour * 1000)
        guard
            let usual = usualRates?.usualPiecesPerHour(
                craftsman: c.id, hourOfDay: lt.minuteOfDay / 60, weekday: lt.weekday, beforeDate: lt.date, days: days),
            usual > 0
        else { return .resolve(at: end, value: count) }
        let limit = fraction * usual
        guard count < limit else { return .resolve(at: end, value: count) }
        return slot.firing == nil ? .fire(at: end, started: hour * 1000, value: count, limit: limit) : .none
    }
}
