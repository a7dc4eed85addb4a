#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A table keyed by a topic's bytes, looked up without making a `String`: the ingest thread
/// reads topics straight out of the receive journal, and a known topic then costs one hash and
/// one comparison, no allocation. Keys are copied once, when first inserted, and freed when
/// removed. The table bounds nothing itself: its owner decides what goes in (docs/protocol.md,
/// "What a stranger can cost").
public struct TopicTable<Value> {
    private final class Storage {
        var map: [Key: Value] = [:]
        var bytes = 0
        deinit { for k in map.keys { k.free() } }
    }

    /// Bytes somewhere: the table's own copy, or the caller's buffer during a lookup.
    private struct Key: Hashable {
        let bytes: UnsafeRawBufferPointer
        func hash(into h: inout Hasher) { h.combine(bytes: bytes) }
        static func == (a: Key, b: Key) -> Bool {
            a.bytes.count == b.bytes.count && (a.bytes.count == 0 || memcmp(a.bytes.baseAddress!, b.bytes.baseAddress!, a.bytes.count) == 0)
        }
        /// A key the table copied (never a caller's buffer).
        func free() { bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0).deallocate() } }
    }

    private var storage = Storage()

    public init() {}

    /// How many topics the table holds.
    public var count: Int { storage.map.count }
    /// The bytes of the topics it holds (its own copies).
    public var keyBytes: Int { storage.bytes }

    public subscript(topic: UnsafeRawBufferPointer) -> Value? {
        get { storage.map[Key(bytes: topic)] }
        set {
            if let i = storage.map.index(forKey: Key(bytes: topic)) {
                let stored = storage.map[i].key
                if let v = newValue {
                    storage.map.values[i] = v
                } else {
                    storage.map.remove(at: i)
                    storage.bytes -= stored.bytes.count
                    stored.free()
                }
                return
            }
            guard let v = newValue else { return }
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, topic.count), alignment: 1)
            if topic.count > 0 { copy.baseAddress!.copyMemory(from: topic.baseAddress!, byteCount: topic.count) }
            storage.map[Key(bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(copy)[0..<topic.count]))] = v
            storage.bytes += topic.count
        }
    }

    /// Empties the table, freeing its copies of the topics.
    public mutating func removeAll() { storage = Storage() }
}
