/// Maps event time to wall time at a speed: `--speed 3600` replays an hour a second,
/// 0 runs as fast as it can. Pure arithmetic; the caller owns the clock and the sleeping.
public struct Pacer: Sendable {
    public var speed: Double
    /// Event time (ms) that corresponds to `wallStart`.
    public var eventStart: Int64
    /// Wall time (ms, any monotonic origin) when pacing began.
    public var wallStart: Int64

    public init(speed: Double, eventStart: Int64, wallStart: Int64) {
        self.speed = speed
        self.eventStart = eventStart
        self.wallStart = wallStart
    }

    /// How long to wait (ms) before sending a message of `eventTime` at wall time `now`; 0 to send now.
    @inline(__always)
    public func delay(eventTime: Int64, now: Int64) -> Int64 {
        guard speed > 0 else { return 0 }
        let due = wallStart + Int64((Double(eventTime - eventStart) / speed).rounded(.up))
        return max(0, due - now)
    }
}
