import Logging
import SentraCore

/// Logs rejected readings without flooding the journal: at most `burst` lines per reason
/// per window, then one line saying how many were suppressed.
struct RateLimitedLog {
    let logger: Logger
    var windowMillis: Int64 = 60_000
    var burst = 5
    private var windowStart: Int64 = 0
    private var logged = [Int](repeating: 0, count: RejectReason.allCases.count)
    private var suppressed = [Int](repeating: 0, count: RejectReason.allCases.count)

    init(logger: Logger) { self.logger = logger }

    /// The topic becomes text only when it is logged, and at most its first 256 bytes.
    mutating func rejected(_ reason: RejectReason, topic: UnsafeRawBufferPointer, now: Int64) {
        roll(now)
        if logged[reason.rawValue] < burst {
            logged[reason.rawValue] += 1
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: topic.prefix(256)), as: UTF8.self)
            logger.warning("reading rejected", metadata: ["sentra.reason": "\(reason.name)", "mqtt.topic": "\(text)"])
        } else {
            suppressed[reason.rawValue] += 1
        }
    }

    mutating func roll(_ now: Int64) {
        guard now - windowStart >= windowMillis else { return }
        for r in RejectReason.allCases where suppressed[r.rawValue] > 0 {
            logger.warning(
                "more readings rejected (not logged one by one)",
                metadata: ["sentra.reason": "\(r.name)", "sentra.suppressed": "\(suppressed[r.rawValue])"])
        }
        windowStart = now
        logged = logged.map { _ in 0 }
        suppressed = suppressed.map { _ in 0 }
    }
}
