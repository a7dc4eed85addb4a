import SentraCore

/// A fault the simulator can inject (`--fault KIND[@TIME][:DEVICE]`).
public enum FaultKind: String, Sendable, CaseIterable, Codable {
    /// The board restarts: counters and `seq` begin again at 0.
    case reboot
    /// One reading whose counters are all 0, then back to normal.
    case glitch
    /// A reading sent twice (same `seq`).
    case duplicate
    /// A reading held back and sent again some readings later.
    case outOfOrder = "out-of-order"
    /// A payload that is not a valid reading.
    case garbage
    /// The device publishes nothing for a while (its counters go on).
    case silent
    /// A power meter's voltage drops to about 185 V.
    case sag
    /// The supply fails: the meter reads about 0 V, or says `offline` and goes quiet.
    case outage
    /// A water meter's flow stops during dyeing.
    case waterFailure = "water-failure"
    /// A loom says `run` while its picks stand still.
    case stall
    /// The simulator drops its broker connection and reconnects.
    case disconnect
    /// The device loses its network but keeps measuring: `offline` (its Last Will), silence,
    /// then `online` and everything it held, in order, as batches of at most 50 readings.
    case buffer
    /// A Tasmota device loses its supply for 1–4 min: its Last Will says `Offline`, and it
    /// comes back with the totals it last saved to flash (every `SaveData` seconds, an hour
    /// by default), lower than those it had published.
    case powercut

    public init?(name: String) {
        let n = name.lowercased().replacingOccurrences(of: "_", with: "-")
        switch n {
        case "ooo", "out-of-order", "outoforder": self = .outOfOrder
        case "water", "water-failure": self = .waterFailure
        case "dup", "duplicate": self = .duplicate
        case "voltage-sag", "sag": self = .sag
        case "power-outage", "outage": self = .outage
        case "power-cut", "powercut": self = .powercut
        default:
            guard let k = FaultKind(rawValue: n) else { return nil }
            self = k
        }
    }

    /// The alert rule (docs/alerts.md) the fault should make the daemon fire, if any.
    public var rule: String? {
        switch self {
        case .sag: "voltage_sag"
        case .outage: "power_outage"
        case .waterFailure: "water_low_flow"
        case .stall: "loom_stalled"
        case .silent: "device_silent"
        default: nil
        }
    }

    /// The device kind the fault applies to; nil: any device (or none, for `disconnect`).
    var deviceKind: DeviceKind? {
        switch self {
        case .sag, .outage: .power
        case .waterFailure: .water
        case .stall: .loom
        default: nil
        }
    }

    /// Duration range in seconds of a fault that lasts; nil for an instantaneous one.
    var durationSeconds: ClosedRange<Int>? {
        switch self {
        case .silent: 8 * 60...20 * 60
        case .sag: 45...120
        // Short of 5 minutes, so the meter's silence does not also raise device_silent.
        case .outage: 120...270
        case .waterFailure: 3 * 60...8 * 60
        case .stall: 18 * 60...40 * 60
        case .buffer: 5 * 60...30 * 60
        case .powercut: 60...240
        default: nil
        }
    }
}

/// When a fault happens, as given on the command line.
public enum FaultTime: Sendable, Equatable {
    /// Local date-time, already resolved to ms since the epoch.
    case absolute(Int64)
    /// Seconds after midnight, local, on the window's first day (or the next one if that is past).
    case timeOfDay(Int)
    /// Seconds after the window's start.
    case offset(Int64)
}

/// One `--fault` argument.
public struct FaultSpec: Sendable, Equatable {
    public var kind: FaultKind
    public var time: FaultTime?
    public var device: String?

    public init(kind: FaultKind, time: FaultTime? = nil, device: String? = nil) {
        self.kind = kind
        self.time = time
        self.device = device
    }

    /// Parses `KIND[@TIME][:DEVICE]`. TIME: `HH:MM[:SS]` (local, first day of the window),
    /// `YYYY-MM-DDTHH:MM[:SS]` (local), or `+N[s|m|h]` after the window's start.
    public static func parse(_ text: String, calendar: LocalCalendar) throws(SimulationError) -> FaultSpec {
        var cal = calendar
        var kindPart = Substring(text)
        var timePart: Substring?
        var device: String?
        if let at = text.firstIndex(of: "@") {
            kindPart = text[..<at]
            var rest = text[text.index(after: at)...]
            // A trailing `:name` with a non-digit is the device; digits belong to the time.
            if let colon = rest.lastIndex(of: ":") {
                let tail = rest[rest.index(after: colon)...]
                if tail.contains(where: { !$0.isNumber }) {
                    device = String(tail)
                    rest = rest[..<colon]
                }
            }
            timePart = rest
        } else if let colon = text.firstIndex(of: ":") {
            kindPart = text[..<colon]
            device = String(text[text.index(after: colon)...])
        }
        guard let kind = FaultKind(name: String(kindPart)) else {
            throw SimulationError(
                "unknown fault kind '\(kindPart)' in '\(text)'; kinds: \(FaultKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let d = device, !DeviceTopic.isValidID(d) { throw SimulationError("bad device id '\(d)' in '\(text)'") }
        var time: FaultTime?
        if let t = timePart {
            if t.hasPrefix("+") {
                var num = t.dropFirst()
                var unit: Int64 = 1
                if let last = num.last, !last.isNumber {
                    switch last {
                    case "s": unit = 1
                    case "m": unit = 60
                    case "h": unit = 3600
                    default: throw SimulationError("bad fault time '\(t)' in '\(text)'")
                    }
                    num = num.dropLast()
                }
                guard let n = Int64(num), n >= 0 else { throw SimulationError("bad fault time '\(t)' in '\(text)'") }
                time = .offset(n * unit)
            } else if let secs = parseTimeOfDay(t) {
                time = .timeOfDay(secs)
            } else if let ms = parseLocalDateTime(String(t), calendar: &cal), t.count > 10 {
                time = .absolute(ms)
            } else {
                throw SimulationError("bad fault time '\(t)' in '\(text)': expected HH:MM[:SS], YYYY-MM-DDTHH:MM[:SS] or +N[s|m|h]")
            }
        }
        return FaultSpec(kind: kind, time: time, device: device)
    }
}

/// `HH:MM[:SS]` → seconds after midnight.
func parseTimeOfDay<S: StringProtocol>(_ s: S) -> Int? {
    let parts = s.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0.count == 2 }),
        let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m)
    else { return nil }
    var sec = 0
    if parts.count == 3 {
        guard let s = Int(parts[2]), (0..<60).contains(s) else { return nil }
        sec = s
    }
    return h * 3600 + m * 60 + sec
}

/// `YYYY-MM-DD` or `YYYY-MM-DD[T ]HH:MM[:SS]`, local to `calendar`, → ms since the epoch.
public func parseLocalDateTime(_ s: String, calendar: inout LocalCalendar) -> Int64? {
    let date = String(s.prefix(10))
    guard LocalCalendar.daysSinceEpoch(date) != nil, let dayStart = calendar.startOfDay(date) else { return nil }
    if s.count == 10 { return dayStart }
    let rest = s.dropFirst(10)
    guard let sep = rest.first, sep == "T" || sep == " ", let secs = parseTimeOfDay(rest.dropFirst()) else { return nil }
    // Settle the offset at the moment itself, not at midnight (a DST change in between).
    let guess = dayStart + Int64(secs) * 1000
    let offMidnight = calendar.offset(atMillis: dayStart)
    let offThen = calendar.offset(atMillis: guess)
    return guess - (offThen - offMidnight) * 1000
}

/// A user error of the simulator: a bad flag value or a fault that cannot apply.
public struct SimulationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A fault placed on the timeline.
struct PlannedFault {
    var kind: FaultKind
    var device: Int  // -1 for `disconnect`
    var start: Int64
    var durationMs: Int64
}
