import ArgumentParser
import Foundation
import Logging
import SentraAlerts
import SentraConfig
import SentraCore
import SentraDaemon
import SentraHTTP
import SentraMQTT
import SentraStore
import SentraSystemd
import ServiceLifecycle

/// `sentrad --config PATH`: the daemon, in the foreground (README.md, "Using it").
@main
struct Sentrad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentrad", abstract: "Sentra's daemon: takes readings from mosquitto, counts production, raises alerts.",
        version: SentraVersion.current)

    @Option(help: "The configuration file (YAML).") var config: String
    @Option(help: "The broker as HOST:PORT, overriding the configuration.") var broker: String?
    @Option(name: .customLong("state-dir"), help: "The state directory, overriding the configuration.") var stateDir: String?
    @Option(name: .customLong("log-dir"), help: "The log directory (alert log), overriding the configuration.") var logDir: String?
    @Option(help: "The HTTP listener as HOST:PORT, overriding the configuration.") var http: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String = "info"

    func run() async throws {
        // Two malloc arenas, not one per thread (8 per core by default): the daemon's threads
        // hand buffers to each other, and per-thread arenas only fragment (BENCHMARKS.md, memory).
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        // Large buffers (a /metrics answer of a big sentra is megabytes) straight from mmap and
        // back to the system when freed; glibc's default raises this threshold after the first
        // free, and the heap then keeps such a buffer's pages for good (BENCHMARKS.md, http).
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 256 << 10)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        bootstrapLogging(level: level)
        let logger = Logger(label: "sentrad")

        var configuration: Configuration
        do {
            configuration = try Configuration.load(path: config)
            try configuration.override(broker: broker, stateDirectory: stateDir, logDirectory: logDir, http: http)
            try configuration.validateHTTP()
        } catch {
            FileHandle.standardError.write(Data("sentrad: the configuration is not valid:\n\(error)\n".utf8))
            throw ExitCode(1)
        }
        let notifier = SystemdNotifier()
        // Parsing a large YAML file leaves freed heap behind; give it back before running.
        _ = glibcMallocTrim(0)
        do {
            for dir in [configuration.stateDirectory, configuration.logDirectory] {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            let status = DaemonStatus()
            status.update {
                $0.configFile = config
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
            var pluginSettings = PluginHost.Settings()
            pluginSettings.sentraName = configuration.name
            if let dir = ProcessInfo.processInfo.environment["SENTRA_PLUGIN_DIR"] { pluginSettings.pluginDirectory = dir }
            let plugins = try PluginHost(
                log: alertLog, plugins: configuration.plugins, stateDirectory: configuration.stateDirectory, settings: pluginSettings,
                logger: logger)
            let ingest = try IngestService(
                configuration: configuration, journal: journal, store: store, alertLog: alertLog, status: status, logger: logger)
            let mqtt = try MQTTService(
                configuration: configuration, journal: journal, replayed: ingest.replayed, status: status, notifier: notifier,
                logger: logger)
            let reload = ReloadService(
                path: config, overrides: (broker, stateDir, logDir), ingest: ingest, alertLog: alertLog, status: status, notifier: notifier,
                logger: logger)
            let systemd = SystemdService(notifier: notifier, status: status)
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                .init(service: PluginService(host: plugins), successTerminationBehavior: .ignore), .init(service: ingest),
                .init(service: mqtt), .init(service: reload),
            ]
            if configuration.http.enabled {
                let token = try configuration.httpToken()
                let view = DaemonView(
                    name: configuration.name, timeZone: configuration.calendar.timeZone, version: SentraVersion.current, status: status,
                    live: ingest.live, store: store, alertLog: alertLog, plugins: plugins)
                services.append(
                    .init(
                        service: HTTPServer.application(
                            view: view, host: configuration.http.host, port: configuration.http.port, policy: AccessPolicy(token: token),
                            logger: logger)))
            }
            services.append(.init(service: systemd))
            // Shut down in reverse order: STOPPING=1 first, then the broker connection,
            // then the ingest thread drains the queue and commits, then the plugins (last: the
            // ingest service returns as soon as the broker connection closes its queue, and a
            // service returning before its turn fails the group; the plugins also get what the
            // drain alerted).
            let group = ServiceGroup(
                configuration: .init(
                    services: services,
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            logger.info(
                "sentrad starting",
                metadata: [
                    "sentra.config": "\(config)", "sentra.name": "\(configuration.name)",
                    "mqtt.broker": "\(configuration.broker.host):\(configuration.broker.port)",
                    "sentra.state_dir": "\(configuration.stateDirectory)",
                ])
            try await group.run()
            logger.info("sentrad stopped")
        } catch let error as ExitCode {
            throw error
        } catch let error as ConfigurationErrors {
            FileHandle.standardError.write(Data("sentrad: the configuration is not valid:\n\(error)\n".utf8))
            throw ExitCode(1)
        } catch {
            logger.critical("sentrad failed", metadata: ["sentra.error": "\(error)"])
            throw ExitCode(2)
        }
    }

    /// Journald with structured fields when systemd connected our stderr to it (or a test
    /// names a socket in SENTRA_JOURNAL_SOCKET); plain lines on stderr otherwise.
    func bootstrapLogging(level: Logger.Level) {
        let env = ProcessInfo.processInfo.environment
        let journalPath = env["SENTRA_JOURNAL_SOCKET"] ?? (JournalSocket.stderrIsJournal() ? "/run/systemd/journal/socket" : nil)
        if let journalPath, let socket = JournalSocket(path: journalPath, identifier: "sentrad") {
            LoggingSystem.bootstrap { label in
                var h = JournalLogHandler(label: label, socket: socket)
                h.logLevel = level
                return h
            }
        } else {
            LoggingSystem.bootstrap { label in
                var h = StreamLogHandler.standardError(label: label)
                h.logLevel = level
                return h
            }
        }
    }
}

/// glibc's malloc_trim(3) (malloc.h is not in Swift's Glibc module).
@_silgen_name("malloc_trim") func glibcMallocTrim(_ pad: Int) -> Int32

/// glibc's mallopt(3).
@_silgen_name("mallopt") func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
