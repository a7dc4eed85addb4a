import Logging
import SentraConfig
import SentraSystemd
import ServiceLifecycle
import UnixSignals

/// SIGHUP: re-reads the configuration. A broken file is rejected and logged, and the
/// running configuration stays; a good one reaches the ingest thread without a restart.
public struct ReloadService: Service {
  let path: String
  let overrides: (broker: String?, stateDir: String?, logDir: String?)
  let ingest: IngestService
  let status: DaemonStatus
  let notifier: SystemdNotifier
  let logger: Logger
  let onReload: @Sendable (Configuration) -> Void

  public init(
    path: String, overrides: (broker: String?, stateDir: String?, logDir: String?),
    ingest: IngestService, status: DaemonStatus,
    notifier: SystemdNotifier, logger: Logger,
    onReload: @escaping @Sendable (Configuration) -> Void = { _ in }
  ) {
    self.path = path
    self.overrides = overrides
    self.ingest = ingest
    self.status = status
    self.notifier = notifier
    self.logger = logger
    self.onReload = onReload
  }

  public func run() async throws {
    let signals = await UnixSignalsSequence(trapping: .sighup)
    for await _ in signals.cancelOnGracefulShutdown() {
      notifier.reloading()
      do {
        var config = try Configuration.load(path: path)
        try config.override(
          broker: overrides.broker, stateDirectory: overrides.stateDir,
          logDirectory: overrides.logDir)
        ingest.reload(config)
        onReload(config)
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
