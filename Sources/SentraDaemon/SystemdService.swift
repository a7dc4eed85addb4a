import Foundation
import Logging
import SentraReadModel
import SentraSystemd
import ServiceLifecycle
import Synchronization

/// The ingest thread's heartbeat: a counter it bumps every turn of its loop (it wakes at least
/// every `beatEveryMillis`, whatever comes in, and also while a commit fails), read by the
/// watchdog thread.
public final class Liveness: Sendable {
    private let beats = Atomic<UInt64>(0)
    /// How often the ingest loop turns at the least, ms.
    public let beatEveryMillis: Int64

    public init(beatEveryMillis: Int64 = 1000) { self.beatEveryMillis = max(10, beatEveryMillis) }

    /// For a watchdog interval: four beats in each.
    public convenience init(watchdog: Duration?) {
        guard let w = watchdog else {
            self.init()
            return
        }
        let ms = w.components.seconds * 1000 + w.components.attoseconds / 1_000_000_000_000_000
        self.init(beatEveryMillis: min(1000, ms / 4))
    }

    public func beat() { beats.add(1, ordering: .relaxed) }
    public var count: UInt64 { beats.load(ordering: .relaxed) }
}

/// Talks to systemd while the daemon runs, from a thread of its own (so busy HTTP requests or
/// anything else on Swift's cooperative pool cannot hold a ping back): STATUS= with the
/// connection state and readings per second every 5 s, and, when systemd asks for a watchdog,
/// WATCHDOG=1 every half interval, but only while the ingest thread is alive: its heartbeat
/// (`Liveness`) moved within the last watchdog interval. A failing commit does not stop the
/// pings (the ingest loop keeps turning, and `state_commit_failing` says what is wrong: a
/// restart cannot free a disk); an ingest thread stuck for a whole interval does, and systemd
/// then kills and restarts the daemon. On SIGTERM: STOPPING=1, and the stop signal that ends
/// retries of failing writes.
public struct SystemdService: Service {
    let notifier: SystemdNotifier
    let status: DaemonStatus
    let statusEvery: Duration
    let liveness: Liveness
    let stop: StopSignal

    public init(
        notifier: SystemdNotifier, status: DaemonStatus, liveness: Liveness, stop: StopSignal, statusEvery: Duration = .seconds(5)
    ) {
        self.notifier = notifier
        self.status = status
        self.statusEvery = statusEvery
        self.liveness = liveness
        self.stop = stop
    }

    public func run() async throws {
        let done = StopSignal()
        let thread = Thread { [notifier, status, statusEvery, liveness] in
            Self.loop(notifier: notifier, status: status, statusEvery: statusEvery, liveness: liveness, done: done)
        }
        thread.name = "sentra-systemd"
        thread.start()
        await withGracefulShutdownHandler {
            try? await gracefulShutdown()
        } onGracefulShutdown: {
            stop.begin()
            done.begin()
            notifier.stopping()
        }
        // Also when the group is cancelled (a service failed) rather than shut down.
        stop.begin()
        done.begin()
    }

    private static func loop(notifier: SystemdNotifier, status: DaemonStatus, statusEvery: Duration, liveness: Liveness, done: StopSignal) {
        let watchdog = notifier.watchdogInterval()
        let period = min(watchdog.map { $0 / 2 } ?? statusEvery, statusEvery)
        let clock = ContinuousClock()
        var lastAccepted = status.snapshot.stats.accepted
        var lastStatus = clock.now - statusEvery
        var lastBeats = liveness.count
        var lastBeatSeen = clock.now
        while !done.isSet {
            let now = clock.now
            let beats = liveness.count
            if beats != lastBeats {
                lastBeats = beats
                lastBeatSeen = now
            }
            if let watchdog, now - lastBeatSeen < watchdog { notifier.watchdog() }
            if now - lastStatus >= statusEvery - period / 2 {
                let accepted = status.snapshot.stats.accepted
                let seconds = Self.seconds(now - lastStatus)
                notifier.status(status.statusLine(readingsPerSecond: seconds > 0 ? Double(accepted - lastAccepted) / seconds : 0))
                lastAccepted = accepted
                lastStatus = now
            }
            done.sleep(Self.seconds(period))
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
