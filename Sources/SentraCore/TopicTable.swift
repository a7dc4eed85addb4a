/// A table keyed by a topic's bytes, looked up without making a `String`: the ingest thread
/// reads topics straight out of the receive journal, and a known topic then costs one hash and
/// one comparison, no allocation. Keys are copied once, when first inserted.
public struct TopicTable<Value> {
    private final class Storage {
        var map: [Key: Value] = [:]
        var owned: [UnsafeMutableRawBufferPointer] = []
        deinit { for b in owned { b.deallocate() } }
    }

    /// Bytes somewhere: the table's own copy, or the caller's buffer during a lookup.
    private struct Key: Hashable {
        let bytes: UnsafeRawBufferPointer
        func hash(into h: inout Hasher) { h.combine(bytes: bytes) }
        static func == (a: Key, b: Key) -> Bool {
            a.bytes.count == b.bytes.count && (a.bytes.count == 0 || memcmp(a.bytes.baseAddress!, b.bytes.baseAddress!, a.bytes.count) == 0)
        }
    }

    private var storage = Storage()

    public init() {}

    public var count: Int { storage.map.count }

    public subscript(topic: UnsafeRawBufferPointer) -> Value? {
        get { storage.map[Key(bytes: topic)] }
        set {
            if let v = newValue {
                if storage.map[Key(bytes: topic)] != nil {
                    storage.map[Key(bytes: topic)] = v
                    return
                }
                let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, topic.count), alignment: 1)
                if topic.count > 0 { copy.baseAddress!.copyMemory(from: topic.baseAddress!, byteCount: topic.count) }
                storage.owned.append(copy)
                storage.map[Key(bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(copy)[0..<topic.count]))] = v
            } else {
                storage.map[Key(bytes: topic)] = nil
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
