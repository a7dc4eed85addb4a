import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The receive journal: every message libmosquitto hands over is copied here, in the MQTT
/// callback, before the callback returns, and stays until the commit that counted it.
///
/// Two files of the same layout. The **ring** is memory-mapped shared and lives on a tmpfs
/// (`/run/sentra` under systemd): a message written there is in the kernel's memory, which
/// outlives the process (SIGKILL, a crash), and writing to it costs no filesystem work per
/// page. The **mirror** is on disk (the state directory): a thread copies what was appended to
/// it and fdatasyncs it at most once a second, which bounds what a power loss takes. Both are
/// allocated in full when created, so a full disk (or tmpfs) is an error at start, never a
/// SIGBUS on a later write. A ring given on a disk filesystem works the same, only slower.
///
/// Positions are byte offsets that only grow; an entry at position `p` lives at ring offset
/// `p % capacity` (in both files). The ring is mapped twice, back to back, so an entry that
/// runs past the end of the ring is still one contiguous buffer. Each entry is
///
///     0  u64 stamp      position ^ identity salt: written last, marks the entry complete
///     8  u32 size       entry bytes, header included, a multiple of 8
///     12 u32 check      checksum of bytes 16 ..< 32 + topic + stored payload
///     16 i64 received   the daemon's clock, ms
///     24 u32 payload    the payload's length as received
///     28 u16 topic      the topic's length
///     30 u8  flags      1: payload too large, not kept
///     31 u8  reserved
///     32 topic bytes, payload bytes, zero padding to a multiple of 8
///
/// At open, entries from the last committed position are found again, in the ring and in the
/// mirror, by walking forward while each entry's stamp and checksum hold (an old lap's entry
/// has another stamp; a torn one fails its checksum); whichever reaches further is replayed
/// (the ring after a crash, the mirror after a reboot). Space before the committed position
/// (`release`) is reused; when the ring is full, `append` waits, so libmosquitto stops reading
/// and the broker keeps the rest.
public final class ReceiveJournal: @unchecked Sendable {
    /// The ring's file, and the mirror's (nil: the ring itself is synced).
    public let path: String
    public let mirrorPath: String?
    /// Ring bytes (each file is one header page larger).
    public let capacity: Int
    /// Random, chosen when the journal is created: a mark from another journal does not apply.
    public let identity: UInt64
    /// The largest payload kept; a larger one is journaled by its length only.
    public let maxStoredPayload: Int
    /// The committed position the journal was opened at, and the end of the entries found after
    /// it: `[replayFrom, replayEnd)` is what was received and not counted before the last stop.
    public let replayFrom: UInt64
    public private(set) var replayEnd: UInt64
    /// Messages in `[replayFrom, replayEnd)`.
    public private(set) var replayCount = 0
    /// Where the replay came from: "ring", "mirror" (after the ring was lost: a reboot), or nil.
    public private(set) var replaySource: String?
    /// Why the journal started empty although it existed, if it did (for the log).
    public let notice: String?
    /// Released pages leave this process's page tables (resident memory stays at what waits,
    /// at the price of a minor fault per page and lap); false keeps them mapped.
    public var dropsReleasedPages = true

    static let entryHeader = 32
    static let fileHeader = 4096
    static let magic: UInt64 = 0x314A_4152_544E_4553  // "SENTRAJ1", little-endian
    private static let flagTruncated: UInt8 = 1

    private let fd: Int32
    private let mirrorFD: Int32
    private let base: UnsafeMutableRawPointer
    private let mask: UInt64
    private let salt: UInt64
    private let pageSize: Int

    private let condition = NSCondition()
    private var writePos: UInt64
    private var releasedPos: UInt64
    private var readPos: UInt64
    private var closed = false
    private var consumerWaiting = false
    private var producerWaiting = false
    private var appended: UInt64 = 0
    private var consumed: UInt64 = 0
    /// Only the releasing thread touches it: pages before it are out of our page tables.
    private var droppedPos: UInt64
    private var syncThread: Thread?
    private let syncState = Mutex<(stop: Bool, synced: UInt64)>((false, 0))
    private let syncWake = NSCondition()

    typealias Pending = (topic: [UInt8], payload: [UInt8], length: Int, receivedAt: Int64)

    /// Opens the journal, creating its files (`capacity` bytes, rounded up to a power of two of
    /// at least 1 MiB) where they are missing. `mark` is what the state database says was
    /// counted: entries after it are kept for replay; without a mark, or with another journal's,
    /// the journal starts empty.
    /// - Parameters:
    ///   - path: the ring, best on a tmpfs that outlives the process (`/run/sentra`).
    ///   - mirror: its copy on disk, synced once a second; nil to sync the ring itself.
    public init(path: String, mirror: String? = nil, capacity requested: Int, resumeAt mark: JournalMark?) throws {
        self.path = path
        mirrorPath = mirror
        pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let files = try Self.openFiles(path: path, mirror: mirror)
        fd = files.ring
        mirrorFD = files.mirror
        // What each file holds past the mark, if it is this journal's.
        let found = try Self.recover(files, capacity: Self.ringCapacity(requested), mark: mark)
        let start = try found.keepsRing ? found.keptRing(from: mark!.position) : Self.newRing(files, found, mark: mark)
        capacity = start.capacity
        identity = start.identity
        base = start.base
        mask = UInt64(start.capacity - 1)
        salt = Self.salt(start.identity)
        maxStoredPayload = Self.maxPayload(start.capacity)
        replayFrom = start.from
        replayEnd = start.end
        replayCount = start.count
        replaySource = start.source
        appended = UInt64(start.count)
        writePos = start.end
        releasedPos = start.from
        readPos = start.from
        droppedPos = start.from
        notice = start.notice
        if found.keepsRing {
            // After a crash: the ring holds everything and is kept as it is; the mirror follows it.
            if mirrorFD >= 0 && found.mirrorHeader.map({ $0.identity != identity || $0.capacity != capacity }) ?? true {
                try Self.create(mirrorFD, capacity: capacity, identity: identity, path: mirror!)
            }
            syncState.withLock { $0.synced = replayFrom }
        } else {
            carryOver(found.best?.pending ?? [], source: found.best?.source)
        }
    }

    /// A new ring's start: what was pending in the old journal is written into it, as what to replay.
    private func carryOver(_ pending: [Pending], source: String?) {
        for p in pending {
            p.topic.withUnsafeBytes { t in
                p.payload.withUnsafeBytes { b in write(topic: t, payload: b, length: p.length, receivedAt: p.receivedAt) }
            }
        }
        replayEnd = writePos
        replayCount = pending.count
        replaySource = pending.isEmpty ? nil : source
        syncState.withLock { $0.synced = replayFrom }
        if !pending.isEmpty { syncOnce() }
    }

    deinit {
        stopSyncing()
        Self.unmap(base, capacity: capacity)
        Glibc.close(fd)
        if mirrorFD >= 0 { Glibc.close(mirrorFD) }
    }

    /// After a clean stop (everything committed): the ring's file is not needed until the next
    /// start, which makes it anew; removing it gives its memory back to the tmpfs.
    public func removeRing() {
        guard mirrorPath != nil, isDrained, uncommittedBytes == 0 else { return }
        unlink(path)
        // A folder of its own under /dev/shm goes too (/run/sentra belongs to systemd).
        let dir = (path as NSString).deletingLastPathComponent
        if dir.hasPrefix("/dev/shm/sentra-") { rmdir(dir) }
    }

    // MARK: Writing (the MQTT callback)

    /// Copies one message into the journal, waiting while it is full. Returns false once the
    /// journal is closed (the daemon is stopping); the message is then not kept.
    @discardableResult
    public func append(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, receivedAt: Int64) -> Bool {
        let stored = payload.count > maxStoredPayload ? 0 : payload.count
        let size = Self.entrySize(topic: min(topic.count, Int(UInt16.max)), stored: stored)
        condition.lock()
        defer { condition.unlock() }
        while !closed && Int(writePos &- releasedPos) + size > capacity {
            producerWaiting = true
            condition.wait()
            producerWaiting = false
        }
        if closed { return false }
        write(topic: topic, payload: payload, length: payload.count, receivedAt: receivedAt)
        if consumerWaiting { condition.broadcast() }
        return true
    }

    @inline(__always) static func entrySize(topic: Int, stored: Int) -> Int {
        (entryHeader + topic + stored + 7) & ~7
    }

    /// Writes an entry at `writePos` and moves it on (the caller holds the lock or is `init`).
    private func write(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, length: Int, receivedAt: Int64) {
        let tlen = min(topic.count, Int(UInt16.max))
        let stored = length > maxStoredPayload || payload.count != length ? 0 : length
        let size = Self.entrySize(topic: tlen, stored: stored)
        let p = writePos
        let o = base + Int(p & mask)
        o.storeBytes(of: UInt32(size), toByteOffset: 8, as: UInt32.self)
        o.storeBytes(of: receivedAt, toByteOffset: 16, as: Int64.self)
        o.storeBytes(of: UInt32(clamping: length), toByteOffset: 24, as: UInt32.self)
        o.storeBytes(of: UInt16(tlen), toByteOffset: 28, as: UInt16.self)
        o.storeBytes(of: stored == length ? 0 : Self.flagTruncated, toByteOffset: 30, as: UInt8.self)
        o.storeBytes(of: 0, toByteOffset: 31, as: UInt8.self)
        if tlen > 0 { (o + Self.entryHeader).copyMemory(from: topic.baseAddress!, byteCount: tlen) }
        if stored > 0 { (o + Self.entryHeader + tlen).copyMemory(from: payload.baseAddress!, byteCount: stored) }
        let used = Self.entryHeader + tlen + stored
        if size > used { (o + used).initializeMemory(as: UInt8.self, repeating: 0, count: size - used) }
        o.storeBytes(of: Self.checksum(UnsafeRawPointer(o + 16), count: used - 16), toByteOffset: 12, as: UInt32.self)
        // The stamp last: an entry whose stamp is there is complete (checked again by its checksum).
        atomicMemoryFence(ordering: .releasing)
        o.storeBytes(of: p ^ salt, toByteOffset: 0, as: UInt64.self)
        writePos = p + UInt64(size)
        appended += 1
    }

    /// Stops the producer side: `append` returns false from now on (waking one that waits for
    /// space); the reader drains what is there.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
        syncWake.lock()
        syncWake.broadcast()
        syncWake.unlock()
    }

    // MARK: Reading (the ingest thread)

    /// Hands up to `max` entries to `body`, in order, waiting until there is at least one, the
    /// journal is closed, or `deadline` passes. Returns how many it handed over. One reader.
    @discardableResult
    public func read(max: Int, deadline: Date, linger: TimeInterval = 0.0005, _ body: (JournalEntry) -> Void) -> Int {
        condition.lock()
        while writePos == readPos && !closed {
            consumerWaiting = true
            let woken = condition.wait(until: deadline)
            consumerWaiting = false
            if !woken { break }
        }
        var end = writePos
        let isClosed = closed
        condition.unlock()
        if end == readPos { return 0 }
        // Woken for a trickle: let a burst gather for a moment so one wake-up takes many.
        if end - readPos < 8192 && !isClosed && linger > 0 {
            usleep(UInt32(linger * 1_000_000))
            condition.lock()
            end = writePos
            condition.unlock()
        }
        var n = 0
        var p = readPos
        while p < end && n < max {
            let e = entry(at: p)
            body(e)
            p = e.end
            n += 1
        }
        condition.lock()
        readPos = p
        consumed += UInt64(n)
        condition.unlock()
        return n
    }

    @inline(__always) private func entry(at p: UInt64) -> JournalEntry {
        Self.entry(at: UnsafeRawPointer(base + Int(p & mask)), position: p)
    }

    /// The entry whose header is at `o`, for position `p` (no checks).
    @inline(__always) static func entry(at o: UnsafeRawPointer, position p: UInt64) -> JournalEntry {
        let size = Int(o.load(fromByteOffset: 8, as: UInt32.self))
        let length = Int(o.load(fromByteOffset: 24, as: UInt32.self))
        let tlen = Int(o.load(fromByteOffset: 28, as: UInt16.self))
        let truncated = o.load(fromByteOffset: 30, as: UInt8.self) & flagTruncated != 0
        return JournalEntry(
            topic: UnsafeRawBufferPointer(start: o + entryHeader, count: tlen),
            payload: UnsafeRawBufferPointer(start: o + entryHeader + tlen, count: truncated ? 0 : length), payloadLength: length,
            receivedAt: o.load(fromByteOffset: 16, as: Int64.self), end: p + UInt64(size))
    }

    /// The position just past the last entry read: what a commit made now has counted.
    public var readPosition: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return readPos
    }

    public var mark: JournalMark { JournalMark(journal: identity, position: readPosition) }

    /// Everything appended has been read and no more will come.
    public var isDrained: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && readPos == writePos
    }

    /// Messages received and not yet read by the ingest thread.
    public var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return Int(appended - consumed)
    }

    /// Bytes held for messages not yet counted by a commit.
    public var uncommittedBytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return Int(writePos &- releasedPos)
    }

    // MARK: Committing (the commit thread)

    /// Everything before `position` is counted in the state database: its space may be reused.
    public func release(upTo position: UInt64) {
        condition.lock()
        if position > releasedPos { releasedPos = min(position, writePos) }
        let released = releasedPos
        if producerWaiting { condition.broadcast() }
        condition.unlock()
        dropPages(upTo: released)
    }

    /// Takes released whole pages out of this process's page tables (the page cache keeps them
    /// and writes them back as usual), so the ring costs resident memory only for what waits.
    private func dropPages(upTo released: UInt64) {
        let page = UInt64(pageSize)
        let end = released / page * page
        guard dropsReleasedPages, end > droppedPos, end - droppedPos >= 256 << 10 else { return }
        var from = (droppedPos + page - 1) / page * page
        droppedPos = end
        guard end > from else { return }
        if end - from > UInt64(capacity) { from = end - UInt64(capacity) }
        while from < end {
            let off = Int(from & mask)
            let len = min(Int(end - from), capacity - off)
            madvise(base + off, len, MADV_DONTNEED)
            madvise(base + capacity + off, len, MADV_DONTNEED)
            from += UInt64(len)
        }
    }

    // MARK: Syncing

    /// Starts a thread that fdatasyncs the journal at most once per `interval` when something
    /// was appended since the last sync: a power loss takes at most about that much.
    /// `prepare` runs first on that thread (the daemon names it).
    public func startSyncing(interval: TimeInterval = 1, prepare: @escaping @Sendable () -> Void = {}) {
        precondition(syncThread == nil, "startSyncing once")
        let t = Thread { [weak self] in
            prepare()
            while let self {
                self.syncWake.lock()
                _ = self.syncWake.wait(until: Date().addingTimeInterval(interval))
                self.syncWake.unlock()
                if !self.syncOnce() { return }
            }
        }
        t.name = "sentra-journal"
        syncThread = t
        t.start()
    }

    /// One sync if needed; false once stopped. With a mirror, what was appended since the last
    /// sync is copied into it at the same offsets and the mirror is fdatasynced; the ring's own
    /// pages are never written back by us (on a tmpfs they have nowhere to go).
    @discardableResult
    private func syncOnce() -> Bool {
        condition.lock()
        let w = writePos
        let isClosed = closed
        condition.unlock()
        let (stop, synced) = syncState.withLock { ($0.stop, $0.synced) }
        if w != synced {
            if mirrorFD >= 0 {
                var from = max(synced, w > UInt64(capacity) ? w - UInt64(capacity) : 0)
                while from < w {
                    let off = Int(from & mask)
                    let len = min(Int(w - from), capacity - off)
                    copyToMirror(offset: off, count: len)
                    from += UInt64(len)
                }
                _ = fdatasync(mirrorFD)
            } else {
                _ = fdatasync(fd)
            }
            syncState.withLock { $0.synced = w }
        }
        return !stop && !isClosed
    }

    /// Copies `count` bytes at ring offset `offset` into the mirror at the same place, file to
    /// file in the kernel (`sendfile`): reading them through the mapping would map the pages
    /// the commit thread already dropped back into this process, and they would stay resident.
    private func copyToMirror(offset: Int, count: Int) {
        var done = 0
        while done < count {
            var source = off_t(Self.fileHeader + offset + done)
            guard lseek(mirrorFD, source, SEEK_SET) >= 0 else { return }
            var n = sendfile(mirrorFD, fd, &source, count - done)
            if n <= 0 {  // no sendfile between these files: through the mapping
                n = pwrite(mirrorFD, base + offset + done, count - done, off_t(Self.fileHeader + offset + done))
                if n <= 0 { return }
            }
            done += n
        }
    }

    /// Syncs what was appended and stops the sync thread.
    public func stopSyncing() {
        syncState.withLock { $0.stop = true }
        syncWake.lock()
        syncWake.broadcast()
        syncWake.unlock()
        syncOnce()
    }

    /// A fast 32-bit checksum (64-bit multiply-xorshift over 8-byte words): it catches a torn
    /// or stale entry after a power loss, not an adversary.
    @inline(__always) static func checksum(_ p: UnsafeRawPointer, count: Int) -> UInt32 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(count)
        var i = 0
        while i + 8 <= count {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < count {
                tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
            h ^= h >> 32
        }
        h = (h ^ (h >> 29)) &* 0x9E37_79B9_7F4A_7C15
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }
}
