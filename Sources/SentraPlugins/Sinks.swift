import Foundation
import Logging
import SentraAlertLog
import SentraCore
import SentraSystemd
import SentraWire

/// An in-process alert plugin. `deliver` returns once the event is handed on (it is then
/// acknowledged and the plugin's cursor moves past it) and throws to have it retried.
/// It must honour task cancellation: that is how its per-event timeout stops it.
public protocol AlertSink: Sendable {
    var name: String { get }
    func deliver(_ event: AlertEvent) async throws
}

/// What a built-in sink's factory gets.
public struct SinkContext: Sendable {
    public var spec: PluginSpec
    public var stateDirectory: String
    public var timeZone: TimeZone
    public var logger: Logger
}

/// Built-in sinks by name (`builtin:` in the configuration), as telegraf's input registry.
public struct SinkRegistry: Sendable {
    public typealias Factory = @Sendable (SinkContext) throws -> any AlertSink
    private var factories: [String: Factory] = [:]

    public init() {}

    public mutating func register(_ name: String, _ factory: @escaping Factory) {
        factories[name] = factory
    }

    public func factory(_ name: String) -> Factory? { factories[name] }
    public var names: [String] { factories.keys.sorted() }

    /// The sinks shipped in-process: `journald`. (`alertmanager`, `webhook`, `mqtt` and
    /// `example` are external programs under the plugin directory; see `PluginHost`.)
    public static var standard: SinkRegistry {
        var r = SinkRegistry()
        r.register("journald") { ctx in
            JournaldSink(
                name: ctx.spec.name, socketPath: ctx.spec.options["socket"] ?? JournaldSink.defaultSocket,
                identifier: ctx.spec.options["identifier"] ?? "sentrad", timeZone: ctx.timeZone)
        }
        return r
    }
}

/// Writes each alert event to the systemd journal with the native protocol: one datagram of
/// fields to the journal's socket (`JournalSocket`), so `journalctl SENTRA_RULE=voltage_sag`
/// finds it. The send never blocks: when journald cannot take the entry, delivery fails and
/// the host retries it after a backoff.
public struct JournaldSink: AlertSink {
    public static let defaultSocket = JournalSocket.defaultPath
    public let name: String
    public let socketPath: String
    public let identifier: String
    public let timeZone: TimeZone
    /// Opened once; when it could not be, every delivery fails saying why (and the host, on
    /// restarting the plugin, makes a new sink that tries again).
    private let socket: Result<JournalSocket, JournalError>

    public init(
        name: String = "journald", socketPath: String = JournaldSink.defaultSocket, identifier: String = "sentrad", timeZone: TimeZone
    ) {
        self.name = name
        self.socketPath = socketPath
        self.identifier = identifier
        self.timeZone = timeZone
        socket = Result { () throws(JournalError) in try JournalSocket.open(path: socketPath, identifier: identifier) }
    }

    /// syslog priorities: crit, warning, info; a resolution is a notice.
    static func priority(_ e: AlertEvent) -> Int {
        if e.status == .resolved { return 5 }
        switch e.severity {
        case .critical: return 2
        case .warning: return 4
        case .info: return 6
        }
    }

    /// The journal entry for one event: `SENTRA_` fields as in the alert log, one per label.
    public func entry(_ e: AlertEvent) -> JournalEntry {
        var entry = JournalEntry()
        entry.append("MESSAGE", "[\(e.status.rawValue)] \(e.summary)")
        entry.append("PRIORITY", String(Self.priority(e)))
        entry.append("SYSLOG_IDENTIFIER", identifier)
        entry.append("SENTRA_SEQ", String(e.seq))
        entry.append("SENTRA_ALERT_ID", e.id)
        entry.append("SENTRA_RULE", e.rule)
        entry.append("SENTRA_STATUS", e.status.rawValue)
        entry.append("SENTRA_SEVERITY", e.severity.rawValue)
        entry.append("SENTRA_STARTED", RFC3339.format(e.started, timeZone: timeZone))
        entry.append("SENTRA_TS", RFC3339.format(e.ts, timeZone: timeZone))
        if let v = e.value { entry.append("SENTRA_VALUE", NumberFormat.json(v)) }
        for k in e.labels.keys.sorted() { entry.append("SENTRA_" + k, e.labels[k]!) }
        return entry
    }

    public func deliver(_ event: AlertEvent) async throws {
        try socket.get().send(entry(event))
    }
}
