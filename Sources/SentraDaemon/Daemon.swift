import Foundation
import Logging
import SentraAlertLog
import SentraConfig
import SentraCore
import SentraHTTP
import SentraJournal
import SentraPlugins
import SentraReadModel
import SentraStore
import SentraSystemd
import ServiceLifecycle

/// `sentrad` composed: every service of the daemon, built from a loaded configuration and
/// run in one `ServiceGroup` until SIGTERM or SIGINT.
public struct Daemon {
    /// What the command line overrode in the configuration file (a reload keeps them).
    public struct Overrides: Sendable {
        public var broker: String?
        public var stateDirectory: String?
        public var logDirectory: String?
        public var http: String?
        public init(broker: String? = nil, stateDirectory: String? = nil, logDirectory: String? = nil, http: String? = nil) {
            self.broker = broker
            self.stateDirectory = stateDirectory
            self.logDirectory = logDirectory
            self.http = http
        }
    }

    public let configuration: Configuration
    public let configPath: String
    public let overrides: Overrides
    public let logger: Logger

    /// Loads and checks the configuration file with the overrides applied: the file, then
    /// everything a start needs from it (`Configuration.checkForStart`, which `sentractl check`
    /// runs too). Throws `ConfigurationErrors`, never traps, whatever the file holds.
    public static func loadConfiguration(path: String, overrides: Overrides) throws -> Configuration {
        var configuration = try Configuration.load(path: path)
        try configuration.override(
            broker: overrides.broker, stateDirectory: overrides.stateDirectory, logDirectory: overrides.logDirectory,
            http: overrides.http)
        try configuration.checkForStart()
        return configuration
    }

    /// What the configuration says that is accepted but worth a word (an obsolete key).
    static func logNotices(of configuration: Configuration, logger: Logger) {
        for n in configuration.notices {
            logger.notice("configuration: \(n.message)", metadata: ["sentra.config": "\(n.file):\(n.line)", "sentra.key": "\(n.key)"])
        }
    }

    public init(configuration: Configuration, configPath: String, overrides: Overrides, logger: Logger) {
        self.configuration = configuration
        self.configPath = configPath
        self.overrides = overrides
        self.logger = logger
    }

    /// Opens the state, the journal, the alert log and the plugins, then runs every service.
    public func run() async throws {
        let group = try makeServiceGroup()
        Self.logNotices(of: configuration, logger: logger)
        logger.info(
            "sentrad starting",
            metadata: [
                "sentra.config": "\(configPath)", "sentra.name": "\(configuration.name)",
                "mqtt.broker": "\(configuration.broker.host):\(configuration.broker.port)",
                "sentra.state_dir": "\(configuration.stateDirectory)",
            ])
        try await group.run()
        logger.info("sentrad stopped")
    }

    /// What the plugins are told: the sentra's name and id, and where the shipped ones live.
    func pluginSettings(_ configuration: Configuration) -> PluginHost.Settings {
        var settings = PluginHost.Settings()
        settings.sentraName = configuration.name
        settings.sentraID = configuration.sentraID
        if let dir = ProcessInfo.processInfo.environment["SENTRA_PLUGIN_DIR"] { settings.pluginDirectory = dir }
        return settings
    }

    func makeServiceGroup() throws -> ServiceGroup {
        let configuration = self.configuration
        for dir in [configuration.stateDirectory, configuration.logDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let notifier = SystemdNotifier()
        let status = DaemonStatus()
        // SIGTERM ends the retries of failing writes; the ingest thread's heartbeat gates WATCHDOG=1.
        let stop = StopSignal()
        let liveness = Liveness(watchdog: notifier.watchdogInterval())
        status.update {
            $0.configFile = configPath
            $0.startedAt = Int64(Date().timeIntervalSince1970 * 1000)
            $0.broker = "\(configuration.broker.host):\(configuration.broker.port)"
        }
        let store = try ProductionStore(path: configuration.stateDatabasePath)
        let journal = try openReceiveJournal(configuration: configuration, store: store, logger: logger)
        status.update { $0.journalCapacity = journal.capacity }
        let alertLog = try AlertLog(
            path: configuration.alertLogPath, timeZone: configuration.calendar.timeZone,
            settings: .init(maxFileBytes: configuration.alertLog.maxFileBytes, maxKeptBytes: configuration.alertLog.maxKeptBytes),
            logger: logger)
        alertLog.language = configuration.language
        let plugins = try PluginHost(
            log: alertLog, plugins: configuration.plugins, stateDirectory: configuration.stateDirectory,
            settings: pluginSettings(configuration), logger: logger)
        let ingest = try IngestService(
            configuration: configuration, journal: journal, store: store, alertLog: alertLog, status: status, logger: logger,
            stop: stop, liveness: liveness)
        // READY=1 once subscribed and, with HTTP on, once the listener accepts connections.
        let readiness = Readiness(notifier: notifier, waitingFor: configuration.http.enabled ? [.subscribed, .listening] : [.subscribed])
        let mqtt = try MQTTService(
            configuration: configuration, journal: journal, replayed: ingest.replayed, status: status, readiness: readiness,
            logger: logger)
        var reload = ReloadService(
            path: configPath, overrides: overrides, ingest: ingest, alertLog: alertLog, status: status, notifier: notifier, logger: logger)
        reload.mqtt = mqtt
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: PluginService(host: plugins), successTerminationBehavior: .ignore), .init(service: ingest),
            .init(service: mqtt), .init(service: reload),
        ]
        if configuration.http.enabled {
            var view = DaemonView(
                name: configuration.name, version: SentraVersion.current, status: status,
                live: ingest.live, store: store, alertLog: alertLog, plugins: plugins, usualDays: configuration.usualDays)
            view.sentraID = configuration.sentraID
            (view.pay, view.language) = (configuration.pay, configuration.language)
            let http = try httpService(view: view, readiness: readiness)
            let late = FaultInjection.httpLate.target
            services.append(.init(service: late > 0 ? LateService(service: http, delay: .seconds(late)) : http))
        }
        services.append(.init(service: SystemdService(notifier: notifier, status: status, liveness: liveness, stop: stop)))
        // Shut down in reverse order: STOPPING=1 first, then the HTTP listener and the broker
        // connection, then the ingest thread drains the journal and commits, then the plugins
        // (last: the ingest service returns as soon as the broker connection closes, and a
        // service returning before its turn fails the group; the plugins also get what the
        // drain alerted).
        return ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }

    /// The HTTP listener (docs/http.md), reporting to `readiness` once it accepts connections.
    func httpService(view: DaemonView, readiness: Readiness) throws -> some Service {
        HTTPServer.application(
            view: view, host: configuration.http.host, port: configuration.http.port,
            policy: AccessPolicy(token: try configuration.httpToken(), craftsmen: CraftsmanTokens(store: view.store, clock: view.clock)),
            logger: logger,
            limits: HTTPLimits(
                idleTimeout: .milliseconds(configuration.http.idleTimeoutMillis), maxConnections: configuration.http.maxConnections),
            onServerRunning: { readiness.report(.listening) })
    }
}
