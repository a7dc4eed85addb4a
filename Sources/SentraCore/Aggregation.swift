/// What an hourly bucket sums. Raw values index `Bucket.values`.
public enum Metric: Int, Sendable, CaseIterable {
    case picks, pieces, skeins, runMs, stopMs, faultMs, stoppages, kwh, litres, vOutMs, noPowerMs

    public static let count = 11

    /// Column name in the state database.
    public var column: String {
        switch self {
        case .picks: "picks"
        case .pieces: "pieces"
        case .skeins: "skeins"
        case .runMs: "run_ms"
        case .stopMs: "stop_ms"
        case .faultMs: "fault_ms"
        case .stoppages: "stoppages"
        case .kwh: "kwh"
        case .litres: "water_l"
        case .vOutMs: "v_out_ms"
        case .noPowerMs: "no_power_ms"
        }
    }
}

/// One hour of one device (a loom's counter board or a meter), for the craftsman it
/// counted for in that hour (`-1` when it counts for the workshop).
public struct BucketKey: Hashable, Sendable {
    /// Start of the local hour, UTC seconds.
    public var hour: Int64
    public var device: Int32
    public var craftsman: Int32

    public init(hour: Int64, device: Int32, craftsman: Int32) {
        self.hour = hour
        self.device = device
        self.craftsman = craftsman
    }
}

public struct Bucket: Sendable, Equatable {
    public var values: InlineArray<11, Double> = .init(repeating: 0)
    public init() {}
    @inline(__always) public subscript(_ m: Metric) -> Double {
        get { values[m.rawValue] }
        set { values[m.rawValue] = newValue }
    }
    public static func == (a: Bucket, b: Bucket) -> Bool {
        for i in 0..<Metric.count where a.values[i] != b.values[i] { return false }
        return true
    }
}

/// Deltas since the last commit: what the next transaction adds to the buckets.
public struct BucketDeltas: Sendable {
    public private(set) var buckets: [BucketKey: Bucket] = [:]
    public init() {}
    @inline(__always) public mutating func add(_ key: BucketKey, _ m: Metric, _ v: Double) {
        guard v != 0 else { return }
        buckets[key, default: Bucket()][m] += v
    }
    public var isEmpty: Bool { buckets.isEmpty }
    public mutating func removeAll() { buckets.removeAll(keepingCapacity: true) }
}
