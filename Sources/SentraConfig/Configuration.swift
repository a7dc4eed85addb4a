import Foundation
import SentraCore

/// Sentra's whole configuration: one human-edited YAML file (docs/configuration.md).
public struct Configuration: Sendable {
    public var file: String
    public var name: String
    public var timeZone: String
    public var broker: Broker
    public var stateDirectory: String
    public var logDirectory: String
    public var ingest: IngestSettings
    public var queueCapacity: Int
    public var commitIntervalMillis: Int64
    public var hourlyRetentionDays: Int
    public var alertLog: AlertLog
    public var http: HTTP
    public var registry: Registry
    public var rules: [RuleSpec]
    public var plugins: [PluginSpec]

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
        public var host = "127.0.0.1"
        public var port = 8470
        public var tokenFile: String?
        public init() {}
    }

    /// The time zone as Foundation knows it (validated when loading).
    public var calendar: LocalCalendar { LocalCalendar(identifier: timeZone)! }

    public var stateDatabasePath: String { (stateDirectory as NSString).appendingPathComponent("sentra.sqlite") }
    public var alertLogPath: String { (logDirectory as NSString).appendingPathComponent("alerts.jsonl") }

    /// Applies the command-line overrides shared by every executable (CONTRACT §3).
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

    static func hostPort(_ s: String, option: String) throws -> (String, Int) {
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
