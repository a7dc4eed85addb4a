import SentraSystemd
import Synchronization

/// READY=1 exactly once, when every part of the start has reported, from whichever thread
/// reports last: the broker subscription and, when HTTP is on, the listener accepting
/// connections. A part reporting again (a resubscription after a reconnect) changes nothing.
public final class Readiness: Sendable {
    public enum Part: Hashable, Sendable {
        case subscribed
        case listening
    }

    private let notifier: SystemdNotifier
    private let state: Mutex<(waiting: Set<Part>, sent: Bool)>

    public init(notifier: SystemdNotifier, waitingFor parts: Set<Part>) {
        self.notifier = notifier
        state = Mutex((parts, false))
    }

    public func report(_ part: Part) {
        let send = state.withLock { s -> Bool in
            s.waiting.remove(part)
            guard s.waiting.isEmpty, !s.sent else { return false }
            s.sent = true
            return true
        }
        if send { notifier.ready() }
    }

    public var isReady: Bool { state.withLock { $0.sent } }
}
