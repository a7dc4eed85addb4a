import Foundation
import Logging
import SentraCore
import SentraWire
import SentraAlertLog

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

/// A failed send to the journal.
public struct JournaldError: Error, CustomStringConvertible {
    public var socketPath: String
    public var errno: Int32
    public var description: String { "journald: send to \(socketPath): \(String(cString: strerror(errno)))" }
}

/// Writes each alert event to the systemd journal with the native protocol: one datagram of
/// `FIELD=value` lines to the journal's socket, so `journalctl SENTRA_RULE=voltage_sag` finds it.
public struct JournaldSink: AlertSink {
    public static let defaultSocket = "/run/systemd/journal/socket"
    public let name: String
    public let socketPath: String
    public let identifier: String
    public let timeZone: TimeZone

    public init(
        name: String = "journald", socketPath: String = JournaldSink.defaultSocket, identifier: String = "sentrad", timeZone: TimeZone
    ) {
        self.name = name
        self.socketPath = socketPath
        self.identifier = identifier
        self.timeZone = timeZone
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

    /// The datagram for one event.
    public func datagram(_ e: AlertEvent) -> [UInt8] {
        var fields: [(String, String)] = [
            ("MESSAGE", "[\(e.status.rawValue)] \(e.summary)"),
            ("PRIORITY", String(Self.priority(e))),
            ("SYSLOG_IDENTIFIER", identifier),
            ("SENTRA_SEQ", String(e.seq)),
            ("SENTRA_ALERT_ID", e.id),
            ("SENTRA_RULE", e.rule),
            ("SENTRA_STATUS", e.status.rawValue),
            ("SENTRA_SEVERITY", e.severity.rawValue),
            ("SENTRA_STARTED", RFC3339.format(e.started, timeZone: timeZone)),
            ("SENTRA_TS", RFC3339.format(e.ts, timeZone: timeZone)),
        ]
        if let v = e.value { fields.append(("SENTRA_VALUE", NumberFormat.json(v))) }
        for k in e.labels.keys.sorted() {
            let name = "SENTRA_" + String(k.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
            fields.append((name, e.labels[k]!))
        }
        var out: [UInt8] = []
        for (k, v) in fields {
            out += Array(k.utf8)
            if v.contains("\n") {
                // Binary-safe form: name, newline, little-endian 64-bit length, value, newline.
                out.append(10)
                var n = UInt64(v.utf8.count).littleEndian
                withUnsafeBytes(of: &n) { out += $0 }
                out += Array(v.utf8)
            } else {
                out.append(UInt8(ascii: "="))
                out += Array(v.utf8)
            }
            out.append(10)
        }
        return out
    }

    public func deliver(_ event: AlertEvent) async throws {
        let bytes = datagram(event)
        #if canImport(Glibc)
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { throw JournaldError(socketPath: socketPath, errno: errno) }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw JournaldError(socketPath: socketPath, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in path.enumerated() { p[i] = b }
        }
        let n = bytes.withUnsafeBytes { buf in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        guard n == bytes.count else { throw JournaldError(socketPath: socketPath, errno: n < 0 ? errno : EMSGSIZE) }
    }
}
