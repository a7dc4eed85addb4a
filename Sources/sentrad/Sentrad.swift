import ArgumentParser
import Foundation
import Logging
import SentraConfig
import SentraCore
import SentraDaemon
import SentraSystemd

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

        let overrides = Daemon.Overrides(broker: broker, stateDirectory: stateDir, logDirectory: logDir, http: http)
        let configuration: Configuration
        do {
            configuration = try Daemon.loadConfiguration(path: config, overrides: overrides)
        } catch {
            FileHandle.standardError.write(Data("sentrad: the configuration is not valid:\n\(error)\n".utf8))
            throw ExitCode(1)
        }
        // Parsing a large YAML file leaves freed heap behind; give it back before running.
        _ = glibcMallocTrim(0)
        do {
            try await Daemon(configuration: configuration, configPath: config, overrides: overrides, logger: logger).run()
        } catch let error as ConfigurationErrors {
            FileHandle.standardError.write(Data("sentrad: the configuration is not valid:\n\(error)\n".utf8))
            throw ExitCode(1)
        } catch {
            if let refused = refusedState(error) {
                // A state database that cannot be used: refused before anything was changed.
                logger.critical("sentrad cannot start: \(refused.why)", metadata: ["sentra.error": "\(refused.why)"])
                FileHandle.standardError.write(Data("sentrad: cannot start: \(refused.why)\n".utf8))
                throw ExitCode(refused.status)
            }
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
