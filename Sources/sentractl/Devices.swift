import ArgumentParser
import Foundation
import SentraConfig
import SentraCore
import SentraLocale
import SentraStore
import SentraWire

extension Sentractl {
    struct Devices: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The configured devices: how each is read, when it was last heard, how far its clock is off.",
            subcommands: [List.self, Unknown.self], defaultSubcommand: List.self)

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "Every configured device (the default).")
            @OptionGroup var common: Common
            @Option(help: "table or json.") var format: String = "table"
            @Option(help: "The table's language, en or id (default: the configuration's sentra.language).") var language: String?

            func validate() throws {
                guard ["json", "table"].contains(format) else { throw userError("--format is json or table") }
            }

            func run() throws {
                let c = try common.load()
                let lang = try tableLanguage(language, c)
                let states = try openState(c).loadDeviceStates()
                let tz = c.calendar.timeZone
                let doc = DevicesDocument(
                    devices: c.registry.devices.map { d in
                        let s = states[d.key]
                        return DevicesDocument.Device(
                            id: d.id, workshop: d.workshop, kind: d.kind.rawValue, profile: d.profile,
                            topic: d.mapping?.deviceTopic ?? c.registry.topic(of: d),
                            lastReading: s?.lastTs.map { RFC3339.format($0, timeZone: tz) },
                            skewSeconds: s?.skewMs.map { Double($0) / 1000 })
                    })
                if format == "json" {
                    print(try WireJSON.text(doc), terminator: "")
                    return
                }
                let words = Catalogue.of(lang)
                let header = ["device", "workshop", "kind", "profile", "topic", "last_reading", "clock"]
                print(pad(header.map { words.text("devices.col.\($0)") }))
                for d in doc.devices {
                    let skew = d.skewSeconds.map { s in
                        abs(s) > Double(IngestPipeline.skewNoticeMillis / 1000)
                            ? words.text("devices.clock_off", ["duration": LocaleFormat(lang).duration(millis: Int64(s * 1000))])
                            : words.text("devices.clock_ok")
                    }
                    print(pad([d.id, d.workshop, d.kind, d.profile, d.topic, d.lastReading ?? words.text("devices.never"), skew ?? "-"]))
                }
            }
        }

        struct Unknown: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Topics the broker delivered that no configured device claims, with what to paste to add each.",
                discussion: """
                    sentrad keeps the most recently heard 256 such topics with a sample of what each carried, \
                    and reads Home Assistant discovery messages for the devices they announce. Topics the \
                    configuration given here claims are left out, so after adding a device it disappears.
                    """)
            @OptionGroup var common: Common
            @Option(help: "table or json.") var format: String = "table"

            func validate() throws {
                guard ["json", "table"].contains(format) else { throw userError("--format is json or table") }
            }

            func run() throws {
                let c = try common.load()
                let topics = try openState(c).unknownTopics()
                let doc = Self.document(topics, configuration: c)
                if format == "json" {
                    print(try WireJSON.text(doc), terminator: "")
                    return
                }
                if doc.topics.isEmpty {
                    print("No unknown topics: every topic the broker delivered belongs to a configured device.")
                    return
                }
                for t in doc.topics {
                    let what =
                        t.looksLike.map { "looks like \($0.profile) \($0.topic)\($0.kind.map { " (\($0))" } ?? "")" }
                        ?? "profile not recognised"
                    print("\(t.topic)\(t.discovery ? "  [Home Assistant discovery]" : "")")
                    print("  \(t.count) messages, last \(t.lastSeen); \(what)")
                    print("  sample: \(t.sample.prefix(160))")
                    if let s = t.snippet { print("  to add it, under devices:\n\(s)") }
                    print()
                }
            }

            /// The stored topics the configuration does not claim, each with its guess and a
            /// snippet; the sensors an ESPHome node showed on its other topics go into its snippet.
            static func document(_ topics: [UnknownTopic], configuration c: Configuration) -> UnknownTopicsDocument {
                let routes = ForeignRoutes(registry: c.registry)
                let prefix = c.registry.topicPrefix
                let open = topics.filter { t in
                    if routes.resolve(t.topic) != nil { return false }
                    if case .success(let dt) = DeviceTopic.parse(t.topic, prefix: prefix), c.registry.deviceIndex(dt.key) != nil {
                        return false
                    }
                    return true
                }
                let guesses = open.map { Onboarding.guess(topic: $0.topic, sample: $0.sample, topicPrefix: prefix) }
                var sensors: [String: [String]] = [:]
                for g in guesses.compactMap({ $0 }) where g.profile == "esphome" {
                    if let d = g.detail, d.hasPrefix("sensor ") {
                        sensors[g.topic, default: []].append(String(d.dropFirst("sensor ".count)))
                    }
                }
                let tz = c.calendar.timeZone
                return UnknownTopicsDocument(
                    topics: zip(open, guesses).map { t, g in
                        UnknownTopicsDocument.Topic(
                            topic: t.topic, count: t.count, firstSeen: RFC3339.format(t.firstSeen, timeZone: tz),
                            lastSeen: RFC3339.format(t.lastSeen, timeZone: tz), sample: String(decoding: t.sample, as: UTF8.self),
                            discovery: t.discovery, looksLike: g.map { .init(profile: $0.profile, kind: $0.kind, topic: $0.topic) },
                            snippet: g.map { Onboarding.snippet($0, sensors: Array(Set(sensors[$0.topic] ?? [])).sorted()) })
                    })
            }
        }
    }
}

/// The state database, read-only; exit 2 when damaged, 1 when there is none.
func openState(_ c: Configuration) throws -> ProductionStore {
    do {
        return try ProductionStore(readingFrom: c.stateDatabasePath)
    } catch {
        printError("sentractl: \(error)")
        throw ExitCode(stateExitCode(opening: error))
    }
}

/// Columns of a plain table.
private func pad(_ cells: [String]) -> String {
    let widths = [12, 14, 6, 12, 22, 31, 8]
    return zip(cells, widths).map { $0.count >= $1 ? $0 + " " : $0 + String(repeating: " ", count: $1 - $0.count) }.joined()
        .trimmingCharacters(in: .whitespaces)
}
