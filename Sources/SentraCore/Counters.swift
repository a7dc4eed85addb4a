/// The committed position of one cumulative counter of one device (docs/protocol.md, "Counters").
public struct CounterBaseline: Sendable, Equatable, Codable {
    /// The last accepted value: increases are measured from it.
    public var value: Double
    /// Event time of that value, ms.
    public var ts: Int64
    /// A lower value waiting for one reading of lookahead: glitch or reset.
    public var pendingValue: Double?
    public var pendingTs: Int64?

    public init(value: Double, ts: Int64, pendingValue: Double? = nil, pendingTs: Int64? = nil) {
        self.value = value
        self.ts = ts
        self.pendingValue = pendingValue
        self.pendingTs = pendingTs
    }
}

/// What a counter value did.
public enum CounterDecision: Equatable, Sendable {
    /// The first value: the baseline, counting nothing.
    case baseline
    /// An increase (possibly 0) to count.
    case increase(Double)
    /// A lower value, held until the next reading decides.
    case pendingDip
    /// The dip was a glitch; the increase is measured from the value before it.
    case glitch(increase: Double)
    /// The board rebooted; the confirming value counts as the increase since the reset.
    case reset(increase: Double)
    /// Faster than plausible: counts nothing, the baseline moves.
    case implausible
}

/// Plausible maximum increase per minute of each counter (docs/protocol.md); defaults suit
/// hand looms (ATBM run at 20 to 60 picks a minute) and small workshop connections.
public struct PlausibleRates: Sendable, Equatable {
    public var perMinute: [Field: Double] = [
        .picks: 300, .pieces: 2, .skeins: 30, .kwh: 0.5, .l: 500, .runS: 120,
    ]
    {
        didSet { byField = Self.table(perMinute) }
    }
    /// `perMinute` by `Field.rawValue`: read for every counter of every reading, without hashing.
    private var byField: InlineArray<12, Double>
    public init() { byField = Self.table(perMinute) }
    @inline(__always) public func limit(_ f: Field) -> Double { byField[f.rawValue] }

    private static func table(_ d: [Field: Double]) -> InlineArray<12, Double> {
        var t = InlineArray<12, Double>(repeating: .infinity)
        for (f, v) in d { t[f.rawValue] = v }
        return t
    }

    public static func == (a: PlausibleRates, b: PlausibleRates) -> Bool { a.perMinute == b.perMinute }
}

public enum CounterRules {
    /// Applies one value `x` at event time `ts` to `baseline`; returns the decision.
    /// Rates are measured over at least a minute, so a counter that moves in whole steps
    /// (a piece every few minutes) is not called implausible for one step in a short gap.
    /// `restoresOlderTotal`: the device comes back from a power cut with an older, non-zero
    /// total (Tasmota), so a confirmed reset counts from the dropped-to value, not from 0.
    @inline(__always)
    public static func apply(
        _ x: Double, ts: Int64, to baseline: inout CounterBaseline?, maxPerMinute: Double, restoresOlderTotal: Bool = false
    )
        -> CounterDecision
    {
        guard var b = baseline else {
            baseline = CounterBaseline(value: x, ts: ts)
            return .baseline
        }
        defer { baseline = b }
        if let dip = b.pendingValue {
            b.pendingValue = nil
            b.pendingTs = nil
            if x >= b.value {
                let inc = x - b.value
                if !plausible(inc, from: b.ts, to: ts, maxPerMinute) {
                    b.value = x
                    b.ts = ts
                    return .implausible
                }
                b.value = x
                b.ts = ts
                return .glitch(increase: inc)
            }
            // Counted since the reset, so made after the last accepted reading at the earliest:
            // a board that comes back with a large total (replaced, or preset) is implausible.
            let from = b.ts
            let inc = restoresOlderTotal ? max(0, x - dip) : x
            b.value = x
            b.ts = ts
            return plausible(inc, from: from, to: ts, maxPerMinute) ? .reset(increase: inc) : .implausible
        }
        if x < b.value {
            b.pendingValue = x
            b.pendingTs = ts
            return .pendingDip
        }
        let inc = x - b.value
        let from = b.ts
        b.value = x
        b.ts = ts
        return plausible(inc, from: from, to: ts, maxPerMinute) ? .increase(inc) : .implausible
    }

    @inline(__always)
    static func plausible(_ inc: Double, from: Int64, to: Int64, _ maxPerMinute: Double) -> Bool {
        let minutes = max(Double(to - from) / 60_000, 1)
        return inc <= maxPerMinute * minutes
    }
}
