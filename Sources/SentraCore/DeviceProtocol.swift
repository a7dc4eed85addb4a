import Foundation

/// A parsed MQTT topic of the device protocol (docs/protocol.md):
/// `<prefix>/<workshop>/<kind>/<device>[/status]`, the prefix `sentra` unless configured.
public struct DeviceTopic: Sendable, Equatable {
    public var key: DeviceKey
    public var isStatus: Bool

    public init(key: DeviceKey, isStatus: Bool = false) {
        self.key = key
        self.isStatus = isStatus
    }

    /// Parses `topic`, or says why it is not a device topic under `prefix`.
    public static func parse(_ topic: String, prefix: String = DeviceKey.defaultTopicPrefix) -> Result<DeviceTopic, RejectReason> {
        guard topic.utf8.count > prefix.utf8.count, topic.utf8.starts(with: prefix.utf8),
            topic.utf8.dropFirst(prefix.utf8.count).first == UInt8(ascii: "/")
        else { return .failure(.badTopic) }
        let parts = topic.utf8.dropFirst(prefix.utf8.count + 1).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, isValidID(parts[0]), isValidID(parts[2]) else { return .failure(.badTopic) }
        if parts.count == 4 && !parts[3].elementsEqual("status".utf8) { return .failure(.badTopic) }
        guard let kind = DeviceKind(rawValue: String(decoding: parts[1], as: UTF8.self)) else {
            return .failure(.unknownKind)
        }
        let key = DeviceKey(
            workshop: String(decoding: parts[0], as: UTF8.self), kind: kind, id: String(decoding: parts[2], as: UTF8.self))
        return .success(DeviceTopic(key: key, isStatus: parts.count == 4))
    }

    /// 1 to 63 characters of `a-z 0-9 _ -`, starting with a letter or digit.
    public static func isValidID<C: Collection>(_ s: C) -> Bool where C.Element == UInt8 {
        guard (1...63).contains(s.count) else { return false }
        var first = true
        for c in s {
            let alnum = (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            if first {
                guard alnum else { return false }
                first = false
            } else if !(alnum || c == 0x5F || c == 0x2D) {
                return false
            }
        }
        return true
    }

    public static func isValidID(_ s: String) -> Bool { isValidID(s.utf8) }
}

/// Limits of the device protocol; defaults are the device protocol's (docs/protocol.md).
public struct ProtocolLimits: Sendable, Equatable {
    public var maxObjectBytes = 4096
    public var maxBatchBytes = 65536
    /// How old an event time may be, ms.
    public var maxAgeMillis: Int64 = 7 * 86_400_000
    /// How far in the future an event time may be, ms.
    public var maxFutureMillis: Int64 = 5 * 60_000
    public init() {}
}

/// Parses payloads of the device protocol (docs/protocol.md) straight from bytes: one pass, no intermediate objects.
public enum PayloadParser {
    /// Calls `body` once per object in `payload` (one for an object, one per element of a
    /// batch) with the reading or the reason it was rejected.
    public static func parse(
        _ payload: UnsafeRawBufferPointer, kind: DeviceKind, limits: ProtocolLimits,
        _ body: (Result<Reading, RejectReason>) -> Void
    ) {
        var p = Scanner(base: payload.baseAddress?.assumingMemoryBound(to: UInt8.self), count: payload.count)
        p.skipWS()
        if p.peek == UInt8(ascii: "[") {
            if payload.count > limits.maxBatchBytes { return body(.failure(.tooLarge)) }
            p.pos += 1
            p.skipWS()
            if p.peek == UInt8(ascii: "]") {
                p.pos += 1
                p.skipWS()
                if !p.atEnd { body(.failure(.badJSON)) }
                return
            }
            while true {
                p.skipWS()
                let start = p.pos
                var r = parseObject(&p, kind: kind)
                if case .success = r, p.pos - start > limits.maxObjectBytes { r = .failure(.tooLarge) }
                if case .failure(let reason) = r, p.fatal {
                    // Syntax broke: nothing after this point can be trusted.
                    return body(.failure(reason))
                }
                body(r)
                p.skipWS()
                guard let c = p.next() else { return body(.failure(.badJSON)) }
                if c == UInt8(ascii: "]") { break }
                if c != UInt8(ascii: ",") { return body(.failure(.badJSON)) }
            }
            p.skipWS()
            if !p.atEnd { body(.failure(.badJSON)) }
        } else {
            if payload.count > limits.maxObjectBytes { return body(.failure(.tooLarge)) }
            var r = parseObject(&p, kind: kind)
            if case .success = r {
                p.skipWS()
                if !p.atEnd { r = .failure(.badJSON) }
            }
            body(r)
        }
    }

    /// Every object of a payload as an array; the ingest path uses the callback form, which
    /// allocates nothing.
    public static func parse(
        _ payload: [UInt8], kind: DeviceKind, limits: ProtocolLimits = .init()
    )
        -> [Result<Reading, RejectReason>]
    {
        var out: [Result<Reading, RejectReason>] = []
        payload.withUnsafeBytes { parse($0, kind: kind, limits: limits) { out.append($0) } }
        return out
    }

    /// Parses one object. On a semantic error (a wrong type, a bad value) it still consumes
    /// the whole object so a batch can go on; on a syntax error it sets `p.fatal`.
    static func parseObject(_ p: inout Scanner, kind: DeviceKind) -> Result<Reading, RejectReason> {
        var reading = Reading()
        var failure: RejectReason?
        guard p.next() == UInt8(ascii: "{") else { return p.fail(.badJSON) }
        p.skipWS()
        if p.peek == UInt8(ascii: "}") {
            p.pos += 1
            return .failure(.noMeasurement)
        }
        while true {
            p.skipWS()
            guard let key = p.keyCode() else { return p.fail(p.utf8Error ? .badUTF8 : .badJSON) }
            p.skipWS()
            guard p.next() == UInt8(ascii: ":") else { return p.fail(.badJSON) }
            p.skipWS()
            switch key {
            case .ts, .seq:
                switch p.number() {
                case .integer(let i):
                    if key == .ts { reading.ts = i } else { reading.seq = i }
                case .double, .nonFinite:
                    failure = failure ?? .badType
                case .notANumber:
                    if p.fatal { return .failure(.badJSON) }
                    if !p.skipValue() { return p.fail(p.utf8Error ? .badUTF8 : .badJSON) }
                    if !p.lastWasNull { failure = failure ?? .badType }
                }
            case .state:
                if p.peek == UInt8(ascii: "\"") {
                    guard let s = p.stateCode() else { return p.fail(p.utf8Error ? .badUTF8 : .badJSON) }
                    if let s { reading.state = kind == .loom ? s : nil } else if kind == .loom { failure = failure ?? .badType }
                } else {
                    if !p.skipValue() { return p.fail(p.utf8Error ? .badUTF8 : .badJSON) }
                    if kind == .loom && !p.lastWasNull { failure = failure ?? .badType }
                }
            case .field(let f):
                switch p.number() {
                case .integer(let i):
                    if f.kind == kind { reading.set(f, Double(i)) }
                case .double(let d):
                    if f.kind == kind { reading.set(f, d) }
                case .nonFinite:
                    if f.kind == kind { failure = failure ?? .notFinite }
                case .notANumber:
                    if p.fatal { return .failure(.badJSON) }
                    if !p.skipValue() { return p.fail(p.utf8Error ? .badUTF8 : .badJSON) }
                    if f.kind == kind && !p.lastWasNull { failure = failure ?? .badType }
                }
            case .unknown:
                if !p.skipValue() { return p.fail(p.utf8Error ? .badUTF8 : .badJSON) }
            }
            p.skipWS()
            guard let c = p.next() else { return p.fail(.badJSON) }
            if c == UInt8(ascii: "}") { break }
            if c != UInt8(ascii: ",") { return p.fail(.badJSON) }
        }
        return finish(reading, failure: failure)
    }

    /// The object's verdict once all of it was read: the first field's failure, else the
    /// checks on the whole reading.
    @inline(__always) static func finish(_ reading: Reading, failure: RejectReason?) -> Result<Reading, RejectReason> {
        if let failure { return .failure(failure) }
        if !reading.hasMeasurement { return .failure(.noMeasurement) }
        for f in Field.allCases where f.isCounter && reading.has(f) && reading.values[f.rawValue] < 0 {
            return .failure(.negativeCounter)
        }
        return .success(reading)
    }
}

enum KeyCode: Equatable {
    case ts, seq, state, field(Field), unknown
}

enum NumberToken {
    case integer(Int64)
    case double(Double)
    case nonFinite
    case notANumber
}

/// A cursor over payload bytes with the few JSON productions the protocol needs.
struct Scanner {
    let base: UnsafePointer<UInt8>?
    let count: Int
    var pos = 0
    var fatal = false
    var utf8Error = false
    var lastWasNull = false

    init(base: UnsafePointer<UInt8>?, count: Int) {
        self.base = base
        self.count = count
    }

    var atEnd: Bool { pos >= count }
    @inline(__always) var peek: UInt8? { pos < count ? base![pos] : nil }
    @inline(__always) mutating func next() -> UInt8? {
        guard pos < count else { return nil }
        defer { pos += 1 }
        return base![pos]
    }
    @inline(__always) mutating func skipWS() {
        while pos < count {
            let c = base![pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
        }
    }
    mutating func fail(_ r: RejectReason) -> Result<Reading, RejectReason> {
        fatal = true
        return .failure(r)
    }

    /// Scans a string; returns its raw byte range (escapes undecoded) and whether it had escapes.
    mutating func rawString() -> (start: Int, end: Int, escaped: Bool)? {
        guard next() == UInt8(ascii: "\"") else { return nil }
        let start = pos
        var escaped = false
        while pos < count {
            let c = base![pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                return (start, pos - 1, escaped)
            } else if c == UInt8(ascii: "\\") {
                escaped = true
                pos += 2
            } else if c < 0x20 {
                return nil
            } else if c >= 0x80 {
                guard let n = utf8Length(at: pos) else {
                    utf8Error = true
                    return nil
                }
                pos += n
            } else {
                pos += 1
            }
        }
        return nil
    }

    /// Length of a valid UTF-8 sequence starting at `i`, or nil.
    func utf8Length(at i: Int) -> Int? {
        let c = base![i]
        let n: Int
        if c & 0xE0 == 0xC0 {
            n = 2; if c < 0xC2 { return nil }
        } else if c & 0xF0 == 0xE0 {
            n = 3
        } else if c & 0xF8 == 0xF0 {
            n = 4; if c > 0xF4 { return nil }
        } else {
            return nil
        }
        guard i + n <= count else { return nil }
        for k in 1..<n where base![i + k] & 0xC0 != 0x80 { return nil }
        if n == 3 {
            let c1 = base![i + 1]
            if c == 0xE0 && c1 < 0xA0 { return nil }
            if c == 0xED && c1 >= 0xA0 { return nil }
        }
        if n == 4 {
            let c1 = base![i + 1]
            if c == 0xF0 && c1 < 0x90 { return nil }
            if c == 0xF4 && c1 >= 0x90 { return nil }
        }
        return n
    }

    @inline(__always) func equals(_ start: Int, _ end: Int, _ s: StaticString) -> Bool {
        guard end - start == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for k in 0..<(end - start) where base![start + k] != p[k] { return false }
        return true
    }

    mutating func keyCode() -> KeyCode? {
        guard let (s, e, escaped) = rawString() else { return nil }
        if escaped { return .unknown }
        switch e - s {
        case 1:
            switch base![s] {
            case UInt8(ascii: "v"): return .field(.v)
            case UInt8(ascii: "a"): return .field(.a)
            case UInt8(ascii: "w"): return .field(.w)
            case UInt8(ascii: "l"): return .field(.l)
            default: return .unknown
            }
        case 2: return equals(s, e, "ts") ? .ts : .unknown
        case 3:
            if equals(s, e, "seq") { return .seq }
            if equals(s, e, "kwh") { return .field(.kwh) }
            if equals(s, e, "lpm") { return .field(.lpm) }
            if equals(s, e, "bar") { return .field(.bar) }
            return .unknown
        case 5:
            if equals(s, e, "state") { return .state }
            if equals(s, e, "level") { return .field(.level) }
            if equals(s, e, "picks") { return .field(.picks) }
            if equals(s, e, "run_s") { return .field(.runS) }
            return .unknown
        case 6:
            if equals(s, e, "pieces") { return .field(.pieces) }
            if equals(s, e, "skeins") { return .field(.skeins) }
            return .unknown
        default: return .unknown
        }
    }

    /// `nil` on a syntax error, `.some(nil)` for a string that is not a loom state.
    mutating func stateCode() -> LoomState?? {
        guard let (s, e, escaped) = rawString() else { return nil }
        if escaped { return .some(nil) }
        if equals(s, e, "run") { return .some(.run) }
        if equals(s, e, "stop") { return .some(.stop) }
        if equals(s, e, "fault") { return .some(.fault) }
        return .some(nil)
    }

    // Long: one pass over the digits of every number of every reading, its state (mantissa,
    // digit counts, overflow) kept in locals; the cold branches are already functions of their own.
    /// Parses a JSON number at the cursor. Leaves the cursor alone for a non-number value
    /// (`.notANumber`), except for the non-JSON tokens `NaN`/`Infinity`, read as non-finite.
    mutating func number() -> NumberToken {
        guard let c = peek else {
            fatal = true
            return .notANumber
        }
        if c == UInt8(ascii: "N") || c == UInt8(ascii: "I")
            || (c == UInt8(ascii: "-") && pos + 1 < count && base![pos + 1] == UInt8(ascii: "I"))
        {
            return nonFinite()
        }
        guard c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else { return .notANumber }
        let start = pos
        var negative = false
        if c == UInt8(ascii: "-") {
            negative = true
            pos += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var overflow = false
        let intStart = pos
        while let d = peek, d >= 0x30 && d <= 0x39 {
            if mantissa < 1_000_000_000_000_000_000 { mantissa = mantissa * 10 + UInt64(d - 0x30) } else { overflow = true }
            digits += 1
            pos += 1
        }
        guard digits > 0, !(digits > 1 && base![intStart] == 0x30) else {
            fatal = true
            return .notANumber
        }
        var fracDigits = 0
        var isInteger = true
        if peek == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            while let d = peek, d >= 0x30 && d <= 0x39 {
                if mantissa < 1_000_000_000_000_000_000 {
                    mantissa = mantissa * 10 + UInt64(d - 0x30)
                    fracDigits += 1
                } else {
                    overflow = true
                }
                pos += 1
            }
            guard fracDigits > 0 || overflow else {
                fatal = true
                return .notANumber
            }
        }
        var hasExp = false
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            hasExp = true
            isInteger = false
            guard skipExponent() else {
                fatal = true
                return .notANumber
            }
        }
        if isInteger && !overflow && mantissa <= UInt64(Int64.max) {
            let v = Int64(mantissa)
            return .integer(negative ? -v : v)
        }
        // Fast path: an exact mantissa and a small power of ten round once, like strtod.
        if !hasExp && !overflow && mantissa < (1 << 53) && fracDigits <= 22 {
            let v = Double(mantissa) / Scanner.powersOfTen[fracDigits]
            return .double(negative ? -v : v)
        }
        return exactDouble(from: start)
    }

    /// `NaN`, `Infinity` or `-Infinity` at the cursor (not JSON, read as non-finite).
    private mutating func nonFinite() -> NumberToken {
        for t: StaticString in ["NaN", "Infinity", "-Infinity"]
        where pos + t.utf8CodeUnitCount <= count && equals(pos, pos + t.utf8CodeUnitCount, t) {
            pos += t.utf8CodeUnitCount
            return .nonFinite
        }
        return .notANumber
    }

    /// Skips `e`/`E`, a sign and the exponent's digits; false when there are no digits.
    @inline(__always) private mutating func skipExponent() -> Bool {
        pos += 1
        if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
        var expDigits = 0
        while let d = peek, d >= 0x30 && d <= 0x39 {
            expDigits += 1
            pos += 1
        }
        return expDigits > 0
    }

    /// The slow path for a number the fast one cannot round exactly: strtod on its text.
    private func exactDouble(from start: Int) -> NumberToken {
        var buffer = [CChar](repeating: 0, count: pos - start + 1)
        for k in 0..<(pos - start) { buffer[k] = CChar(bitPattern: base![start + k]) }
        let v = strtod(buffer, nil)
        return v.isFinite ? .double(v) : .nonFinite
    }

    static let powersOfTen: [Double] = (0...22).map { Double(sign: .plus, exponent: 0, significand: 1) * pow(10, Double($0)) }

    /// Skips any JSON value; false on a syntax error.
    mutating func skipValue(depth: Int = 0) -> Bool {
        lastWasNull = false
        guard depth < 32, let c = peek else { return false }
        switch c {
        case UInt8(ascii: "\""): return rawString() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            pos += 1
            skipWS()
            if peek == close {
                pos += 1
                return true
            }
            while true {
                skipWS()
                if close == UInt8(ascii: "}") {
                    guard rawString() != nil else { return false }
                    skipWS()
                    guard next() == UInt8(ascii: ":") else { return false }
                    skipWS()
                }
                guard skipValue(depth: depth + 1) else { return false }
                skipWS()
                guard let n = next() else { return false }
                if n == close { return true }
                if n != UInt8(ascii: ",") { return false }
            }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"):
            let ok = literal("null")
            lastWasNull = ok
            return ok
        default:
            switch number() {
            case .notANumber: return false
            default: return true
            }
        }
    }

    mutating func literal(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard pos + n <= count, equals(pos, pos + n, s) else { return false }
        pos += n
        return true
    }
}
