#if canImport(Glibc)
    import Glibc
#endif

/// One journal entry in journald's native protocol (systemd's "Native Journal Protocol"):
/// a field per line, `NAME=value\n`, or for a value holding a newline the binary-safe form,
/// `NAME\n`, the value's length as 64-bit little-endian, the value, `\n`. Sent whole, as one
/// datagram, by `JournalSocket`.
public struct JournalEntry: Sendable, Equatable {
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(256) }

    /// Appends a field; `name` is made a valid field name first (`fieldName`).
    public mutating func append(_ name: String, _ value: String) {
        bytes.append(contentsOf: Self.fieldName(name).utf8)
        if value.utf8.contains(0x0A) {
            bytes.append(0x0A)
            withUnsafeBytes(of: UInt64(value.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        } else {
            bytes.append(UInt8(ascii: "="))
        }
        bytes.append(contentsOf: value.utf8)
        bytes.append(0x0A)
    }

    /// The longest field name journald accepts.
    public static let maxFieldNameLength = 64

    /// A journal field name for `key`: upper-case ASCII letters, digits and underscores, not
    /// starting with an underscore (those are journald's own) or a digit, at most 64 bytes.
    /// Lower case letters are upper-cased, anything else becomes `_`: `mqtt.topic` →
    /// `MQTT_TOPIC`. A key with nothing left, or starting with a digit, gets an `F` in front.
    public static func fieldName(_ key: String) -> String {
        if isValidFieldName(key) { return key }
        var out: [UInt8] = []
        out.reserveCapacity(key.utf8.count)
        for scalar in key.unicodeScalars {
            switch scalar.value {
            case 0x61...0x7A: out.append(UInt8(scalar.value) - 0x20)
            case 0x41...0x5A, 0x30...0x39: out.append(UInt8(scalar.value))
            default: out.append(UInt8(ascii: "_"))
            }
        }
        var name = Array(out.drop { $0 == UInt8(ascii: "_") })
        if name.isEmpty || (0x30...0x39).contains(name[0]) { name.insert(UInt8(ascii: "F"), at: 0) }
        return String(decoding: name.prefix(maxFieldNameLength), as: UTF8.self)
    }

    private static func isValidFieldName(_ key: String) -> Bool {
        guard let first = key.utf8.first, (0x41...0x5A).contains(first), key.utf8.count <= maxFieldNameLength else { return false }
        return key.utf8.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "_") }
    }
}

/// A failed write to the journal's socket.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "journald: send to \(path): \(String(cString: strerror(errno)))" }
}

/// The journal's socket (or whatever listens on `path`; tests listen on one of their own):
/// entries go out as datagrams, never blocking. One socket serves any number of threads.
public final class JournalSocket: @unchecked Sendable {
    public static let defaultPath = "/run/systemd/journal/socket"
    public let path: String
    /// `SYSLOG_IDENTIFIER` for the entries of whoever writes through it.
    public let identifier: String
    private let fd: Int32
    private let address: sockaddr_un

    private init(path: String, identifier: String, fd: Int32, address: sockaddr_un) {
        self.path = path
        self.identifier = identifier
        self.fd = fd
        self.address = address
    }

    /// Nil when `path` is too long for a socket address or no socket can be had.
    public convenience init?(path: String = JournalSocket.defaultPath, identifier: String) {
        guard case .success(let (fd, address)) = Self.datagramSocket(path: path) else { return nil }
        self.init(path: path, identifier: identifier, fd: fd, address: address)
    }

    /// As `init?`, saying why not.
    public static func open(path: String = JournalSocket.defaultPath, identifier: String) throws(JournalError) -> JournalSocket {
        let (fd, address) = try datagramSocket(path: path).get()
        return JournalSocket(path: path, identifier: identifier, fd: fd, address: address)
    }

    private static func datagramSocket(path: String) -> Result<(Int32, sockaddr_un), JournalError> {
        var address = sockaddr_un()
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            return .failure(JournalError(path: path, errno: ENAMETOOLONG))
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(JournalError(path: path, errno: errno)) }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        return .success((fd, address))
    }

    deinit { close(fd) }

    /// Sends `entry` as one datagram. Never blocks: when journald cannot keep up (its queue
    /// is full), or is not there, or the entry is too large for a datagram, this throws and
    /// nothing is written; the log handler drops the line rather than stall the ingest
    /// thread (and miss the watchdog), the journald sink has its event retried.
    public func send(_ entry: JournalEntry) throws(JournalError) {
        var addr = address
        let sent = entry.bytes.withUnsafeBytes { buf in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(
                        fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        guard sent == entry.bytes.count else { throw JournalError(path: path, errno: sent < 0 ? errno : EMSGSIZE) }
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
