import Foundation
import SentraAlertLog
import SentraAlerts
import SentraCore
import SentraPlugins
import SentraStore
import SentraWire
import Synchronization

/// What the daemon's parts tell each other and the outside (STATUS=, later HTTP): a small
/// value behind a Mutex, written once per batch and read every few seconds.
public final class DaemonStatus: Sendable {
    public struct Snapshot: Sendable {
        public var connected = false
        public var subscribed = false
        public var reconnects = 0
        public var stats = IngestStats()
        public var queueDepth = 0
        public var lastCommitMillis: Double = 0
        /// When the last commit ended (ms since the epoch), 0 before the first.
        public var lastCommitAt: Int64 = 0
        /// Commit durations, counted into `CommitHistogram.bounds` (seconds).
        public var commitHistogram = CommitHistogram()
        public var commits = 0
        /// Commit attempts that failed, counted as they fail (each is retried).
        public var commitFailures = 0
        /// Alert-log lines that could not be written at the first try (each is retried; the
        /// commit that follows from them waits).
        public var alertLogFailures = 0
        /// Since when commits fail (ms since the epoch); nil while they succeed.
        public var commitFailingSince: Int64?
        /// The daemon's own `state_commit_failing` alert while it fires.
        public var commitAlert: AlertEvent?
        public var lastError: String?
        public var configFile = ""
        public var reloads = 0
        public var reloadFailures = 0
        /// Receive journal: bytes held for messages not yet counted, and its size.
        public var journalBytes = 0
        public var journalCapacity = 0
        public var startedAt: Int64 = 0
        public var broker = ""
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }

    /// One line for systemd's STATUS=.
    public func statusLine(readingsPerSecond: Double) -> String {
        let s = snapshot
        let conn = s.subscribed ? "subscribed" : (s.connected ? "connected" : "connecting to broker")
        let failing = s.commitFailingSince != nil ? "STATE NOT SAVED: commits failing (\(s.commitFailures) attempts); " : ""
        return failing
            + String(
                format: "%@; %.0f readings/s; %llu accepted, %llu rejected; queue %d", conn, readingsPerSecond,
                s.stats.accepted, s.stats.totalRejected, s.queueDepth)
    }
}

/// Commit durations for a Prometheus histogram: a count per fixed bound (`/metrics` makes
/// them cumulative when it writes the buckets).
public struct CommitHistogram: Sendable, Equatable {
    /// Upper bounds in seconds; a commit is an fsync'd SQLite transaction (ms on a disk).
    public static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    /// `counts[i]`: commits that took at most `bounds[i]` (not cumulative; `+Inf` is `count`).
    public var counts = [Int](repeating: 0, count: bounds.count)
    public var count = 0
    public var sum = 0.0
    public init() {}

    public mutating func observe(seconds: Double) {
        count += 1
        sum += seconds
        if let i = Self.bounds.firstIndex(where: { seconds <= $0 }) { counts[i] += 1 }
    }
}
