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
///
/// Consecutive readings of a device nearly always land in the same bucket, so each device
/// keeps its open bucket in an array slot; only a change of hour or craftsman (or a commit)
/// moves it into the dictionary. The hot path then does one hash per bucket change, not
/// one per field of every reading.
public struct BucketDeltas: Sendable {
    private var closed: [BucketKey: Bucket] = [:]
    private var openKeys: [BucketKey?] = []
    private var open: [Bucket] = []
    public init() {}

    @inline(__always) public mutating func add(_ key: BucketKey, _ m: Metric, _ v: Double) {
        guard v != 0 else { return }
        let d = Int(key.device)
        if d >= openKeys.count {
            openKeys += Array(repeating: nil, count: d + 1 - openKeys.count)
            open += Array(repeating: Bucket(), count: d + 1 - open.count)
        }
        if openKeys[d] != key {
            if let old = openKeys[d] { close(old, open[d]) }
            openKeys[d] = key
            open[d] = Bucket()
        }
        open[d][m] += v
    }

    private mutating func close(_ key: BucketKey, _ b: Bucket) {
        if var existing = closed[key] {
            for i in 0..<Metric.count { existing.values[i] += b.values[i] }
            closed[key] = existing
        } else {
            closed[key] = b
        }
    }

    /// Every bucket with its sums.
    public var buckets: [BucketKey: Bucket] {
        var all = closed
        for (d, key) in openKeys.enumerated() {
            guard let key else { continue }
            if var existing = all[key] {
                for i in 0..<Metric.count { existing.values[i] += open[d].values[i] }
                all[key] = existing
            } else {
                all[key] = open[d]
            }
        }
        return all
    }

    public var isEmpty: Bool { closed.isEmpty && !openKeys.contains { $0 != nil } }

    public mutating func removeAll() {
        closed.removeAll(keepingCapacity: true)
        for i in openKeys.indices { openKeys[i] = nil }
    }
}
