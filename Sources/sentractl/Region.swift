import ArgumentParser
import Foundation
import SentraConfig
import SentraCore
import SentraRegion

extension Sentractl {
    /// `sentractl region …`: many sentras, seen from the region (docs/region.md).
    struct Region: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a region of sentras: their alerts from the regional broker, their state from the regional Prometheus.",
            subcommands: [RegionTailCommand.self, RegionStatusCommand.self])
    }
}

/// Where the region is: a configuration's `region` section.
struct RegionOptions: ParsableArguments {
    @Option(help: "A configuration with a region section (a sentra's, or one holding only region:).") var config: String?

    /// The region: from `--config`, or the defaults, with the flags over it; exit 1 with every
    /// problem named.
    func load(broker: String? = nil, prometheus: String? = nil) throws -> RegionConfiguration {
        do {
            var r = try config.map { try RegionConfiguration.load(path: $0) } ?? RegionConfiguration()
            if let broker {
                let (h, p) = try Configuration.hostPort(broker, option: "--region-broker")
                r.broker.host = h
                r.broker.port = p
            }
            if let prometheus {
                guard RegionConfiguration.isHTTPBase(prometheus) else {
                    throw userError("--prometheus '\(prometheus)' is not a base URL like http://127.0.0.1:9090")
                }
                r.prometheus = prometheus.hasSuffix("/") ? String(prometheus.dropLast()) : prometheus
            }
            return r
        } catch let e as ExitCode {
            throw e
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

struct RegionTailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow every sentra's alerts on the regional broker: each line once, its sentra first, gaps in its seq shown.")
    @OptionGroup var region: RegionOptions
    @Option(name: .customLong("region-broker"), help: "The regional broker as HOST:PORT, overriding the configuration.")
    var regionBroker: String?
    @Option(help: "Only alerts at least this severe: info, warning or critical.") var severity: String = "info"
    @Option(help: "Only this sentra (repeat for more).") var sentra: [String] = []
    @Flag(help: "Pass the events' JSON lines through unchanged (notices go to standard error).") var json = false
    @Flag(help: "Colour even when not writing to a terminal.") var color = false

    func validate() throws {
        guard Severity(rawValue: severity) != nil else { throw userError("--severity is info, warning or critical") }
        guard region.config != nil || regionBroker != nil else {
            throw ValidationError("name the regional broker: --config with a region section, or --region-broker HOST:PORT")
        }
    }

    func run() async throws {
        let r = try region.load(broker: regionBroker)
        var o = RegionTail.Options()
        o.minSeverity = Severity(rawValue: severity)!
        o.sentras = Set(sentra)
        o.json = json
        if color { o.color = true }
        do {
            try await RegionTail(region: r, options: o).run()
        } catch let e as ConfigurationErrors {
            printError("\(e)")
            throw ExitCode(1)
        }
    }
}

struct RegionStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The region's sentras: whether each is reporting, and its production today and in all, from the regional Prometheus.")
    @OptionGroup var region: RegionOptions
    @Option(help: "The regional Prometheus's base URL (http://HOST:PORT), overriding the configuration.") var prometheus: String?
    @Option(help: "table or json.") var format: String = "table"
    @Option(help: "Seconds without a sample after which a sentra is not reporting.") var stale: Int = 120

    func validate() throws {
        guard ["table", "json"].contains(format) else { throw userError("--format is table or json") }
        guard region.config != nil || prometheus != nil else {
            throw ValidationError("name the regional Prometheus: --config with a region section, or --prometheus URL")
        }
        guard (10...86_400).contains(stale) else { throw userError("--stale is 10 to 86400 seconds") }
    }

    func run() async throws {
        let r = try region.load(prometheus: prometheus)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let password: String?
        do {
            password = try r.prometheusPassword()
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let client = PrometheusClient(base: r.prometheus, username: r.prometheusUsername, password: password)
        let status: RegionStatus
        do {
            status = try await RegionStatus.query(r, now: now, staleSeconds: stale, client: client)
        } catch {
            printError("sentractl: the regional Prometheus at \(r.prometheus) does not answer: \(error)")
            throw ExitCode(1)
        }
        if format == "json" {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try e.encode(status), as: UTF8.self))
        } else {
            print(status.table(), terminator: "")
        }
    }
}
