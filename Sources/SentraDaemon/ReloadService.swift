import Logging
import SentraAlertLog
import SentraAlerts
import SentraConfig
import SentraPlugins
import SentraReadModel
import SentraSystemd
import SentraWire
import ServiceLifecycle
import UnixSignals

/// SIGHUP: reopens the alert log and re-reads the configuration. A broken file is rejected
/// and logged, and the running configuration stays; a good one reaches the ingest thread
/// without a restart.
public struct ReloadService: Service {
    let path: String
    let overrides: Daemon.Overrides
    let ingest: IngestService
    let alertLog: AlertLog?
    let status: DaemonStatus
    let notifier: SystemdNotifier
    let logger: Logger

    public init(
        path: String, overrides: Daemon.Overrides, ingest: IngestService, alertLog: AlertLog? = nil,
        status: DaemonStatus, notifier: SystemdNotifier, logger: Logger
    ) {
        self.path = path
        self.overrides = overrides
        self.ingest = ingest
        self.alertLog = alertLog
        self.status = status
        self.notifier = notifier
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            notifier.reloading()
            // The alert log is reopened whatever the new file holds (logrotate-safe).
            do {
                try alertLog?.reopen()
            } catch {
                logger.error("cannot reopen the alert log", metadata: ["sentra.error": "\(error)"])
            }
            do {
                // Checked as at a start (the HTTP listener itself is not reopened).
                let config = try Daemon.loadConfiguration(path: path, overrides: overrides)
                Daemon.logNotices(of: config, logger: logger)
                ingest.reload(config)
            } catch {
                status.update { $0.reloadFailures += 1 }
                logger.error(
                    "new configuration rejected, keeping the running one",
                    metadata: ["sentra.config": "\(path)", "sentra.errors": "\(error)"])
            }
            notifier.ready()
        }
    }
}
