import Foundation
import SentraJournal
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The receive journal on a real file: order, recovery from a mark, the ring's wrap, a full
/// ring's back-pressure, and what a torn entry or a foreign mark does at open.
@Suite struct ReceiveJournalTests {
    struct Message: Equatable {
        var topic: String
        var payload: [UInt8]
        var length: Int
        var receivedAt: Int64
    }

    static func tempPath() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-journal-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("receive.journal").path
    }

    static func append(_ j: ReceiveJournal, _ topic: String, _ payload: [UInt8], at t: Int64) -> Bool {
        Array(topic.utf8).withUnsafeBytes { tb in payload.withUnsafeBytes { pb in j.append(topic: tb, payload: pb, receivedAt: t) } }
    }

    static func payload(_ i: Int, size: Int? = nil) -> [UInt8] {
        let text = "{\"ts\":\(1_764_000_000_000 + i),\"picks\":\(i)}"
        var bytes = Array(text.utf8)
        if let size { bytes += [UInt8](repeating: UInt8(ascii: " "), count: max(0, size - bytes.count)) }
        return bytes
    }

    /// Reads everything there is now (without waiting).
    static func drain(_ j: ReceiveJournal) -> [Message] {
        var out: [Message] = []
        while j.read(
            max: 1000, deadline: Date(), linger: 0,
            { e in
                out.append(
                    Message(
                        topic: String(decoding: e.topic, as: UTF8.self), payload: Array(e.payload), length: e.payloadLength,
                        receivedAt: e.receivedAt))
            }) > 0
        {}
        return out
    }

    @Test func messagesComeBackInOrderWithTheirReceiveTimes() throws {
        let j = try ReceiveJournal(path: Self.tempPath(), capacity: 1 << 20, resumeAt: nil)
        var sent: [Message] = []
        for i in 0..<500 {
            let m = Message(
                topic: "sentra/ws-\(i % 7)/loom/loom-\(i % 13)", payload: Self.payload(i), length: 0, receivedAt: 1000 + Int64(i))
            #expect(Self.append(j, m.topic, m.payload, at: m.receivedAt))
            sent.append(Message(topic: m.topic, payload: m.payload, length: m.payload.count, receivedAt: m.receivedAt))
        }
        #expect(j.depth == 500)
        #expect(Self.drain(j) == sent)
        #expect(j.depth == 0)
    }

    @Test func aReopenedJournalReplaysWhatCameAfterTheCommittedMark() throws {
        let path = Self.tempPath()
        var mark: JournalMark
        var expected: [Message] = []
        do {
            let j = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: nil)
            for i in 0..<100 { _ = Self.append(j, "sentra/a/loom/l1", Self.payload(i), at: Int64(i)) }
            _ = Self.drain(j)
            mark = j.mark  // counted up to here
            j.release(upTo: mark.position)
            for i in 100..<130 {
                _ = Self.append(j, "sentra/a/loom/l1", Self.payload(i), at: Int64(i))
                expected.append(
                    Message(topic: "sentra/a/loom/l1", payload: Self.payload(i), length: Self.payload(i).count, receivedAt: Int64(i)))
            }
            // Read but not committed: a crash now must bring these back.
            _ = Self.drain(j)
        }
        let again = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: mark)
        #expect(again.notice == nil)
        #expect(again.identity == mark.journal)
        #expect(again.replayFrom == mark.position)
        #expect(again.replayCount == expected.count && again.depth == expected.count)
        #expect(Self.drain(again) == expected)
        #expect(again.depth == 0)
        #expect(again.readPosition == again.replayEnd)
        // New messages go after the replayed ones.
        _ = Self.append(again, "sentra/a/loom/l1", Self.payload(999), at: 999)
        #expect(Self.drain(again).map(\.receivedAt) == [999])
    }

    @Test func entriesAcrossTheEndOfTheRingStayWholeAndRecover() throws {
        let path = Self.tempPath()
        let j = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: nil)
        // 3.5 laps of odd-sized entries, committed as they go.
        var i = 0
        var lastMark = j.mark
        var tail: [Message] = []
        while j.mark.position < UInt64(j.capacity) * 7 / 2 {
            let p = Self.payload(i, size: 300 + (i * 37) % 900)
            #expect(Self.append(j, "sentra/w/power/pm-\(i % 3)", p, at: Int64(i)))
            let got = Self.drain(j)
            #expect(got.count == 1 && got.first?.payload == p)
            if i % 10 == 0 {
                lastMark = j.mark
                j.release(upTo: lastMark.position)
                tail = []
            } else {
                tail.append(Message(topic: "sentra/w/power/pm-\(i % 3)", payload: p, length: p.count, receivedAt: Int64(i)))
            }
            i += 1
        }
        let again = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: lastMark)
        #expect(Self.drain(again) == tail)
    }

    @Test func aFullJournalMakesTheProducerWaitUntilACommitFreesSpace() async throws {
        let j = try ReceiveJournal(path: Self.tempPath(), capacity: 1 << 20, resumeAt: nil)
        let p = Self.payload(0, size: 4000)
        var n = 0
        while j.uncommittedBytes + 4096 + 64 <= j.capacity {
            #expect(Self.append(j, "sentra/w/loom/l", p, at: 0))
            n += 1
        }
        #expect(n > 200)
        let done = DispatchSemaphore(value: 0)
        let t = Thread {
            _ = Self.append(j, "sentra/w/loom/l", p, at: 1)
            done.signal()
        }
        t.start()
        // Still waiting: nothing was released (a wrong journal would have overwritten entry 0).
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut)
        _ = j.read(max: 10, deadline: Date(), linger: 0) { _ in }
        j.release(upTo: j.readPosition)
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(j.depth == n + 1 - 10)
    }

    @Test func closingWakesAWaitingProducerAndTheReaderDrains() throws {
        let j = try ReceiveJournal(path: Self.tempPath(), capacity: 1 << 20, resumeAt: nil)
        let p = Self.payload(0, size: 8000)
        while j.uncommittedBytes + 8192 <= j.capacity { _ = Self.append(j, "t", p, at: 0) }
        let result = Mutex(Bool?.none)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let ok = Self.append(j, "t", p, at: 0)
            result.withLock { $0 = ok }
            done.signal()
        }.start()
        j.close()
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(result.withLock { $0 } == false)
        #expect(!j.isDrained)
        _ = Self.drain(j)
        #expect(j.isDrained)
        #expect(!Self.append(j, "t", p, at: 0))
    }

    @Test func aTornEntryEndsTheReplay() throws {
        let path = Self.tempPath()
        var mark: JournalMark
        do {
            let j = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: nil)
            mark = j.mark
            for i in 0..<10 { _ = Self.append(j, "sentra/a/water/wm", Self.payload(i), at: Int64(i)) }
            j.stopSyncing()
        }
        // Damage one byte of the 7th entry's payload, as a power loss might leave it.
        let fd = open(path, O_RDWR)
        defer { close(fd) }
        let entry = (32 + "sentra/a/water/wm".utf8.count + Self.payload(0).count + 7) & ~7
        var byte: UInt8 = 0x7A
        #expect(pwrite(fd, &byte, 1, off_t(4096 + 6 * entry + 60)) == 1)
        let again = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: mark)
        #expect(Self.drain(again).map(\.receivedAt) == [0, 1, 2, 3, 4, 5])
    }

    @Test func aMarkOfAnotherJournalStartsItAnew() throws {
        let path = Self.tempPath()
        do {
            let j = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: nil)
            _ = Self.append(j, "t", [1, 2, 3], at: 1)
        }
        let j = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: JournalMark(journal: 42, position: 0))
        #expect(j.notice != nil)
        #expect(Self.drain(j).isEmpty)
        let fresh = try ReceiveJournal(path: Self.tempPath(), capacity: 1 << 20, resumeAt: JournalMark(journal: 42, position: 0))
        #expect(fresh.notice?.contains("missing") == true)
    }

    @Test func aPayloadTooLargeToKeepIsJournaledByItsLength() throws {
        let j = try ReceiveJournal(path: Self.tempPath(), capacity: 1 << 20, resumeAt: nil)
        let big = [UInt8](repeating: 65, count: j.maxStoredPayload + 1)
        #expect(Self.append(j, "sentra/a/loom/l", big, at: 5))
        _ = j.read(max: 10, deadline: Date(), linger: 0) { e in
            #expect(e.truncated)
            #expect(e.payloadLength == big.count)
            #expect(e.payload.isEmpty)
        }
    }

    @Test func aNewSizeCarriesPendingMessagesOver() throws {
        let path = Self.tempPath()
        var mark: JournalMark
        do {
            let j = try ReceiveJournal(path: path, capacity: 1 << 20, resumeAt: nil)
            _ = Self.append(j, "t", Self.payload(1), at: 1)
            _ = Self.drain(j)
            mark = j.mark
            for i in 2..<6 { _ = Self.append(j, "t", Self.payload(i), at: Int64(i)) }
        }
        let bigger = try ReceiveJournal(path: path, capacity: 4 << 20, resumeAt: mark)
        #expect(bigger.capacity == 4 << 20)
        #expect(bigger.identity == mark.journal)
        #expect(Self.drain(bigger).map(\.receivedAt) == [2, 3, 4, 5])
        let mark2 = bigger.mark
        let again = try ReceiveJournal(path: path, capacity: 4 << 20, resumeAt: mark2)
        #expect(again.notice == nil && Self.drain(again).isEmpty)
    }

    /// A reboot empties the tmpfs: the ring is gone, and its copy on disk (synced once a
    /// second) is replayed instead, up to its last sync: what a power loss can take.
    @Test func aLostRingIsReplacedByItsMirrorUpToItsLastSync() throws {
        let ring = Self.tempPath()
        let mirror = Self.tempPath()
        var mark: JournalMark
        do {
            let j = try ReceiveJournal(path: ring, mirror: mirror, capacity: 1 << 20, resumeAt: nil)
            mark = j.mark
            for i in 0..<5 { _ = Self.append(j, "sentra/a/loom/l1", Self.payload(i), at: Int64(i)) }
            j.stopSyncing()  // synced
            for i in 5..<8 { _ = Self.append(j, "sentra/a/loom/l1", Self.payload(i), at: Int64(i)) }
        }
        // A crash: the ring has all eight.
        do {
            let j = try ReceiveJournal(path: ring, mirror: mirror, capacity: 1 << 20, resumeAt: mark)
            #expect(j.replaySource == "ring")
            #expect(Self.drain(j).map(\.receivedAt) == Array(0..<8))
        }
        // A power loss after the first sync: the ring's tmpfs is empty, the mirror has five.
        let ring2 = Self.tempPath()
        let mirror2 = Self.tempPath()
        // (Kept alive to the end: its deinit would sync the last three, which a power cut does not.)
        let lost = try ReceiveJournal(path: ring2, mirror: mirror2, capacity: 1 << 20, resumeAt: nil)
        mark = lost.mark
        for i in 0..<5 { _ = Self.append(lost, "sentra/a/loom/l1", Self.payload(i), at: Int64(i)) }
        lost.stopSyncing()
        for i in 5..<8 { _ = Self.append(lost, "sentra/a/loom/l1", Self.payload(i), at: Int64(i)) }
        #expect(unlink(ring2) == 0)
        let j = try ReceiveJournal(path: ring2, mirror: mirror2, capacity: 1 << 20, resumeAt: mark)
        #expect(j.replaySource == "mirror")
        #expect(j.notice == nil)
        #expect(Self.drain(j).map(\.receivedAt) == Array(0..<5))
        // The recovered journal goes on under the same identity, and its mirror with it.
        let next = j.mark
        _ = Self.append(j, "t", [1], at: 99)
        j.stopSyncing()
        #expect(unlink(ring2) == 0)
        let again = try ReceiveJournal(path: ring2, mirror: mirror2, capacity: 1 << 20, resumeAt: next)
        #expect(Self.drain(again).map(\.receivedAt) == [99])
        withExtendedLifetime(lost) {}
    }

    /// After a clean stop the ring's file is removed (its tmpfs memory comes back).
    @Test func aCleanStopRemovesTheRingOnly() throws {
        let ring = Self.tempPath()
        let mirror = Self.tempPath()
        let j = try ReceiveJournal(path: ring, mirror: mirror, capacity: 1 << 20, resumeAt: nil)
        _ = Self.append(j, "t", [1, 2], at: 1)
        j.close()
        j.removeRing()
        #expect(FileManager.default.fileExists(atPath: ring), "not yet: a message is not counted")
        _ = Self.drain(j)
        j.release(upTo: j.readPosition)
        j.removeRing()
        #expect(!FileManager.default.fileExists(atPath: ring))
        #expect(FileManager.default.fileExists(atPath: mirror))
    }
}
