import Foundation

/// How Sentra writes and reads its JSON: Foundation's `JSONEncoder` and `JSONDecoder` over the
/// Codable types of this module, keys sorted, slashes unescaped.
///
/// A document for people (a report, an API answer, the registry) is laid out one way
/// everywhere: the top level's members one a line, the items of its arrays one a line,
/// everything deeper inline, with `": "` and `", "` between; a protocol message is one
/// compact line.
public enum WireJSON {
    /// `value` laid out for reading, with a trailing newline.
    public static func text(_ value: some Encodable) throws -> String {
        String(decoding: layout(try encoder().encode(value)), as: UTF8.self)
    }

    /// `value` laid out for reading, with a trailing newline, as bytes.
    public static func data(_ value: some Encodable) throws -> Data {
        Data(layout(try encoder().encode(value)))
    }

    /// `value` as one compact line, without a newline.
    public static func line(_ value: some Encodable) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: some StringProtocol) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// A value as the API and the reports print it: integral values as they are, others
    /// rounded to `decimals` places (so sums print as 0.3, not 0.30000000000000004).
    public static func rounded(_ v: Double, decimals: Int = 6) -> Double {
        guard v.isFinite, v != v.rounded() else { return v }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return (v * scale).rounded() / scale
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// Lays compact JSON out as the type's comment says; strings are copied untouched.
    static func layout(_ compact: Data) -> [UInt8] {
        let bytes = [UInt8](compact)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8 + 16)
        // Per open container: whether its items go on lines of their own.
        var breaking: [Bool] = []
        var inString = false
        var escaped = false
        func newline() {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * breaking.count))
        }
        for (i, b) in bytes.enumerated() {
            if inString {
                out.append(b)
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                inString = true
                out.append(b)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                out.append(b)
                let next = i + 1 < bytes.count ? bytes[i + 1] : 0
                let empty = next == UInt8(ascii: "}") || next == UInt8(ascii: "]")
                breaking.append(!empty && (breaking.isEmpty || (breaking.count == 1 && b == UInt8(ascii: "["))))
                if breaking.last! { newline() }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if breaking.popLast() == true { newline() }
                out.append(b)
            case UInt8(ascii: ","):
                out.append(b)
                if breaking.last == true { newline() } else { out.append(UInt8(ascii: " ")) }
            case UInt8(ascii: ":"):
                out.append(b)
                out.append(UInt8(ascii: " "))
            default:
                out.append(b)
            }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }
}

/// An optional field that is on the wire either way: `null` when nil, where a synthesized
/// `Encodable` would leave the key out. A missing key decodes as nil.
@propertyWrapper
public struct Nullable<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        wrappedValue = c.decodeNil() ? nil : try c.decode(Value.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = wrappedValue { try c.encode(v) } else { try c.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A `Nullable` field whose key is missing is nil, as one whose value is `null`.
    public func decode<V>(_ type: Nullable<V>.Type, forKey key: Key) throws -> Nullable<V> {
        Nullable(wrappedValue: try decodeIfPresent(V.self, forKey: key))
    }
}
