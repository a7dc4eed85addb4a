import ArgumentParser
import Foundation
import SentraAlertLog
import SentraConfig
import SentraCore
import SentraLocale
import SentraPlugins
import SentraStore
import SentraWire

/// `sentractl`: the coordinator's command line (README.md, "Using it").
@main
struct Sentractl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentractl", abstract: "Look at a sentra: check its configuration, report production, follow alerts.",
        subcommands: [
            Check.self, Registry.self, Report.self, Tail.self, Status.self, Devices.self, Plugins.self, Region.self,
            OrderCommand.self,
            PayCommand.self,
            Access.self,
        ])
}

/// Options every subcommand takes.
struct Common: ParsableArguments {
    @Option(help: "The configuration file (YAML).") var config: String
    @Option(help: "The broker as HOST:PORT, overriding the configuration.") var broker: String?
    @Option(name: .customLong("state-dir"), help: "The state directory, overriding the configuration.") var stateDir: String?
    @Option(name: .customLong("log-dir"), help: "The log directory, overriding the configuration.") var logDir: String?

    /// Loads the configuration or exits 1 with every problem named; `forStart` also checks
    /// what `sentrad` checks before it starts (`Configuration.checkForStart`).
    func load(http: String? = nil, forStart: Bool = false) throws -> Configuration {
        do {
            var c = try Configuration.load(path: config)
            try c.override(broker: broker, stateDirectory: stateDir, logDirectory: logDir, http: http)
            if forStart { try c.checkForStart() }
            return c
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

/// `--language`: the table's language, else the configuration's `sentra.language`. Another
/// value is a user error (exit 1), as a wrong `--format` is.
func tableLanguage(_ option: String?, _ c: Configuration) throws -> Language {
    guard let option else { return c.language }
    guard let l = Language(rawValue: option) else { throw userError("--language '\(option)' is not one of: en, id") }
    return l
}

/// Prints `sentractl: message` and gives exit 1: a value the user gave is wrong.
func userError(_ message: String) -> ExitCode {
    printError("sentractl: \(message)")
    return ExitCode(1)
}

/// Opening the state database failed: 2 when it is damaged or its history lost, else 1 (a
/// state directory where sentrad never ran).
func stateExitCode(opening error: any Error) -> Int32 {
    if let e = error as? StoreError, e.isDamagedState { return 2 }
    return ProductionStore.isDamage(error) ? 2 : 1
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

extension Sentractl {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration as sentrad does at start: exit 0 when valid, else 1 with every problem.")
        @OptionGroup var common: Common
        @Option(help: "The HTTP listener as HOST:PORT, as given to sentrad.") var http: String?

        func run() throws {
            let c = try common.load(http: http, forStart: true)
            let r = c.registry
            print(
                "\(common.config): valid — \(r.workshops.count) workshops, \(r.craftsmen.count) craftsmen, \(r.looms.count) looms, "
                    + "\(r.devices.count) devices, \(c.rules.count) rules, \(c.plugins.count) plugins")
            for n in c.notices { print("note: \(n)") }
        }
    }

    struct Registry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The sentra as the daemon understands it.")
        @OptionGroup var common: Common
        @Option(help: "json or table.") var format: String = "table"
        @Option(help: "The table's language, en or id (default: the configuration's sentra.language).") var language: String?

        func validate() throws {
            guard ["json", "table"].contains(format) else { throw userError("--format is json or table") }
        }

        func run() throws {
            let c = try common.load()
            let r = c.registry
            let words = Catalogue.of(try tableLanguage(language, c))
            if format == "json" {
                // Strings only: encoding cannot fail.
                print(try WireJSON.text(RegistryDocument(r)), terminator: "")
            } else {
                print("\(r.name)")
                for w in r.workshops {
                    print("\n\(w.id)  \(w.name)")
                    for c in r.craftsmen where c.workshop == w.id {
                        let looms = r.looms.filter { $0.currentCraftsman == c.id }.map(\.id)
                        let line = words.text(
                            "registry.craftsman",
                            ["id": c.id, "name": c.name, "count": String(looms.count), "looms": looms.joined(separator: " ")])
                        print("  " + line)
                    }
                    for d in r.devices where d.workshop == w.id && d.kind != .loom {
                        let owner = d.craftsman ?? words.text("registry.whole_workshop")
                        let kind = words.text("registry.kind.\(d.kind.rawValue)")
                        print("  " + words.text("registry.meter", ["kind": kind, "id": d.id, "owner": owner]))
                    }
                    let boards = r.devices.filter { $0.workshop == w.id && $0.kind == .loom }.count
                    print("  " + words.text("registry.boards", ["count": String(boards)]))
                }
            }
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Production per craftsman, loom or workshop over local days.")
        @OptionGroup var common: Common
        @Option(help: "One local day, YYYY-MM-DD (default: today in the sentra's time zone).") var date: String?
        @Option(help: "First local day, inclusive.") var from: String?
        @Option(help: "Last local day, inclusive.") var to: String?
        @Option(help: "craftsman, loom or workshop.") var by: String = "craftsman"
        @Option(help: "table, csv or json.") var format: String = "table"
        @Option(help: "The table's language, en or id (default: the configuration's sentra.language).") var language: String?

        /// A value that parses but is wrong (a day that does not exist or lies outside the years
        /// 2000 to 2199, a reversed or too long range, an unknown `--by`) is exit 1, naming the
        /// option; a state database that cannot be read is exit 2.
        func run() throws {
            let (format, grouping, asked) = try checkedOptions()
            let c = try common.load()
            let language = try tableLanguage(language, c)
            var calendar = c.calendar
            let days: DayRange
            if let asked {
                days = asked
            } else {
                let today = calendar.date(atMillis: Int64(Date().timeIntervalSince1970 * 1000))
                guard let d = DayRange(clockDay: today) else { throw userError("the clock's day '\(today)' is not a date") }
                days = d
            }
            let store: ProductionStore
            do {
                store = try ProductionStore(readingFrom: c.stateDatabasePath)
            } catch {
                // Damaged or lost history: 2; no database there (the state directory given is
                // not a daemon's): 1.
                printError("sentractl: \(error)")
                throw ExitCode(stateExitCode(opening: error))
            }
            do {
                let report = try store.report(registry: c.registry, calendar: c.calendar, days: days)
                print(report.render(format, by: grouping, language: language), terminator: "")
            } catch {
                printError("sentractl: reading \(c.stateDatabasePath) failed: \(error)")
                throw ExitCode(2)
            }
        }

        /// The options' values, checked: the format, the grouping, and the days asked for (nil: today).
        func checkedOptions() throws -> (ReportFormat, ReportGrouping, DayRange?) {
            guard let f = ReportFormat(rawValue: format) else { throw userError("--format '\(format)' is not one of: table, csv, json") }
            guard let g = ReportGrouping(rawValue: by) else { throw userError("--by '\(by)' is not one of: craftsman, loom, workshop") }
            do {
                if let date {
                    guard from == nil, to == nil else { throw userError("give --date, or --from/--to, not both") }
                    return (f, g, try DayRange(day: date))
                }
                guard let first = from ?? to, let last = to ?? from else { return (f, g, nil) }
                // One of them alone is that day, named as given.
                let fields: (from: DayField, to: DayField) = (from == nil ? .to : .from, to == nil ? .from : .to)
                return (f, g, try DayRange(from: first, to: last, maxDays: DayRange.maxDaysOnCommandLine, fields: fields))
            } catch let e as ReportError {
                throw userError(e.description)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The daemon on one screen, from its HTTP API; --json: the ingest counts it last committed to the state database.")
        @OptionGroup var common: Common
        @Option(help: "The daemon's HTTP listener as HOST:PORT, overriding the configuration.") var http: String?
        @Flag(help: "Print the committed ingest counts as JSON (works with the daemon stopped).") var json = false

        func run() async throws {
            var c = try common.load()
            if json {
                print(try committedStats(c), terminator: "")
                return
            }
            do {
                try c.override(broker: nil, stateDirectory: nil, logDirectory: nil, http: http)
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
            let client = try APIClient(configuration: c)
            do {
                let status = try await client.get("api/v1/status", as: StatusAnswer.self)
                let alerts = try await client.get("api/v1/alerts?recent=0", as: AlertsAnswer.self)
                // Today's production comes from the state database: the rest is shown without it.
                let production: Result<ReportDocument, any Error>
                do {
                    production = .success(try await client.get("api/v1/production", as: ReportDocument.self))
                } catch {
                    production = .failure(error)
                }
                print(StatusScreen.render(status: status, alerts: alerts, production: production), terminator: "")
            } catch {
                printError("sentractl: sentrad does not answer at \(client.base): \(error)")
                if let stats = try? committedStats(c) { printError("The counts it last committed to the state database:\n\(stats)") }
                throw ExitCode(1)
            }
        }

        /// The ingest counts last committed (`IngestStatsRecord`), as JSON.
        func committedStats(_ c: Configuration) throws -> String {
            let stats: String?
            do {
                stats = try ProductionStore(readingFrom: c.stateDatabasePath).meta("ingest_stats")
            } catch {
                printError("sentractl: \(error)")
                throw ExitCode(stateExitCode(opening: error))
            }
            guard let stats else {
                printError("sentractl: sentrad has not committed any counts yet")
                throw ExitCode(1)
            }
            do {
                return try WireJSON.text(WireJSON.decode(IngestStatsRecord.self, from: stats))
            } catch {
                printError("sentractl: the committed counts are not readable: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow the alert log across rotations, readable by a person (or --json).")
        @OptionGroup var common: Common
        @Option(help: "Only alerts at least this severe: info, warning or critical.") var severity: String = "info"
        @Option(help: "Only alerts of this workshop.") var workshop: String?
        @Option(help: "Only alerts of this craftsman.") var craftsman: String?
        @Option(help: "Only alerts at or after this time (RFC 3339, or a local date YYYY-MM-DD).") var since: String?
        @Option(name: .shortAndLong, help: "How many past alerts to show first.") var lines = 10
        @Flag(help: "Pass the log's JSON lines through unchanged.") var json = false
        @Flag(name: .customLong("no-follow"), help: "Print what is there and stop.") var noFollow = false
        @Flag(help: "Colour even when not writing to a terminal.") var color = false
        @Option(help: "The language of the lines' own words, en or id (default: the configuration's sentra.language).")
        var language: String?

        func validate() throws {
            guard Severity(rawValue: severity) != nil else { throw userError("--severity is info, warning or critical") }
        }

        func run() async throws {
            let c = try common.load()
            var o = AlertTail.Options()
            o.minSeverity = Severity(rawValue: severity)!
            o.workshop = workshop
            o.craftsman = craftsman
            o.json = json
            o.follow = !noFollow
            o.lines = lines
            o.language = try tableLanguage(language, c)
            if color { o.color = true }
            if let since {
                var cal = c.calendar
                guard let ms = RFC3339.parse(since) ?? cal.startOfDay(since) else {
                    printError("sentractl: --since '\(since)' is neither RFC 3339 nor YYYY-MM-DD")
                    throw ExitCode(1)
                }
                // Both forms begin with YYYY-MM-DD.
                guard let year = Int64(since.prefix(4)), DayRange.years.contains(year) else {
                    throw userError(
                        "--since \(since) lies outside the years \(DayRange.years.lowerBound) to \(DayRange.years.upperBound)")
                }
                o.since = ms
            }
            try await AlertTail(path: c.alertLogPath, timeZone: c.calendar.timeZone, options: o).run()
        }
    }
}

extension Sentractl {
    struct Plugins: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Work with the configured alert plugins.", subcommands: [Test.self])

        struct Test: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Send a sample alert through a plugin and show what it answered.",
                discussion: """
                    An external plugin is started, sent the handshake and one event (rule sentractl_test, \
                    severity info), and stopped; every line it wrote is shown. It runs with a scratch state \
                    directory, so the daemon's plugin state is left alone. Exit 0 when the plugin \
                    acknowledged the event, 1 when it refused or failed it, 2 on an internal failure.
                    """)
            @OptionGroup var common: Common
            @Argument(help: "The plugin's name in the configuration's plugins.") var name: String
            @Option(
                name: .customLong("plugin-dir"),
                help: "Where builtin external plugins live (default: $SENTRA_PLUGIN_DIR, else /usr/lib/sentra/plugins).")
            var pluginDir: String?

            func run() async throws {
                let c = try common.load()
                guard let spec = c.plugins.first(where: { $0.name == name }) else {
                    let names = c.plugins.map(\.name)
                    printError(
                        "sentractl: no plugin named '\(name)' in \(common.config)"
                            + (names.isEmpty ? " (it configures none)" : " (it has: \(names.joined(separator: ", ")))"))
                    throw ExitCode(1)
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                let labels = c.registry.workshops.first.map { ["workshop": $0.id] } ?? ["component": "sentractl"]
                let event = AlertEvent(
                    seq: 0, ts: now, rule: "sentractl_test", status: .firing, severity: .info, labels: labels, value: nil,
                    summary: Catalogue.of(c.language).text("alert.test"), started: now)
                let timeZone = c.calendar.timeZone
                let directory =
                    pluginDir ?? ProcessInfo.processInfo.environment["SENTRA_PLUGIN_DIR"] ?? PluginHost.Settings().pluginDirectory
                let scratch = FileManager.default.temporaryDirectory
                    .appendingPathComponent("sentractl-plugin-test-\(UUID().uuidString.prefix(8))")
                do {
                    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
                } catch {
                    printError("sentractl: cannot create \(scratch.path): \(error)")
                    throw ExitCode(2)
                }
                defer { try? FileManager.default.removeItem(at: scratch) }
                if spec.minSeverity > .info {
                    print("note: \(spec.name) has min_severity \(spec.minSeverity.rawValue); the daemon would not send it this info alert")
                }
                let trial = await PluginTrial.run(
                    spec: spec, event: event, timeZone: timeZone, sentraName: c.name, sentraID: c.sentraID, stateDirectory: scratch.path,
                    pluginDirectory: directory)
                for line in trial.transcript { print(Self.render(line)) }
                switch trial.outcome {
                case .acknowledged:
                    print("plugin \(spec.name): \(trial.inProcess ? "delivered" : "acknowledged") the test alert")
                case .refused(let why):
                    print("FAILED: \(why)")
                    throw ExitCode(1)
                case .internalFailure(let why):
                    printError("sentractl: \(why)")
                    throw ExitCode(2)
                }
            }

            /// One line of the conversation, readable: `>` what was sent, `<` what the plugin wrote.
            static func render(_ line: PluginTrial.Line) -> String {
                switch line.direction {
                case .toPlugin: return "> \(line.text)"
                case .stderr: return "< stderr: \(line.text)"
                case .fromPlugin: break
                }
                guard let message = try? WireJSON.decode(PluginMessage.self, from: line.text) else { return "< garbage: \(line.text)" }
                switch message {
                case .hello(let h):
                    let who = [h.name, h.version].compactMap { $0 }.joined(separator: " ")
                    return "< hello: protocol \(h.protocol.map(String.init) ?? "?")" + (who.isEmpty ? "" : ", \(who)")
                case .ack(let a):
                    return "< ack: seq \(a.seq)"
                case .nack(let n):
                    return "< nack: seq \(n.seq): \(n.error ?? "no reason given")"
                case .log(let l):
                    return "< log \(l.level ?? "info"): \(l.message ?? "")"
                case .alert(let a):
                    let labels = (a.labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    return "< alert: \(a.status?.rawValue ?? "firing") \(a.severity?.rawValue ?? "warning") \(a.rule ?? "?")"
                        + (labels.isEmpty ? "" : " {\(labels.joined(separator: ", "))}") + ": \(a.summary ?? "")"
                case .event, .unknown:
                    return "< \(message.type): \(line.text)"
                }
            }
        }
    }
}
