import SentraCore

/// `stalled` (looms): picks not advancing for `forMillis` while the loom's last `state` is
/// `run` or none.
///
/// Counted from the later of the last advance and the moment the window (the shift) was
/// entered; `state: run` after a stop or fault restarts the clock. Resolves when the picks
/// advance or the loom reports stop or fault. The slot's `lastHeard` is the event time the
/// picks last advanced, `loomState` the last reported state.
struct StalledRule: Sendable, Equatable {
    var forMillis: Int64
    var window: RuleWindow

    /// A reading at event time `ts` from a loom of workshop `w`: its reported `state`, its
    /// `picks`, and whether the picks advanced since the reading before.
    func evaluate(
        state reported: LoomState?, picks: Double?, at ts: Int64, advanced: Bool, workshop w: Int,
        calendar: inout RuleCalendar, slot: inout AlertSlotState
    ) -> SlotVerdict {
        var lastAdvance = slot.lastHeard
        var loomState = slot.loomState
        if let s = reported {
            // A loom that starts running again starts its stall clock afresh.
            if s == .run && loomState != LoomState.run.rawValue { lastAdvance = ts }
            loomState = s.rawValue
        }
        if advanced { lastAdvance = ts }
        slot.loomState = loomState
        slot.lastHeard = lastAdvance
        var verdict = SlotVerdict.none
        if advanced { verdict.resolve = Resolution(ts: ts, value: picks) }
        if let s = loomState, s != LoomState.run.rawValue {
            // Stopped or faulted: no stall, however long.
            if !advanced { verdict.resolve = Resolution(ts: ts, value: picks, note: .loomReported(s)) }
            return verdict
        }
        guard calendar.isOpen(window, workshop: w, at: ts) else {
            slot.windowSince = nil
            return verdict
        }
        let windowSince = slot.windowSince ?? ts
        slot.windowSince = windowSince
        let since = lastAdvance ?? ts
        slot.lastHeard = since
        // Still firing (the picks did not advance): nothing to add.
        guard slot.firing == nil || advanced else { return verdict }
        let onset = max(since, windowSince)
        if ts - onset >= forMillis { verdict.fire = Firing(ts: ts, started: onset, value: picks, limit: nil) }
        return verdict
    }

    /// The loom said it went offline: its window period and state start afresh.
    func offline(slot: inout AlertSlotState) {
        slot.windowSince = nil
        slot.loomState = nil
    }
}
