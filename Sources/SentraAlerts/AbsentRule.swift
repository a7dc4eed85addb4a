import SentraCore

/// `absent`: a device silent, on the daemon's clock (the engine's `tick`).
///
/// Fires when now − max(last heard, daemon start, window entered) ≥ `forMillis`, valued the
/// seconds since the device was last heard (or since the start); keeps firing outside the
/// window; resolves when the device is heard again. An `offline` status is not "heard". The
/// slot's `lastHeard` is the daemon's clock at the device's last reading.
struct AbsentRule: Sendable, Equatable {
    var forMillis: Int64
    var window: RuleWindow

    /// A reading at event time `ts`, received at `receivedAt` on the daemon's clock: heard.
    func heard(receivedAt: Int64, at ts: Int64, startedAt: Int64, slot: inout AlertSlotState) -> SlotVerdict {
        // Its silence lasted since the reading before (the daemon's clock).
        let heard = slot.lastHeard ?? startedAt
        slot.lastHeard = receivedAt
        slot.onset = nil
        guard slot.firing != nil else { return .none }
        return .resolve(at: ts, value: Double(max(0, receivedAt - heard) / 1000))
    }

    /// The device said at `ts` that it went offline: silent from then at the latest.
    func offline(at ts: Int64, slot: inout AlertSlotState) {
        slot.lastHeard = min(slot.lastHeard ?? ts, ts)
    }

    /// The daemon's clock reads `now`; the device belongs to workshop `w`.
    func tick(
        now: Int64, startedAt: Int64, workshop w: Int, calendar: inout RuleCalendar, slot: inout AlertSlotState
    ) -> SlotVerdict {
        guard calendar.isOpen(window, workshop: w, at: now) else {
            slot.windowSince = nil
            return .none
        }
        var silentSince = max(slot.lastHeard ?? startedAt, startedAt)
        if window != .always {
            let since = slot.windowSince ?? now
            slot.windowSince = since
            silentSince = max(silentSince, since)
        }
        guard slot.firing == nil, now - silentSince >= forMillis else { return .none }
        // The value is the seconds since it was last heard, across restarts (the onset is
        // the later of that and the daemon's start).
        let heard = slot.lastHeard ?? startedAt
        return .fire(at: now, started: silentSince, value: Double((now - heard) / 1000), limit: Double(forMillis / 1000))
    }
}
