/// `counter_reset`: a board rebooted (a confirmed counter reset). Instantaneous: a `firing`
/// and a `resolved` line together, once per reading however many of the device's counters
/// reset in it (the engine sees to that). No parameters and no state.
struct CounterResetRule: Sendable, Equatable {
    /// A reset confirmed by the reading at `ts`, the counter's new `value`: the alert fires,
    /// then resolves at once.
    func reset(at ts: Int64, value: Double) -> (fire: SlotVerdict, thenResolve: SlotVerdict) {
        (.fire(at: ts, started: ts, value: value, limit: nil), .resolve(at: ts, value: value))
    }
}
