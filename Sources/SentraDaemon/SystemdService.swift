import Foundation
import Logging
import SentraReadModel
import SentraSystemd
import ServiceLifecycle

/// Talks to systemd while the daemon runs: WATCHDOG=1 at half the interval systemd asks
/// for, STATUS= with the connection state and readings per second, STOPPING=1 on SIGTERM.
public struct SystemdService: Service {
    let notifier: SystemdNotifier
    let status: DaemonStatus
    let statusEvery: Duration

    public init(notifier: SystemdNotifier, status: DaemonStatus, statusEvery: Duration = .seconds(5)) {
        self.notifier = notifier
        self.status = status
        self.statusEvery = statusEvery
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            _ = try? await cancelWhenGracefulShutdown { try await loop() }
        } onGracefulShutdown: {
            notifier.stopping()
        }
    }

    private func loop() async throws {
        let watchdog = notifier.watchdogInterval()
        let period = min(watchdog.map { $0 / 2 } ?? statusEvery, statusEvery)
        var lastAccepted = status.snapshot.stats.accepted
        var lastTime = ContinuousClock.now
        while !Task.isCancelled {
            if watchdog != nil { notifier.watchdog() }
            let now = ContinuousClock.now
            let accepted = status.snapshot.stats.accepted
            let elapsed = now - lastTime
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            notifier.status(status.statusLine(readingsPerSecond: seconds > 0 ? Double(accepted - lastAccepted) / seconds : 0))
            lastAccepted = accepted
            lastTime = now
            try await Task.sleep(for: period)
        }
    }
}
