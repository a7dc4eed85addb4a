import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How far a journal has been counted: the journal's identity and a byte position in it.
/// The daemon commits this in the same SQLite transaction as the counts it produced.
public struct JournalMark: Sendable, Equatable, CustomStringConvertible {
    public var journal: UInt64
    public var position: UInt64

    public init(journal: UInt64, position: UInt64) {
        self.journal = journal
        self.position = position
    }

    /// `identity:position`, the identity in hex.
    public var description: String { "\(String(journal, radix: 16)):\(position)" }

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let j = UInt64(parts[0], radix: 16), let p = UInt64(parts[1]) else { return nil }
        self.init(journal: j, position: p)
    }
}

public struct JournalError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ operation: String, _ path: String, errno e: Int32) {
        description = "receive journal \(path): \(operation): \(String(cString: strerror(e)))"
    }
    init(_ message: String) { description = message }
}

/// One message as the journal holds it. The buffers point into the journal's memory and are
/// valid only during the `read` callback.
public struct JournalEntry {
    public var topic: UnsafeRawBufferPointer
    public var payload: UnsafeRawBufferPointer
    /// The payload's length as received; larger than `payload.count` when it was too large to
    /// keep (`truncated`), so the reader can reject it for its size.
    public var payloadLength: Int
    public var truncated: Bool { payloadLength != payload.count }
    /// The daemon's clock when the message arrived, ms since the epoch.
    public var receivedAt: Int64
    /// The journal position just past this entry.
    public var end: UInt64
}
