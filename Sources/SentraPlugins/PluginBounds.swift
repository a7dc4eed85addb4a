import Foundation
import Logging
import SentraCore
import SentraWire
import Synchronization

/// What one plugin may send the daemon (docs/plugins.md, "Bounds on what a plugin sends"):
/// a plugin is a program someone else wrote, and a bug in it must not fill the alert log,
/// the journal or the daemon's memory.
public struct PluginBounds: Sendable, Equatable {
    /// Alerts of its own: a token bucket of `alertBurst`, refilled at `alertsPerSecond`.
    public var alertBurst = 20
    public var alertsPerSecond = 1.0
    /// `log` messages and stderr lines that reach the daemon's log, likewise.
    public var logBurst = 50
    public var logLinesPerSecond = 5.0
    /// A line (stdout or stderr) longer than this is cut off; on stdout it is garbage.
    public var maxLineBytes = 65_536
    /// Labels on one alert (the `component` label the daemon adds included).
    public var maxLabels = 16
    /// A label value's length in bytes (keys, like rule names, are 1 to 63 characters).
    public var maxLabelValueBytes = 256
    /// A summary longer than this is cut (at a character boundary).
    public var maxSummaryBytes = 1024
    /// A log line's text longer than this is cut.
    public var maxLogTextBytes = 1024
    public init() {}

    /// Why `event` (an alert a plugin sent) is refused, or nil when it is fine.
    public func problem(with event: AlertEvent) -> String? {
        guard DeviceTopic.isValidID(event.rule) else {
            return "rule name '\(event.rule.prefix(64))' is not 1 to 63 characters of a-z 0-9 _ - starting with a letter or digit"
        }
        guard event.labels.count <= maxLabels else { return "\(event.labels.count) labels, at most \(maxLabels)" }
        for (k, v) in event.labels {
            guard Self.isLabelName(k) else {
                return "label name '\(k.prefix(64))' is not 1 to 63 characters of a-z 0-9 _ starting with a letter"
            }
            guard !v.isEmpty, v.utf8.count <= maxLabelValueBytes else {
                return "label \(k): value empty or longer than \(maxLabelValueBytes) bytes"
            }
            guard !v.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                return "label \(k): value has a control character"
            }
        }
        return nil
    }

    /// 1 to 63 characters of `a-z 0-9 _`, starting with a letter: a label name every
    /// consumer of the alert log (Alertmanager, Prometheus) takes as it is.
    static func isLabelName(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...63).contains(u.count), let first = u.first, first >= 0x61 && first <= 0x7A else { return false }
        return u.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// `text` cut to at most `bytes` bytes of UTF-8, at a character boundary.
    static func cut(_ text: String, _ bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var out = ""
        for c in text {
            if out.utf8.count + c.utf8.count > bytes { break }
            out.append(c)
        }
        return out
    }
}

/// A token bucket: `capacity` tokens, refilled at `perSecond`; times in ms.
struct TokenBucket: Sendable {
    let capacity: Double
    let perMilli: Double
    private(set) var tokens: Double
    private var last: Int64?

    init(capacity: Int, perSecond: Double) {
        self.capacity = Double(max(1, capacity))
        perMilli = max(0, perSecond) / 1000
        tokens = self.capacity
    }

    /// Takes a token if there is one.
    mutating func take(now: Int64) -> Bool {
        refill(now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    mutating func refill(_ now: Int64) {
        if let last, now > last { tokens = min(capacity, tokens + Double(now - last) * perMilli) }
        last = max(last ?? now, now)
    }
}

/// One plugin's alerts on their way to the alert log: checked, and limited by a token bucket.
/// Kept by the host across restarts of the plugin (a restart does not refill it).
///
/// The first alert dropped for the rate starts a spell: one warning in the daemon's log and a
/// `plugin_alerts_dropped` alert (firing) about the plugin. A minute without drops ends it:
/// a log line with the count and the alert resolved, its value the number dropped. Alerts
/// refused as malformed are logged through a `PluginLineLimiter` of their own (5, then 5 a
/// minute; the next line logged counts those held back).
final class PluginAlertGate: Sendable {
    /// What to do with an alert the plugin sent.
    enum Verdict: Equatable {
        case append(AlertEvent)
        /// Dropped for the rate; `spellBegins`: the first of a spell (write the firing alert).
        case dropped(spellBegins: Bool)
        case invalid(String)
    }

    struct Counts: Sendable, Equatable {
        var accepted = 0
        var dropped = 0
        var invalid = 0
    }

    private struct State {
        var bucket: TokenBucket
        var counts = Counts()
        /// The current spell of drops: when it began, the last drop, how many.
        var spell: (began: Int64, lastDrop: Int64, dropped: Int)?
    }

    let plugin: String
    let bounds: PluginBounds
    private let logger: Logger
    private let state: Mutex<State>
    private let invalidLog = PluginLineLimiter(burst: 5, perSecond: 5.0 / 60)
    static let spellQuiet: Int64 = 60_000

    init(plugin: String, bounds: PluginBounds, logger: Logger) {
        self.plugin = plugin
        self.bounds = bounds
        self.logger = logger
        state = Mutex(State(bucket: TokenBucket(capacity: bounds.alertBurst, perSecond: bounds.alertsPerSecond)))
    }

    var counts: Counts { state.withLock { $0.counts } }

    /// Checks `event` (built from the plugin's message at `now`) and takes a token for it.
    func admit(_ event: AlertEvent, now: Int64) -> Verdict {
        if let problem = bounds.problem(with: event) {
            invalid(problem, now: now)
            return .invalid(problem)
        }
        let begins: Bool? = state.withLock { s in
            if s.bucket.take(now: now) {
                s.counts.accepted += 1
                return nil
            }
            s.counts.dropped += 1
            if var spell = s.spell {
                spell.lastDrop = now
                spell.dropped += 1
                s.spell = spell
                return false
            }
            s.spell = (now, now, 1)
            return true
        }
        guard let begins else {
            var e = event
            e.summary = PluginBounds.cut(e.summary, bounds.maxSummaryBytes)
            return .append(e)
        }
        if begins {
            logger.warning(
                "plugin sends alerts faster than allowed; the excess is dropped",
                metadata: ["sentra.burst": "\(bounds.alertBurst)", "sentra.per_second": "\(bounds.alertsPerSecond)"])
        }
        return .dropped(spellBegins: begins)
    }

    /// Ends a spell of drops a minute after its last drop; returns how many it dropped then.
    func tick(now: Int64) -> Int? {
        let ended: Int? = state.withLock { s in
            guard let spell = s.spell, now - spell.lastDrop >= Self.spellQuiet else { return nil }
            s.spell = nil
            return spell.dropped
        }
        if let ended {
            logger.warning("plugin alerts dropped for the rate limit", metadata: ["sentra.dropped": "\(ended)"])
        }
        return ended
    }

    private func invalid(_ problem: String, now: Int64) {
        state.withLock { $0.counts.invalid += 1 }
        let (pass, heldBack) = invalidLog.admit(now: now)
        guard pass else { return }
        logger.warning(
            "plugin alert ignored", metadata: ["sentra.error": "\(problem)", "sentra.suppressed": "\(heldBack)"])
    }
}

/// Lets a plugin's `log` messages and stderr lines into the daemon's log at a bounded rate;
/// what is held back is counted in the next line let through.
final class PluginLineLimiter: Sendable {
    private let state: Mutex<(bucket: TokenBucket, suppressed: Int)>

    init(burst: Int, perSecond: Double) {
        state = Mutex((TokenBucket(capacity: burst, perSecond: perSecond), 0))
    }

    convenience init(bounds: PluginBounds) { self.init(burst: bounds.logBurst, perSecond: bounds.logLinesPerSecond) }

    /// Whether a line may be logged now, and how many were held back before it.
    func admit(now: Int64) -> (pass: Bool, heldBack: Int) {
        state.withLock { s in
            guard s.bucket.take(now: now) else {
                s.suppressed += 1
                return (false, 0)
            }
            defer { s.suppressed = 0 }
            return (true, s.suppressed)
        }
    }
}
