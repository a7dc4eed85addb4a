import SentraCore

/// `threshold`: a field beyond a limit, such as a voltage sag, a power outage, a tank running
/// low, or water failing during dyeing (a threshold with `during: dyeing`).
///
/// Pending while the value is beyond `limit` (a value back inside it ends the pending); fires
/// on the first reading `forMillis` after the onset; resolves only once the value is back past
/// `resolveAt` (hysteresis: flapping inside the band stays one alert), after
/// `keepFiringMillis` if set (a value leaving the healthy side restarts the hold). With a
/// window it only goes pending inside it, and a firing alert resolves when the window ends.
struct ThresholdRule: Sendable, Equatable {
    var field: Field
    /// Beyond means below `limit` (else above it).
    var below: Bool
    var limit: Double
    var resolveAt: Double
    var forMillis: Int64
    var keepFiringMillis: Int64
    /// The device's `offline` status fires it at once (a meter dying with its supply).
    var offlineFires: Bool
    var window: RuleWindow

    /// A reading of the rule's field, `x`, at event time `ts`, from a device of workshop `w`.
    func evaluate(
        _ x: Double, at ts: Int64, workshop w: Int, calendar: inout RuleCalendar, slot: inout AlertSlotState
    ) -> SlotVerdict {
        let beyond = below ? x < limit : x > limit
        let healthy = below ? x >= resolveAt : x <= resolveAt
        let inWindow = calendar.isOpen(window, workshop: w, at: ts)
        if slot.firing != nil {
            if !inWindow { return .resolve(at: ts, value: x, note: .hoursEnded(window)) }
            guard healthy else {
                slot.clearSince = nil
                return .none
            }
            if keepFiringMillis <= 0 { return .resolve(at: ts, value: x) }
            let since = slot.clearSince ?? ts
            slot.clearSince = since
            return ts - since >= keepFiringMillis ? .resolve(at: ts, value: x) : .none
        }
        guard beyond && inWindow else {
            slot.onset = nil
            return .none
        }
        let onset = slot.onset ?? ts
        slot.onset = onset
        return ts - onset >= forMillis ? .fire(at: ts, started: onset, value: x, limit: limit) : .none
    }

    /// The device said it went offline at `ts`: what was pending ends; with `offlineFires`
    /// the alert fires at once, without a value.
    func offline(at ts: Int64, slot: inout AlertSlotState) -> SlotVerdict {
        slot.onset = nil
        slot.clearSince = nil
        guard offlineFires && slot.firing == nil else { return .none }
        return .fire(at: ts, started: ts, value: nil, limit: limit)
    }

    /// The daemon's tick, for a rule with a window: once the window has ended at `t` (the
    /// device's event clock: its last reading's time plus the daemon's time since), a firing
    /// alert resolves and nothing stays pending.
    func tick(at t: Int64, workshop w: Int, calendar: inout RuleCalendar, slot: inout AlertSlotState) -> SlotVerdict {
        guard !calendar.isOpen(window, workshop: w, at: t) else { return .none }
        slot.onset = nil
        return .resolve(at: t, value: nil, note: .hoursEnded(window))
    }
}
