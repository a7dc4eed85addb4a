import Foundation
import SentraCore
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
        public var commits = 0
        public var commitFailures = 0
        public var lastError: String?
        public var configFile = ""
        public var reloads = 0
        public var reloadFailures = 0
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }

    /// One line for systemd's STATUS=.
    public func statusLine(readingsPerSecond: Double) -> String {
        let s = snapshot
        let conn = s.subscribed ? "subscribed" : (s.connected ? "connected" : "connecting to broker")
        return String(
            format: "%@; %.0f readings/s; %llu accepted, %llu rejected; queue %d", conn, readingsPerSecond,
            s.stats.accepted, s.stats.totalRejected, s.queueDepth)
    }
}
