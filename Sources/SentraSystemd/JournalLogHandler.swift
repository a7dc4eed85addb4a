import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler that writes structured entries to journald over its native
/// protocol (a datagram per entry on `/run/systemd/journal/socket`). Metadata become
/// journal fields: `mqtt.topic` → `MQTT_TOPIC`. The socket path is a parameter so tests
/// can listen on a socket of their own.
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
        var fields: [(String, String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", String(Self.priority(event.level))),
            ("SYSLOG_IDENTIFIER", socket.identifier),
            ("SENTRA_LOGGER", label),
            ("CODE_FILE", event.file),
            ("CODE_LINE", String(event.line)),
            ("CODE_FUNC", event.function),
        ]
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, b in b } }
        for (k, v) in all { fields.append((Self.fieldName(k), "\(v)")) }
        socket.send(fields)
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

    /// Journal field names: upper case letters, digits and underscores, not starting with `_`.
    static func fieldName(_ key: String) -> String {
        var out = String(key.uppercased().map { ($0.isLetter && $0.isASCII) || $0.isNumber ? $0 : "_" })
        while out.first == "_" { out.removeFirst() }
        if out.isEmpty || out.first!.isNumber { out = "F" + out }
        return out
    }
}

/// A datagram socket to journald (or to whatever listens on `path`).
public final class JournalSocket: @unchecked Sendable {
    public let path: String
    public let identifier: String
    private let fd: Int32
    private var address = sockaddr_un()

    public init?(path: String = "/run/systemd/journal/socket", identifier: String) {
        self.path = path
        self.identifier = identifier
        fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0, path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
    }

    deinit { close(fd) }

    /// Serialises fields in the native protocol; values with a newline use the binary form.
    /// Never blocks: when journald cannot keep up, the entry is dropped rather than the
    /// ingest thread stalled (and the watchdog missed).
    public func send(_ fields: [(String, String)]) {
        var d: [UInt8] = []
        d.reserveCapacity(256)
        for (k, v) in fields {
            d.append(contentsOf: k.utf8)
            if v.utf8.contains(0x0A) {
                d.append(0x0A)
                var n = UInt64(v.utf8.count).littleEndian
                withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
            } else {
                d.append(UInt8(ascii: "="))
            }
            d.append(contentsOf: v.utf8)
            d.append(0x0A)
        }
        var addr = address
        _ = d.withUnsafeBytes { buf in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(
                        fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }

    /// Whether our standard error is the stream systemd connected to the journal
    /// (`JOURNAL_STREAM=dev:inode` matches fd 2), as sd_journal_stream_fd(3) describes.
    public static func stderrIsJournal() -> Bool {
        guard let value = getenvString("JOURNAL_STREAM") else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }
}
