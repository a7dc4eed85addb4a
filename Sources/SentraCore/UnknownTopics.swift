/// A topic the broker delivered that no configured device claims, as `sentractl devices
/// unknown` shows it: how often, when, and what it last carried.
public struct UnknownTopic: Sendable, Equatable {
    public var topic: String
    /// Messages since the last commit took this entry (the store adds them up).
    public var count: UInt64
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// The start of a recent payload (at most `UnknownTopics.sampleBytes`, or
    /// `discoverySampleBytes` for a Home Assistant discovery message).
    public var sample: [UInt8]
    /// A Home Assistant discovery message (`homeassistant/…/config`): it describes a device
    /// rather than being one.
    public var discovery: Bool

    public init(topic: String, count: UInt64, firstSeen: Int64, lastSeen: Int64, sample: [UInt8], discovery: Bool) {
        self.topic = topic
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.sample = sample
        self.discovery = discovery
    }

    /// Whether `topic` is a Home Assistant discovery message's.
    public static func isDiscovery(_ topic: String) -> Bool {
        topic.hasPrefix("homeassistant/") && topic.hasSuffix("/config")
    }
}

/// The unknown topics seen since the last commit, bounded: at most `limit` topics of at most
/// `maxTopicBytes`, each with a short sample, so a stranger inventing topics costs no memory.
/// When full, the topic heard least recently makes room. The store keeps the same bound.
public struct UnknownTopics {
    public static let limit = 256
    public static let maxTopicBytes = 256
    public static let sampleBytes = 512
    public static let discoverySampleBytes = 4096
    /// A topic's sample is renewed at most this often, ms.
    static let sampleRenewMillis: Int64 = 60_000

    private var entries: [String: UnknownTopic] = [:]

    public init() {}

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    public mutating func record(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, now: Int64) {
        guard topic.count <= Self.maxTopicBytes else { return }
        let name = String(decoding: topic, as: UTF8.self)
        let discovery = UnknownTopic.isDiscovery(name)
        let keep = min(payload.count, discovery ? Self.discoverySampleBytes : Self.sampleBytes)
        if var e = entries[name] {
            e.count += 1
            if now - e.lastSeen >= Self.sampleRenewMillis || e.sample.isEmpty { e.sample = Array(payload.prefix(keep)) }
            e.lastSeen = max(e.lastSeen, now)
            entries[name] = e
            return
        }
        if entries.count >= Self.limit, let oldest = entries.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
            entries[oldest] = nil
        }
        entries[name] = UnknownTopic(
            topic: name, count: 1, firstSeen: now, lastSeen: now, sample: Array(payload.prefix(keep)), discovery: discovery)
    }

    /// Everything recorded since the last call, for the commit; empties the set.
    public mutating func take() -> [UnknownTopic] {
        defer { entries.removeAll(keepingCapacity: true) }
        return entries.values.sorted { $0.topic < $1.topic }
    }
}
