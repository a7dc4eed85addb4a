/// What one message of an off-the-shelf device said.
public enum ForeignDecoded: Sendable {
    /// A reading of the device protocol: only the fields the message carried; `ts` nil when it
    /// carried no device time.
    case reading(Reading)
    /// A message of the device that carries nothing mapped (an event, a temperature).
    case ignored
    case rejected(RejectReason)
}

/// Reads the payloads of one `ForeignMessage` into `Reading`s, in one pass over the bytes.
/// Made once per message of a device (its paths compiled), used by one thread.
public final class ForeignReader {
    public let message: ForeignMessage
    private let extractor: JSONExtractor
    private let timeIndex: Int?
    private let conditionIndex: Int?
    private let conditionBytes: [UInt8]
    private let timeFormat: ForeignTime.Format?
    /// Per value: the field it sets (raw value) and its scale, or -1 for `state` (plain
    /// values, read without touching `message`).
    private let fields: [(field: Int, scale: Double)]
    /// What the last payload held at each path (reused: no allocation per message).
    private var found: [JSONLeaf]

    public init(_ message: ForeignMessage) {
        self.message = message
        var paths = message.values.map(\.path)
        if let t = message.time {
            paths.append(t.path)
            timeIndex = paths.count - 1
        } else {
            timeIndex = nil
        }
        if let c = message.condition {
            paths.append(c.path)
            conditionIndex = paths.count - 1
            conditionBytes = Array(c.equals.utf8)
        } else {
            conditionIndex = nil
            conditionBytes = []
        }
        extractor = JSONExtractor(paths: paths)
        found = Array(repeating: .missing, count: paths.count)
        timeFormat = message.time?.format
        fields = message.values.map { v in
            if case .field(let f, let scale) = v.target { (f.rawValue, scale) } else { (-1, 1) }
        }
    }

    /// `selected`: for a `{field}` topic, the index of the value its level named (other values
    /// are not in this message); nil for all of them.
    public func decode(
        _ payload: UnsafeRawBufferPointer, selected: Int? = nil, limits: ProtocolLimits, calendar: inout LocalCalendar
    ) -> ForeignDecoded {
        if payload.count > limits.maxObjectBytes { return .rejected(.tooLarge) }
        switch message.format {
        case .plain:
            guard let i = selected ?? (message.values.isEmpty ? nil : 0), i < message.values.count else { return .ignored }
            return ForeignDecoder.plain(message.values[i], payload: payload)
        case .json:
            return json(payload, calendar: &calendar)
        }
    }

    private func json(_ payload: UnsafeRawBufferPointer, calendar: inout LocalCalendar) -> ForeignDecoded {
        for i in found.indices { found[i] = .missing }
        var p = Scanner(base: payload.baseAddress?.assumingMemoryBound(to: UInt8.self), count: payload.count)
        p.skipWS()
        guard p.peek == UInt8(ascii: "{") else { return .rejected(p.atEnd ? .noMeasurement : .badJSON) }
        guard extractor.walk(&p, depth: 0, active: extractor.all, into: &found) else {
            return .rejected(p.utf8Error ? .badUTF8 : .badJSON)
        }
        p.skipWS()
        guard p.atEnd else { return .rejected(.badJSON) }
        if let i = conditionIndex {
            guard case .string(let s, let e) = found[i], ForeignDecoder.equal(payload, s, e, conditionBytes) else { return .ignored }
        }
        var r = Reading()
        for i in fields.indices {
            let (f, scale) = fields[i]
            if f >= 0, let field = Field(rawValue: f) {
                // The common case, inline: a number for a field.
                switch found[i] {
                case .missing, .null: continue
                case .number(let x):
                    r.set(field, x * scale)
                    continue
                default: break
                }
            }
            if let reason = ForeignDecoder.apply(found[i], to: message.values[i].target, in: &r, payload: payload) {
                return .rejected(reason)
            }
        }
        if !r.hasMeasurement { return .ignored }
        if let format = timeFormat, let i = timeIndex {
            switch ForeignDecoder.deviceTime(found[i], format: format, payload: payload, calendar: &calendar) {
            case .success(let ts): r.ts = ts
            case .failure(let reason): return .rejected(reason)
            }
        }
        return ForeignDecoder.finish(r)
    }
}

/// The pieces of `ForeignReader` that need no state.
enum ForeignDecoder {
    // MARK: plain payloads: one value

    static func plain(_ value: ForeignValue, payload: UnsafeRawBufferPointer) -> ForeignDecoded {
        var start = 0
        while start < payload.count, isSpace(payload[start]) { start += 1 }
        var end = payload.count
        while end > start, isSpace(payload[end - 1]) { end -= 1 }
        if end == start { return .rejected(.noMeasurement) }
        guard validUTF8(payload, start, end) else { return .rejected(.badUTF8) }
        var r = Reading()
        switch value.target {
        case .field(let f, let scale):
            if let nonFinite = nonFiniteWord(payload, start, end) { return nonFinite }
            var q = Scanner(base: payload.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + start }, count: end - start)
            let token = q.number()
            guard q.pos == end - start else { return .rejected(.badType) }
            switch token {
            case .integer(let i): r.set(f, Double(i) * scale)
            case .double(let d): r.set(f, d * scale)
            case .nonFinite: return .rejected(.notFinite)
            case .notANumber: return .rejected(.badType)
            }
            return finish(r)
        case .state(let words):
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: payload[start..<end]), as: UTF8.self)
            guard let s = words[text] else { return .rejected(.badType) }
            r.state = s
            return .reading(r)
        }
    }

    /// ESPHome writes `nan` for a sensor with no value; others write `NaN`, `inf`, `-inf`.
    private static func nonFiniteWord(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> ForeignDecoded? {
        let n = end - start
        // Numbers start with a digit, `-` then a digit, or `.`: only words are looked at.
        let c = b[start] | 0x20
        guard n >= 3 && n <= 9,
            c == UInt8(ascii: "n") || c == UInt8(ascii: "i") || b[start] == UInt8(ascii: "-") || b[start] == UInt8(ascii: "+")
        else { return nil }
        let word = String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<end]), as: UTF8.self).lowercased()
        switch word {
        case "nan", "-nan", "inf", "-inf", "+inf", "infinity", "-infinity": return .rejected(.notFinite)
        default: return nil
        }
    }

    // MARK: JSON payloads: values by path

    /// Puts one found value into the reading; the reason when it has the wrong type.
    static func apply(
        _ leaf: JSONLeaf, to target: ForeignValue.Target, in r: inout Reading, payload: UnsafeRawBufferPointer
    )
        -> RejectReason?
    {
        switch (leaf, target) {
        case (.missing, _), (.null, _): return nil
        case (.number(let x), .field(let f, let scale)):
            r.set(f, x * scale)
        case (.nonFinite, .field): return .notFinite
        case (.string(let s, let e), .state(let words)):
            guard let state = words[String(decoding: UnsafeRawBufferPointer(rebasing: payload[s..<e]), as: UTF8.self)] else {
                return .badType
            }
            r.state = state
        case (.bool(let b), .state(let words)):
            guard let state = words[b ? "true" : "false"] else { return .badType }
            r.state = state
        case (.number(let x), .state(let words)):
            guard let state = words[x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)] else { return .badType }
            r.state = state
        default: return .badType
        }
        return nil
    }

    static func finish(_ r: Reading) -> ForeignDecoded {
        for f in Field.allCases where f.isCounter && r.has(f) && r.values[f.rawValue] < 0 {
            return .rejected(.negativeCounter)
        }
        return .reading(r)
    }

    /// The device's time from a found value, in ms since the epoch.
    static func deviceTime(
        _ leaf: JSONLeaf, format: ForeignTime.Format, payload: UnsafeRawBufferPointer, calendar: inout LocalCalendar
    )
        -> Result<Int64?, RejectReason>
    {
        switch (leaf, format) {
        case (.missing, _), (.null, _): return .success(nil)
        case (.number(let x), .unixMillis):
            guard abs(x) < 1e15 else { return .failure(.badType) }
            return .success(Int64(x.rounded()))
        case (.number(let x), .unixSeconds):
            guard abs(x) < 1e12 else { return .failure(.badType) }
            return .success(Int64((x * 1000).rounded()))
        case (.string(let s, let e), .iso8601):
            guard let t = DeviceClockText.parse(UnsafeRawBufferPointer(rebasing: payload[s..<e]), calendar: &calendar) else {
                return .failure(.badType)
            }
            return .success(t)
        default: return .failure(.badType)
        }
    }

    @inline(__always) static func equal(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int, _ text: [UInt8]) -> Bool {
        guard e - s == text.count else { return false }
        for k in 0..<text.count where b[s + k] != text[k] { return false }
        return true
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    static func validUTF8(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        let s = Scanner(base: b.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + start }, count: end - start)
        var i = 0
        while i < end - start {
            if s.base![i] < 0x80 {
                i += 1
            } else {
                guard let n = s.utf8Length(at: i) else { return false }
                i += n
            }
        }
        return true
    }
}

/// A value found at a path.
enum JSONLeaf: Equatable {
    case missing, null
    case number(Double)
    case nonFinite
    /// A string's bytes (escapes undecoded), offsets into the payload.
    case string(Int, Int)
    /// `true` or `false`, as text.
    case bool(Bool)
    /// An object or array where a value was expected.
    case structure
}

/// Walks a JSON object once, descending only into keys some path needs and skipping the rest.
struct JSONExtractor {
    /// One step of a path, flat: an array index (`index >= 0`) or a key's bytes in `keys`.
    struct Step {
        var index: Int
        var keyStart: Int
        var keyCount: Int
    }
    /// Path `i`'s steps are `steps[starts[i] ..< starts[i] + counts[i]]`: plain values, so the
    /// walk over every key of every payload retains nothing.
    let steps: [Step]
    let starts: [Int]
    let counts: [Int]
    let keys: [UInt8]
    let all: UInt64

    init(paths: [JSONPath]) {
        var steps: [Step] = []
        var starts: [Int] = []
        var counts: [Int] = []
        var keys: [UInt8] = []
        for path in paths.prefix(64) {
            starts.append(steps.count)
            counts.append(path.steps.count)
            for step in path.steps {
                switch step {
                case .index(let n): steps.append(Step(index: n, keyStart: 0, keyCount: 0))
                case .key(let k):
                    steps.append(Step(index: -1, keyStart: keys.count, keyCount: k.utf8.count))
                    keys += Array(k.utf8)
                }
            }
        }
        self.steps = steps
        self.starts = starts
        self.counts = counts
        self.keys = keys
        all = starts.count >= 64 ? .max : (1 << UInt64(starts.count)) - 1
    }

    /// Reads the value at the cursor: an object or array is walked for the `active` paths,
    /// anything else skipped. False on a syntax error.
    func walk(_ p: inout Scanner, depth: Int, active: UInt64, into found: inout [JSONLeaf]) -> Bool {
        guard depth < 32 else { return false }
        switch p.peek {
        case UInt8(ascii: "{"): return object(&p, depth: depth, active: active, into: &found)
        case UInt8(ascii: "["): return array(&p, depth: depth, active: active, into: &found)
        default: return p.skipValue(depth: depth)
        }
    }

    private func object(_ p: inout Scanner, depth: Int, active: UInt64, into found: inout [JSONLeaf]) -> Bool {
        p.pos += 1
        p.skipWS()
        if p.peek == UInt8(ascii: "}") {
            p.pos += 1
            return true
        }
        while true {
            p.skipWS()
            guard let (s, e, escaped) = p.rawString() else { return false }
            p.skipWS()
            guard p.next() == UInt8(ascii: ":") else { return false }
            p.skipWS()
            var next: UInt64 = 0
            if !escaped {
                var m = active
                while m != 0 {
                    let i = m.trailingZeroBitCount
                    m &= m - 1
                    if depth < counts[i] {
                        let step = steps[starts[i] + depth]
                        if step.index < 0 && matches(step, p, s, e) { next |= 1 << UInt64(i) }
                    }
                }
            }
            guard value(&p, depth: depth, next: next, into: &found) else { return false }
            p.skipWS()
            guard let c = p.next() else { return false }
            if c == UInt8(ascii: "}") { return true }
            if c != UInt8(ascii: ",") { return false }
        }
    }

    private func array(_ p: inout Scanner, depth: Int, active: UInt64, into found: inout [JSONLeaf]) -> Bool {
        p.pos += 1
        p.skipWS()
        if p.peek == UInt8(ascii: "]") {
            p.pos += 1
            return true
        }
        var index = 0
        while true {
            p.skipWS()
            var next: UInt64 = 0
            var m = active
            while m != 0 {
                let i = m.trailingZeroBitCount
                m &= m - 1
                if depth < counts[i] && steps[starts[i] + depth].index == index { next |= 1 << UInt64(i) }
            }
            guard value(&p, depth: depth, next: next, into: &found) else { return false }
            index += 1
            p.skipWS()
            guard let c = p.next() else { return false }
            if c == UInt8(ascii: "]") { return true }
            if c != UInt8(ascii: ",") { return false }
        }
    }

    /// The value after a key or at an index: a leaf for paths ending here, walked for paths
    /// going deeper, skipped when no path wants it.
    private func value(_ p: inout Scanner, depth: Int, next: UInt64, into found: inout [JSONLeaf]) -> Bool {
        if next == 0 { return p.skipValue(depth: depth + 1) }
        var ending: UInt64 = 0
        var m = next
        while m != 0 {
            let i = m.trailingZeroBitCount
            m &= m - 1
            if counts[i] == depth + 1 { ending |= 1 << UInt64(i) }
        }
        if ending == 0 { return walk(&p, depth: depth + 1, active: next, into: &found) }
        guard let leaf = leaf(&p, depth: depth) else { return false }
        var e = ending
        while e != 0 {
            let i = e.trailingZeroBitCount
            e &= e - 1
            found[i] = leaf
        }
        return true
    }

    private func leaf(_ p: inout Scanner, depth: Int) -> JSONLeaf? {
        switch p.peek {
        case UInt8(ascii: "\""):
            guard let (s, e, _) = p.rawString() else { return nil }
            return .string(s, e)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return p.skipValue(depth: depth + 1) ? .structure : nil
        case UInt8(ascii: "t"): return p.literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return p.literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return p.literal("null") ? .null : nil
        default:
            switch p.number() {
            case .integer(let i): return .number(Double(i))
            case .double(let d): return .number(d)
            case .nonFinite: return .nonFinite
            case .notANumber: return nil
            }
        }
    }

    @inline(__always) private func matches(_ step: Step, _ p: Scanner, _ s: Int, _ e: Int) -> Bool {
        guard step.keyCount == e - s else { return false }
        for k in 0..<step.keyCount where p.base![s + k] != keys[step.keyStart + k] { return false }
        return true
    }
}

/// A device clock's text: `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`; without an offset it is the
/// sentra's local time (Tasmota's `Time` unless `SetOption52` adds the offset).
public enum DeviceClockText {
    // Long: one pass over the fixed positions of the text, no allocation (it is parsed for
    // every Tasmota message).
    public static func parse(_ b: UnsafeRawBufferPointer, calendar: inout LocalCalendar) -> Int64? {
        guard b.count >= 19, b.count <= 40, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A,
            b[16] == 0x3A
        else { return nil }
        func num(_ from: Int, _ n: Int) -> Int64? {
            var v: Int64 = 0
            for k in from..<from + n {
                guard b[k] >= 0x30 && b[k] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[k] - 0x30)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2), let sec = num(17, 2),
            (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y), h < 24, mi < 60, sec < 61, y >= 1970
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count && b[i] == 0x2E {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int64(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        let wall = (days(year: y, month: mo, day: d) * 86_400 + h * 3600 + mi * 60 + sec) * 1000 + millis
        if i == b.count {
            // Local wall time: the offset at that wall time read as UTC, corrected once.
            let guess = wall - calendar.offset(atMillis: wall) * 1000
            return wall - calendar.offset(atMillis: guess) * 1000
        }
        if b[i] == 0x5A && i + 1 == b.count { return wall }
        guard b[i] == 0x2B || b[i] == 0x2D, b.count - i == 6 || b.count - i == 5 else { return nil }
        let sign: Int64 = b[i] == 0x2B ? 1 : -1
        let colon = b.count - i == 6
        if colon && b[i + 3] != 0x3A { return nil }
        guard let oh = num(i + 1, 2), let om = num(i + (colon ? 4 : 3), 2), oh < 24, om < 60 else { return nil }
        return wall - sign * (oh * 3600 + om * 60) * 1000
    }

    /// Days since 1970-01-01 of a civil date (proleptic Gregorian).
    static func days(year y0: Int64, month m: Int64, day d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = m > 2 ? m - 3 : m + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }

    static func daysIn(month m: Int64, year y: Int64) -> Int64 {
        switch m {
        case 2: (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
