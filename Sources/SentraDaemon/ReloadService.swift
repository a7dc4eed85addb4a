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

/// SIGHUP: reopens the alert log and re-reads the configuration. A file with any problem a
/// start would refuse is rejected and logged (file, line, key), the running configuration
/// stays and counting goes on; a good one reaches the ingest thread without a restart.
public struct ReloadService: Service {
    let path: String
    let overrides: Daemon.Overrides
    let ingest: IngestService
    /// The broker connection, which follows the new configuration's subscriptions.
    var mqtt: MQTTService?
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
            reload()
            notifier.ready()
        }
    }

    /// One reload. Whatever the file holds, it returns: a file that does not load, or that
    /// a start would refuse (`Daemon.loadConfiguration`), is logged problem by problem (file,
    /// line, key) and counted, and the running configuration stays; ingest never stops.
    func reload() {
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
            let mqtt = self.mqtt
            ingest.reload(config) { mqtt?.update(subscriptions: config.subscriptions) }
        } catch {
            status.update { $0.reloadFailures += 1 }
            let problems = (error as? ConfigurationErrors)?.errors ?? []
            for p in problems {
                logger.error(
                    "configuration: \(p.message)", metadata: ["sentra.config": "\(p.file):\(p.line)", "sentra.key": "\(p.key)"])
            }
            logger.error(
                "new configuration rejected, keeping the running one",
                metadata: ["sentra.config": "\(path)", "sentra.errors": "\(error)", "sentra.problems": "\(problems.count)"])
        }
    }
}
