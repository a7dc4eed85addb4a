import Foundation
import SentraCore
import Yams

/// `region:` where a region's coordinator follows many sentras (docs/region.md): the regional
/// broker that the sentras' brokers bridge their alert events to, the regional Prometheus
/// their agents write to, and the sentras expected. Read by `sentractl region`, from a
/// sentra's configuration or from a file holding only this section.
public struct RegionConfiguration: Sendable, Equatable {
    /// The file it was read from, for errors and for secrets named relative to it.
    public var file = ""
    public var name = "region"
    /// The time zone of the region's "today" (`region status`).
    public var timeZone = "Asia/Jakarta"
    /// The regional broker; its `client_id` is the coordinator's persistent session.
    public var broker: Configuration.Broker = Self.defaultBroker
    /// Alert events arrive on `<topic_prefix>/<sentra id>/events`.
    public var topicPrefix = "sentra-region"
    /// The regional Prometheus's base URL (`http://host:port`).
    public var prometheus = "http://127.0.0.1:9090"
    /// Basic auth for the regional Prometheus (its `--web.config.file`), if it asks for it.
    public var prometheusUsername: String?
    public var prometheusPasswordFile: String?
    /// The sentras expected, so one never heard from still shows; more may report.
    public var sentras: [Sentra] = []
    /// The line of each key outside lists, as `Configuration.keyLines`.
    public var keyLines: [String: Int] = [:]

    public struct Sentra: Sendable, Equatable {
        public var id: String
        public var name: String
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public static let defaultBroker: Configuration.Broker = {
        var b = Configuration.Broker()
        b.clientID = "sentractl-region"
        return b
    }()

    public init() {}

    /// `http://` or `https://`, a host, maybe a port and a path; no query.
    public static func isHTTPBase(_ s: String) -> Bool { Reader.isHTTPBase(s) }

    /// The filter of every sentra's alert events.
    public var eventsFilter: String { "\(topicPrefix)/+/events" }

    /// The sentra id in a topic of `eventsFilter`, nil for any other topic or a level that is
    /// not an id (1 to 63 of `a-z 0-9 _ -`).
    public func sentra(inTopic topic: String) -> String? {
        let prefix = topicPrefix + "/"
        guard topic.hasPrefix(prefix), topic.hasSuffix("/events") else { return nil }
        let id = String(topic.dropFirst(prefix.count).dropLast("/events".count))
        return DeviceTopic.isValidID(id.utf8) ? id : nil
    }

    /// The regional Prometheus's password, from `region.prometheus_password_file`.
    public func prometheusPassword() throws -> String? { try secret(prometheusPasswordFile, key: "region.prometheus_password_file") }

    /// The regional broker's password, from `region.broker.password_file`.
    public func brokerPassword() throws -> String? { try secret(broker.passwordFile, key: "region.broker.password_file") }

    private func secret(_ name: String?, key: String) throws -> String? {
        guard let name else { return nil }
        return try Configuration.readSecret(name, key: key, file: file, line: keyLines[key] ?? 0)
    }

    /// The `region` section of the file at `path`, which may be a whole sentra's configuration
    /// (its other sections are not checked here) or hold only `region:`.
    public static func load(path: String) throws -> RegionConfiguration {
        try parse(yaml: try YAMLFile.read(path), file: path)
    }

    public static func parse(yaml: String, file: String) throws -> RegionConfiguration {
        let root = try YAMLFile.compose(yaml, file: file, aliases: "write the value out")
        var r = Reader(file: file)
        guard let entry = root?.mapping?.first(where: { $0.key.string == "region" }) else {
            throw ConfigurationErrors([
                ConfigurationError(
                    file: file, line: root?.mark?.line ?? 0, key: "region", message: "missing: the file has no region section")
            ])
        }
        let region = r.region((entry.key, entry.value))
        guard r.errors.isEmpty, var region else { throw ConfigurationErrors(r.errors) }
        region.keyLines = r.keyLines
        return region
    }
}

extension Reader {
    /// `region:` the regional broker and Prometheus, and the sentras expected.
    mutating func region(_ entry: Entry) -> RegionConfiguration? {
        guard
            let m = mapping(
                entry.value, "region",
                allowed: [
                    "name", "timezone", "broker", "topic_prefix", "prometheus", "prometheus_username", "prometheus_password_file",
                    "sentras",
                ])
        else { return nil }
        var region = RegionConfiguration()
        region.file = file
        region.name = string(m["name"], "region.name") ?? region.name
        if let tz = string(m["timezone"], "region.timezone") {
            if TimeZone(identifier: tz) == nil {
                error(m["timezone"]?.value, "region.timezone", "unknown time zone '\(tz)'")
            } else {
                region.timeZone = tz
            }
        }
        region.broker = broker(m["broker"], path: "region.broker", devices: false, defaults: RegionConfiguration.defaultBroker)
        if let prefix = string(m["topic_prefix"], "region.topic_prefix") {
            if Self.isValidTopicPrefix(prefix) {
                region.topicPrefix = prefix
            } else {
                error(
                    m["topic_prefix"]?.value, "region.topic_prefix",
                    "expected topic levels like sentra-region: no +, #, empty level or / at either end")
            }
        }
        if let url = string(m["prometheus"], "region.prometheus") {
            if Self.isHTTPBase(url) {
                region.prometheus = url.hasSuffix("/") ? String(url.dropLast()) : url
            } else {
                error(m["prometheus"]?.value, "region.prometheus", "expected a base URL like http://127.0.0.1:9090")
            }
        }
        region.prometheusUsername = string(m["prometheus_username"], "region.prometheus_username")
        region.prometheusPasswordFile = string(m["prometheus_password_file"], "region.prometheus_password_file")
        if (region.prometheusUsername == nil) != (region.prometheusPasswordFile == nil) {
            error(
                m["prometheus_username"]?.key ?? m["prometheus_password_file"]?.key, "region.prometheus_username",
                "prometheus_username and prometheus_password_file go together")
        }
        var seen = Set<String>()
        for (i, n) in sequence(m["sentras"], "region.sentras").enumerated() {
            let p = "region.sentras[\(i)]"
            guard let s = mapping(n, p, allowed: ["id", "name"]), let id = id(s["id"], "\(p).id", in: n) else { continue }
            if !seen.insert(id).inserted {
                error(s["id"]?.value, "\(p).id", "'\(id)' is listed twice")
                continue
            }
            region.sentras.append(.init(id: id, name: string(s["name"], "\(p).name") ?? id))
        }
        return region
    }

    /// `http://` or `https://`, a host, maybe a port and a path; nothing after it.
    static func isHTTPBase(_ s: String) -> Bool {
        guard let url = URL(string: s), let scheme = url.scheme, ["http", "https"].contains(scheme.lowercased()),
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else { return false }
        return true
    }
}
