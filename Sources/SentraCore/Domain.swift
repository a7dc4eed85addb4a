/// The three kinds of device that the device protocol knows.
public enum DeviceKind: String, Sendable, CaseIterable, Codable {
    case power, water, loom
}

/// A loom's reported state.
public enum LoomState: UInt8, Sendable, Codable {
    case run = 1, stop = 2, fault = 3

    public init?(name: String) {
        switch name {
        case "run": self = .run
        case "stop": self = .stop
        case "fault": self = .fault
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .run: "run"
        case .stop: "stop"
        case .fault: "fault"
        }
    }
}

/// A measurement field of the device protocol. The raw value indexes `Reading.values`.
public enum Field: Int, Sendable, CaseIterable, Codable {
    case v, a, w, kwh, lpm, l, level, bar, picks, pieces, skeins, runS

    public static let count = 12

    /// The field's name on the wire.
    public var wireName: String {
        switch self {
        case .v: "v"
        case .a: "a"
        case .w: "w"
        case .kwh: "kwh"
        case .lpm: "lpm"
        case .l: "l"
        case .level: "level"
        case .bar: "bar"
        case .picks: "picks"
        case .pieces: "pieces"
        case .skeins: "skeins"
        case .runS: "run_s"
        }
    }

    public init?(wireName: String) {
        guard let f = Field.allCases.first(where: { $0.wireName == wireName }) else { return nil }
        self = f
    }

    /// Cumulative counters: production, never counted twice (docs/protocol.md, "Counters").
    public var isCounter: Bool {
        switch self {
        case .kwh, .l, .picks, .pieces, .skeins, .runS: true
        default: false
        }
    }

    /// The index of a cumulative counter in `DeviceState.counters`, nil for other fields.
    @inline(__always) public var counterSlot: Int? {
        switch self {
        case .kwh: 0
        case .l: 1
        case .picks: 2
        case .pieces: 3
        case .skeins: 4
        case .runS: 5
        default: nil
        }
    }

    public static let counterCount = 6

    public var kind: DeviceKind {
        switch self {
        case .v, .a, .w, .kwh: .power
        case .lpm, .l, .level, .bar: .water
        case .picks, .pieces, .skeins, .runS: .loom
        }
    }

    /// Fields a device of `kind` may carry; others are unknown and ignored.
    public static func fields(of kind: DeviceKind) -> [Field] {
        allCases.filter { $0.kind == kind }
    }
}

/// Why a reading (or one counter value of it) was not counted. Names are the device protocol's (docs/protocol.md).
public enum RejectReason: Int, Sendable, CaseIterable, Codable, Error {
    case badTopic, unknownKind, unknownDevice, tooLarge, badUTF8, badJSON, badType, noMeasurement
    case notFinite, negativeCounter, tooOld, inFuture, duplicate, outOfOrder, implausible

    public var name: String {
        switch self {
        case .badTopic: "bad_topic"
        case .unknownKind: "unknown_kind"
        case .unknownDevice: "unknown_device"
        case .tooLarge: "too_large"
        case .badUTF8: "bad_utf8"
        case .badJSON: "bad_json"
        case .badType: "bad_type"
        case .noMeasurement: "no_measurement"
        case .notFinite: "not_finite"
        case .negativeCounter: "negative_counter"
        case .tooOld: "too_old"
        case .inFuture: "in_future"
        case .duplicate: "duplicate"
        case .outOfOrder: "out_of_order"
        case .implausible: "implausible"
        }
    }
}

/// One reading as parsed from the wire: fixed storage, no per-field allocation.
public struct Reading: Sendable {
    /// Event time, ms since the epoch (UTC); `nil` when the payload carried none.
    public var ts: Int64?
    public var seq: Int64?
    public var state: LoomState?
    /// Bit `f.rawValue` is set when field `f` is present.
    public var mask: UInt16 = 0
    public var values: InlineArray<12, Double> = .init(repeating: 0)

    public init() {}

    @inline(__always) public func has(_ f: Field) -> Bool { mask & (1 << UInt16(f.rawValue)) != 0 }
    @inline(__always) public subscript(_ f: Field) -> Double? {
        has(f) ? values[f.rawValue] : nil
    }
    @inline(__always) public mutating func set(_ f: Field, _ value: Double) {
        values[f.rawValue] = value
        mask |= 1 << UInt16(f.rawValue)
    }
    @inline(__always) public mutating func clear(_ f: Field) { mask &= ~(1 << UInt16(f.rawValue)) }
    public var hasMeasurement: Bool { mask != 0 || state != nil }
}
