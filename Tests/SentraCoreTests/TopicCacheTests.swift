import Foundation
import SentraTestSupport
import Testing

@testable import SentraCore

/// What the pipeline keeps per topic stays bounded, whatever topics a stranger makes up.
@Suite struct TopicCacheTests {
    @Test func aFloodOfDistinctBadTopicsKeepsTheCacheBounded() {
        var h = PipelineHarness()
        let long = String(repeating: "x", count: 50)
        let n = 30_000
        for i in 0..<n {
            switch i % 3 {
            // An unknown device under a valid workshop and kind (what a device account's ACL
            // pattern lets it publish to).
            case 0: h.send(topic: "sentra/w\(i)-\(long)/loom/loom-1", #"{"picks":1}"#)
            // Not a device topic at all, and long.
            case 1: h.send(topic: "sentra/" + String(repeating: "y", count: 2000) + "/\(i)", #"{"picks":1}"#)
            default: h.send(topic: "sentra/ws-1/spinner/d\(i)", #"{"picks":1}"#)
            }
        }
        #expect(h.rejected(.unknownDevice) == UInt64(n / 3))
        #expect(h.rejected(.badTopic) == UInt64(n / 3))
        #expect(h.rejected(.unknownKind) == UInt64(n / 3))
        let cache = h.pipeline.cachedTopics
        #expect(cache.resolved == 0)
        #expect(cache.rejected <= 1024)
        // At most 1024 topics of at most 256 bytes.
        #expect(cache.bytes <= 1024 * 256)

        // The device's own topics are cached (two at most: readings and status), and count.
        h.send(#"{"ts":\#(h.now - 1000),"picks":10}"#)
        h.send(#"{"ts":\#(h.now),"picks":15}"#)
        h.send(topic: "sentra/ws-1/loom/loom-1/status", "online")
        #expect(h.total(.picks) == 5)
        #expect(h.pipeline.cachedTopics.resolved == 2)
    }

    @Test func aRepeatedBadTopicIsRejectedTheSameWayFromTheCache() {
        var h = PipelineHarness()
        for _ in 0..<3 {
            h.send(topic: "sentra/ws-1/loom/nobody", #"{"picks":1}"#)
            h.send(topic: "sentra/ws-1/lathe/x", #"{"picks":1}"#)
            h.send(topic: "sentra/ws-1/loom", #"{"picks":1}"#)
            // Outside the prefix, a topic no configured device claims.
            h.send(topic: "other/ws-1/loom/loom-1", #"{"picks":1}"#)
        }
        #expect(h.rejected(.unknownDevice) == 6)
        #expect(h.rejected(.unknownKind) == 3)
        #expect(h.rejected(.badTopic) == 3)
        #expect(h.pipeline.cachedTopics.rejected == 4)
    }

    @Test func removingATopicFreesItAndTheTableCountsItsBytes() {
        var table = TopicTable<Int>()
        let topics = (0..<100).map { "sentra/t/\($0)" }
        for (i, t) in topics.enumerated() {
            var s = t
            s.withUTF8 { table[UnsafeRawBufferPointer($0)] = i }
        }
        #expect(table.count == 100)
        #expect(table.keyBytes == topics.reduce(0) { $0 + $1.utf8.count })
        var first = topics[0]
        first.withUTF8 { table[UnsafeRawBufferPointer($0)] = nil }
        #expect(table.count == 99)
        #expect(table.keyBytes == topics.dropFirst().reduce(0) { $0 + $1.utf8.count })
        var second = topics[1]
        #expect(second.withUTF8 { table[UnsafeRawBufferPointer($0)] } == 1)
        table.removeAll()
        #expect(table.count == 0 && table.keyBytes == 0)
    }
}
