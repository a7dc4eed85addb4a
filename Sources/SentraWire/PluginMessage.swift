import SentraCore

/// One line of the plugin protocol, either way (docs/plugins.md): a JSON object whose `type`
/// says which message it is, its fields beside `type`. A type this side does not know decodes
/// as `unknown`, and unknown fields are ignored, as the protocol wants.
public enum PluginMessage: Codable, Sendable, Equatable {
    /// The daemon's handshake, and the plugin's answer with the protocol version it speaks.
    case hello(Hello)
    /// An alert-log line for the plugin to handle.
    case event(Event)
    /// The plugin has done with event `seq` what it must.
    case ack(Ack)
    /// The plugin refuses event `seq`, to have it retried after a backoff.
    case nack(Nack)
    /// A line for the daemon's log.
    case log(Log)
    /// An alert of the plugin's own, for the alert log.
    case alert(PluginAlert)
    /// A message of a type this side does not know.
    case unknown(type: String)

    enum TypeKey: String, CodingKey {
        case type
    }

    public var type: String {
        switch self {
        case .hello: "hello"
        case .event: "event"
        case .ack: "ack"
        case .nack: "nack"
        case .log: "log"
        case .alert: "alert"
        case .unknown(let type): type
        }
    }

    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
        switch type {
        case "hello": self = .hello(try Hello(from: decoder))
        case "event": self = .event(try Event(from: decoder))
        case "ack": self = .ack(try Ack(from: decoder))
        case "nack": self = .nack(try Nack(from: decoder))
        case "log": self = .log(try Log(from: decoder))
        case "alert": self = .alert(try PluginAlert(from: decoder))
        default: self = .unknown(type: type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .hello(let m): try m.encode(to: encoder)
        case .event(let m): try m.encode(to: encoder)
        case .ack(let m): try m.encode(to: encoder)
        case .nack(let m): try m.encode(to: encoder)
        case .log(let m): try m.encode(to: encoder)
        case .alert(let m): try m.encode(to: encoder)
        case .unknown: break
        }
        var c = encoder.container(keyedBy: TypeKey.self)
        try c.encode(type, forKey: .type)
    }

    /// Both hellos: the daemon's fills everything but `name` and `version`, a plugin's
    /// `protocol` and, if it likes, `name` and `version`.
    public struct Hello: Codable, Sendable, Equatable {
        public var `protocol`: Int?
        public var daemon: String?
        public var plugin: String?
        public var sentra: String?
        /// The sentra's id (`sentra.id`), when it has one.
        public var sentraID: String?
        public var options: [String: String]?
        public var timezone: String?
        public var minSeverity: Severity?
        public var timeoutMs: Int64?
        public var stateDir: String?
        public var name: String?
        public var version: String?

        /// A plugin's hello.
        public init(protocol: Int?, name: String? = nil, version: String? = nil) {
            self.protocol = `protocol`
            self.name = name
            self.version = version
        }

        /// The daemon's hello to the plugin configured as `spec`.
        public init(
            daemon: String, protocol: Int, spec: PluginSpec, sentra: String, sentraID: String? = nil, timezone: String, stateDir: String
        ) {
            self.protocol = `protocol`
            self.daemon = daemon
            plugin = spec.name
            self.sentra = sentra
            self.sentraID = sentraID
            options = spec.options
            self.timezone = timezone
            minSeverity = spec.minSeverity
            timeoutMs = spec.timeoutMillis
            self.stateDir = stateDir
        }

        enum CodingKeys: String, CodingKey {
            case `protocol`, daemon, plugin, sentra, options, timezone, name, version
            case sentraID = "sentra_id"
            case minSeverity = "min_severity"
            case timeoutMs = "timeout_ms"
            case stateDir = "state_dir"
        }

        /// A field of the wrong type reads as missing (a hello without `protocol` then fails
        /// the version check, as one with another version does).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.protocol = try? c.decodeIfPresent(Int.self, forKey: .protocol)
            daemon = try? c.decodeIfPresent(String.self, forKey: .daemon)
            plugin = try? c.decodeIfPresent(String.self, forKey: .plugin)
            sentra = try? c.decodeIfPresent(String.self, forKey: .sentra)
            sentraID = try? c.decodeIfPresent(String.self, forKey: .sentraID)
            options = try? c.decodeIfPresent([String: String].self, forKey: .options)
            timezone = try? c.decodeIfPresent(String.self, forKey: .timezone)
            minSeverity = try? c.decodeIfPresent(Severity.self, forKey: .minSeverity)
            timeoutMs = try? c.decodeIfPresent(Int64.self, forKey: .timeoutMs)
            stateDir = try? c.decodeIfPresent(String.self, forKey: .stateDir)
            name = try? c.decodeIfPresent(String.self, forKey: .name)
            version = try? c.decodeIfPresent(String.self, forKey: .version)
        }
    }

    public struct Event: Codable, Sendable, Equatable {
        public var seq: Int64
        public var alert: AlertLine
        public init(seq: Int64, alert: AlertLine) {
            self.seq = seq
            self.alert = alert
        }
    }

    public struct Ack: Codable, Sendable, Equatable {
        public var seq: Int64
        public init(seq: Int64) { self.seq = seq }
    }

    public struct Nack: Codable, Sendable, Equatable {
        public var seq: Int64
        /// Why; a field of the wrong type reads as missing.
        public var error: String?
        public init(seq: Int64, error: String?) {
            self.seq = seq
            self.error = error
        }

        enum CodingKeys: String, CodingKey {
            case seq, error
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            seq = try c.decode(Int64.self, forKey: .seq)
            error = try? c.decodeIfPresent(String.self, forKey: .error)
        }
    }

    /// A field of the wrong type reads as missing.
    public struct Log: Codable, Sendable, Equatable {
        /// `trace` ... `critical`; `info` when missing or not one of them.
        public var level: String?
        public var message: String?
        public init(level: String?, message: String?) {
            self.level = level
            self.message = message
        }

        enum CodingKeys: String, CodingKey {
            case level, message
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            level = try? c.decodeIfPresent(String.self, forKey: .level)
            message = try? c.decodeIfPresent(String.self, forKey: .message)
        }
    }

    /// `{"type":"event","seq":N,"alert":LINE}`, the one message written by hand: `alert` is
    /// the alert log's line unchanged (docs/plugins.md), so the plugin gets the log's field
    /// order and finds `type` and `seq` first; a sentra with an id adds its `sentra` field
    /// last, so the event says where it came from once it leaves the box. `alertLogLine` may
    /// end in its newline.
    public static func eventLine(seq: Int64, alertLogLine line: some StringProtocol, sentra: String? = nil) -> String {
        var alert = line.hasSuffix("\n") ? line.dropLast() : line[...]
        guard let sentra, alert.last == "}" else { return "{\"type\":\"event\",\"seq\":\(seq),\"alert\":\(alert)}" }
        alert = alert.dropLast()
        var field = ",\"sentra\":"
        AlertEvent.appendString(sentra, to: &field)
        return "{\"type\":\"event\",\"seq\":\(seq),\"alert\":\(alert)\(field)}}"
    }
}

/// A plugin's own alert (docs/plugins.md): only `rule` is needed; the daemon fills in the
/// rest. A field of the wrong type reads as missing, so the defaults apply.
public struct PluginAlert: Codable, Sendable, Equatable {
    public var rule: String?
    /// Default `firing`.
    public var status: AlertStatus?
    /// Default `warning`.
    public var severity: Severity?
    public var labels: [String: String]?
    public var value: Double?
    /// Default: the rule's name.
    public var summary: String?
    /// RFC 3339; default: now.
    public var started: String?

    public init(
        rule: String?, status: AlertStatus? = nil, severity: Severity? = nil, labels: [String: String]? = nil, value: Double? = nil,
        summary: String? = nil, started: String? = nil
    ) {
        self.rule = rule
        self.status = status
        self.severity = severity
        self.labels = labels
        self.value = value
        self.summary = summary
        self.started = started
    }

    enum CodingKeys: String, CodingKey {
        case rule, status, severity, labels, value, summary, started
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rule = try? c.decodeIfPresent(String.self, forKey: .rule)
        status = try? c.decodeIfPresent(AlertStatus.self, forKey: .status)
        severity = try? c.decodeIfPresent(Severity.self, forKey: .severity)
        // A label whose value is not a string is left out, the others stay.
        labels = (try? c.decodeIfPresent([String: LenientString].self, forKey: .labels))?.compactMapValues(\.value)
        value = try? c.decodeIfPresent(Double.self, forKey: .value)
        summary = try? c.decodeIfPresent(String.self, forKey: .summary)
        started = try? c.decodeIfPresent(String.self, forKey: .started)
    }
}

extension PluginAlert {
    /// The alert-log event for this alert of plugin `plugin`, with the defaults filled in at
    /// `now` (ms since the epoch); nil without a rule name. Labels with neither `workshop`
    /// nor `component` get `component: <plugin>`.
    public func event(plugin: String, now: Int64) -> AlertEvent? {
        guard let rule, !rule.isEmpty else { return nil }
        var labels = labels ?? [:]
        if labels["workshop"] == nil && labels["component"] == nil { labels["component"] = plugin }
        return AlertEvent(
            ts: now, rule: rule, status: status ?? .firing, severity: severity ?? .warning, labels: labels, value: value,
            summary: summary ?? rule, started: started.flatMap(RFC3339.parse) ?? now)
    }
}

/// A string, or nil for a value of another type.
struct LenientString: Decodable {
    var value: String?
    init(from decoder: any Decoder) throws {
        value = try? decoder.singleValueContainer().decode(String.self)
    }
}
