import Logging

/// A swift-log handler that writes structured entries to journald over its native
/// protocol (a datagram per entry on `/run/systemd/journal/socket`, through `JournalSocket`).
/// Metadata become journal fields: `mqtt.topic` → `MQTT_TOPIC`. The socket path is a
/// parameter so tests can listen on a socket of their own.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let socket: JournalSocket

    public init(label: String, socket: JournalSocket) {
        self.label = label
        self.socket = socket
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var entry = JournalEntry()
        entry.append("MESSAGE", event.message.description)
        entry.append("PRIORITY", String(Self.priority(event.level)))
        entry.append("SYSLOG_IDENTIFIER", socket.identifier)
        entry.append("SENTRA_LOGGER", label)
        entry.append("CODE_FILE", event.file)
        entry.append("CODE_LINE", String(event.line))
        entry.append("CODE_FUNC", event.function)
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, b in b } }
        for (k, v) in all { entry.append(k, "\(v)") }
        try? socket.send(entry)
    }

    /// syslog priorities, as journald expects.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
