import Foundation
import SentraCore

/// Sentra's whole configuration: one human-edited YAML file (docs/configuration.md).
public struct Configuration: Sendable {
    public var file: String
    /// `sentra.id`: this sentra among others in a region; the `sentra` label of every metric
    /// and the `sentra` field of every alert event handed to plugins. Nil: one sentra alone.
    public var sentraID: String?
    public var name: String
    public var timeZone: String
    public var broker: Broker
    public var stateDirectory: String
    /// Where the receive journal's ring lives (a tmpfs); nil: see `receiveJournalRingPath`.
    public var runtimeDirectory: String?
    public var logDirectory: String
    public var ingest: IngestSettings
    /// Size of the receive journal (`state_dir/receive.journal`), bytes.
    public var journalBytes: Int
    public var commitIntervalMillis: Int64
    public var hourlyRetentionDays: Int
    public var alertLog: AlertLog
    public var http: HTTP
    public var registry: Registry
    public var rules: [RuleSpec]
    public var plugins: [PluginSpec]
    /// `region:` the region this sentra reports to, for `sentractl region` (nil: none).
    public var region: RegionConfiguration?
    /// `products:` and `pay:` what is made and how it is paid (docs/pay.md).
    public var pay = PaySettings()
    /// What the file says that is accepted but worth a word (an obsolete key), by file, line
    /// and key; `sentrad` logs them at start, `sentractl check` prints them.
    public var notices: [ConfigurationError] = []
    /// The line of each key outside lists, by its dotted name (`http.token_file`), for problems
    /// found after loading; see `line(of:)`.
    public var keyLines: [String: Int] = [:]

    /// How many past working days make a craftsman's usual on the dashboard: the window of the
    /// configured `below_usual` rule (the first, when there are several), else 14.
    /// Every MQTT filter the daemon subscribes to: the device protocol's topics, the topics of
    /// each off-the-shelf profile in use (so devices not yet configured are seen too), Home
    /// Assistant discovery messages when any is in use, and `broker.subscriptions`.
    public var subscriptions: [String] {
        let prefix = registry.topicPrefix
        var out = ["\(prefix)/+/+/+", "\(prefix)/+/+/+/status"]
        let foreign = ForeignRoutes.filters(registry: registry)
        out += foreign
        if !foreign.isEmpty { out.append("homeassistant/#") }
        out += broker.subscriptions
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    public var usualDays: Int {
        for rule in rules {
            if case .belowUsual(let c) = rule.condition { return c.days }
        }
        return 14
    }

    public struct Broker: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 1883
        public var clientID = "sentrad"
        public var keepAliveSeconds = 30
        public var username: String?
        /// A file holding the password; relative names are looked up in `$CREDENTIALS_DIRECTORY` first.
        public var passwordFile: String?
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var topicPrefix = "sentra"
        /// Filters subscribed to besides the device topics and the profiles' own.
        public var subscriptions: [String] = []
        public var reconnectMinSeconds = 1
        public var reconnectMaxSeconds = 30
        public init() {}
    }

    public struct AlertLog: Sendable, Equatable {
        public var maxFileBytes: Int64 = 16 << 20
        /// Rotated files kept while a plugin still needs them, up to this much in all.
        public var maxKeptBytes: Int64 = 256 << 20
        public init() {}
    }

    public struct HTTP: Sendable, Equatable {
        public var enabled = true
        public var host = "127.0.0.1"
        public var port = 8470
        /// A file holding the bearer token; relative names are looked up in `$CREDENTIALS_DIRECTORY` first.
        /// With a token every request needs it, also on loopback; beyond loopback it is required.
        public var tokenFile: String?
        /// A connection making no progress (idle, slow to send, not reading) is closed after this.
        public var idleTimeoutMillis: Int64 = 30_000
        /// Open connections at most (the listener waits while at it); below the unit's LimitNOFILE=.
        public var maxConnections = 256
        public static let idleTimeoutRange: ClosedRange<Int64> = 100...3_600_000
        public static let maxConnectionsRange = 1...1024
        public init() {}

        /// Whether `host` names only this machine (127.0.0.0/8, ::1, localhost).
        public static func isLoopback(_ host: String) -> Bool {
            let h = host.lowercased()
            if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
            let parts = h.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
        }

        /// The listener is on and beyond loopback, yet has no token: not allowed.
        public var lacksRequiredToken: Bool { enabled && !Self.isLoopback(host) && tokenFile == nil }

        /// Shorter tokens are refused: they can be guessed.
        public static let minimumTokenLength = 16
    }

    /// The time zone as Foundation knows it (validated when loading).
    public var calendar: LocalCalendar {
        LocalCalendar(identifier: timeZone) ?? LocalCalendar(timeZone: TimeZone(secondsFromGMT: 0) ?? .current)
    }

    public var stateDatabasePath: String { (stateDirectory as NSString).appendingPathComponent("sentra.sqlite") }
    /// The receive journal's copy on disk, synced once a second (what a power loss leaves).
    public var receiveJournalPath: String { (stateDirectory as NSString).appendingPathComponent("receive.journal") }
    /// The receive journal's ring, on a tmpfs that outlives the process: `runtime_dir` if set,
    /// else systemd's `$RUNTIME_DIRECTORY` (`/run/sentra` for the shipped unit), else a folder
    /// of `/dev/shm` named after the state directory (so two daemons never share one).
    public var receiveJournalRingPath: String {
        let dir: String
        if let r = runtimeDirectory {
            dir = r
        } else if let env = ProcessInfo.processInfo.environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first, !env.isEmpty {
            dir = String(env)
        } else {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in (stateDirectory as NSString).standardizingPath.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            dir = "/dev/shm/sentra-\(String(h, radix: 16))"
        }
        return (dir as NSString).appendingPathComponent("receive.journal")
    }
    public var alertLogPath: String { (logDirectory as NSString).appendingPathComponent("alerts.jsonl") }

    /// Applies the command-line overrides shared by every executable (README.md, "Using it").
    public mutating func override(broker: String?, stateDirectory: String?, logDirectory: String?, http: String? = nil) throws {
        if let broker {
            let (h, p) = try Self.hostPort(broker, option: "--broker")
            self.broker.host = h
            self.broker.port = p
        }
        if let stateDirectory { self.stateDirectory = stateDirectory }
        if let logDirectory { self.logDirectory = logDirectory }
        if let http {
            let (h, p) = try Self.hostPort(http, option: "--http")
            self.http.host = h
            self.http.port = p
        }
    }

    /// Problems that only show once the command-line overrides are applied.
    public func validateHTTP() throws {
        if http.lacksRequiredToken {
            throw ConfigurationErrors([
                ConfigurationError(
                    file: file, line: line(of: "http.host", "http"), key: "http.token_file",
                    message: "required when http.host (\(http.host)) is not a loopback address: set a token file or listen on 127.0.0.1")
            ])
        }
    }

    /// The HTTP bearer token from `http.token_file`, nil when none is configured; a configured
    /// file that cannot be read, is empty or holds a short token is an error.
    public func httpToken() throws -> String? {
        guard let name = http.tokenFile else { return nil }
        guard let token = try readSecret(name, key: "http.token_file") else {
            throw ConfigurationErrors([
                ConfigurationError(
                    file: file, line: line(of: "http.token_file"), key: "http.token_file",
                    message: "\(name) is empty: the token must have at least \(HTTP.minimumTokenLength) characters")
            ])
        }
        guard token.count >= HTTP.minimumTokenLength else {
            throw ConfigurationErrors([
                ConfigurationError(
                    file: file, line: line(of: "http.token_file"), key: "http.token_file",
                    message: "the token must have at least \(HTTP.minimumTokenLength) characters (it has \(token.count))")
            ])
        }
        return token
    }

    /// `HOST:PORT` (`[v6]:PORT` too) of the option named `option`.
    public static func hostPort(_ s: String, option: String) throws -> (String, Int) {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else {
            throw ConfigurationErrors([ConfigurationError(file: option, line: 0, key: option, message: "expected HOST:PORT, got '\(s)'")])
        }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}

/// One problem in a configuration file, named by file, line and key.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var key: String
    public var message: String
    public init(file: String, line: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }
    public var description: String { "\(file):\(line): \(key): \(message)" }
}

/// Every problem found in one configuration.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigurationError]
    public init(_ errors: [ConfigurationError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
