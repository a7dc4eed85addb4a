import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How far a journal has been counted: the journal's identity and a byte position in it.
/// The daemon commits this in the same SQLite transaction as the counts it produced.
public struct JournalMark: Sendable, Equatable, CustomStringConvertible {
    public var journal: UInt64
    public var position: UInt64

    public init(journal: UInt64, position: UInt64) {
        self.journal = journal
        self.position = position
    }

    /// `identity:position`, the identity in hex.
    public var description: String { "\(String(journal, radix: 16)):\(position)" }

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let j = UInt64(parts[0], radix: 16), let p = UInt64(parts[1]) else { return nil }
        self.init(journal: j, position: p)
    }
}

public struct JournalError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ operation: String, _ path: String, errno e: Int32) {
        description = "receive journal \(path): \(operation): \(String(cString: strerror(e)))"
    }
    init(_ message: String) { description = message }
}

/// One message as the journal holds it. The buffers point into the journal's memory and are
/// valid only during the `read` callback.
public struct JournalEntry {
    public var topic: UnsafeRawBufferPointer
    public var payload: UnsafeRawBufferPointer
    /// The payload's length as received; larger than `payload.count` when it was too large to
    /// keep (`truncated`), so the reader can reject it for its size.
    public var payloadLength: Int
    public var truncated: Bool { payloadLength != payload.count }
    /// The daemon's clock when the message arrived, ms since the epoch.
    public var receivedAt: Int64
    /// The journal position just past this entry.
    public var end: UInt64
}

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

    private typealias Pending = (topic: [UInt8], payload: [UInt8], length: Int, receivedAt: Int64)

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
        var cap = 1 << 20
        while cap < requested && cap < 1 << 40 { cap <<= 1 }

        let fd = try Self.openFile(path)
        self.fd = fd
        var mfd: Int32 = -1
        if let mirror {
            do { mfd = try Self.openFile(mirror) } catch {
                Glibc.close(fd)
                throw error
            }
        }
        mirrorFD = mfd

        // What each file holds past the mark, if it is this journal's.
        let ringHeader = Self.header(fd)
        let mirrorHeader = mfd >= 0 ? Self.header(mfd) : nil
        var notice: String?
        var best: (source: String, identity: UInt64, end: UInt64, pending: [Pending])?
        var ringMapped: (base: UnsafeMutableRawPointer, end: UInt64, count: Int)?
        if let mark {
            for (name, file, h) in [("ring", fd, ringHeader), ("mirror", mfd, mirrorHeader)] {
                guard let h, h.identity == mark.journal else { continue }
                let mapped = try Self.map(fd: file, capacity: h.capacity, path: name == "ring" ? path : mirror!)
                let scan = Self.scan(base: mapped, capacity: h.capacity, salt: Self.salt(h.identity), from: mark.position)
                if best == nil || scan.end > best!.end {
                    best = (name, h.identity, scan.end, [])
                    // The ring as it is serves directly; anything else is copied over.
                    if !(name == "ring" && h.capacity == cap) {
                        best!.pending = scan.entries.map { ($0.topic.map { $0 }, $0.payload.map { $0 }, $0.payloadLength, $0.receivedAt) }
                    }
                }
                if name == "ring" && h.capacity == cap {
                    ringMapped = (mapped, scan.end, scan.entries.count)
                } else {
                    Self.unmap(mapped, capacity: h.capacity)
                }
            }
            if best == nil {
                notice =
                    ringHeader != nil || mirrorHeader != nil
                    ? "the journal is not the one the state database last counted from; starting it anew"
                    : "the journal the state database counted from is missing; starting it anew"
            }
        } else if ringHeader != nil || mirrorHeader != nil {
            notice = "the state database has no journal position (a new database); starting the journal anew"
        }

        if let best, best.source == "ring", let r = ringMapped {
            // After a crash: the ring holds everything; keep it as it is.
            capacity = cap
            identity = best.identity
            base = r.base
            mask = UInt64(cap - 1)
            salt = Self.salt(identity)
            maxStoredPayload = Self.maxPayload(cap)
            replayFrom = mark!.position
            replayEnd = r.end
            replayCount = r.count
            replaySource = r.count > 0 ? "ring" : nil
            appended = UInt64(r.count)
            writePos = r.end
            releasedPos = replayFrom
            readPos = replayFrom
            droppedPos = replayFrom
            self.notice = nil
            if mfd >= 0 && mirrorHeader.map({ $0.identity != identity || $0.capacity != cap }) ?? true {
                try Self.create(mfd, capacity: cap, identity: identity, path: mirror!)
            }
            syncState.withLock { $0.synced = replayFrom }
            return
        }
        if let r = ringMapped { Self.unmap(r.base, capacity: cap) }

        // A new ring (and mirror), allocated in full now; what was pending is carried over.
        let pending = best?.pending ?? []
        let bytes = pending.reduce(0) { $0 + Self.entrySize(topic: $1.topic.count, stored: $1.payload.count) }
        while cap < bytes * 2 { cap <<= 1 }
        var id = best?.identity ?? 0
        while id == 0 { id = UInt64.random(in: 1...UInt64.max) }
        try Self.create(fd, capacity: cap, identity: id, path: path)
        if mfd >= 0 { try Self.create(mfd, capacity: cap, identity: id, path: mirror!) }
        let start = best != nil ? mark!.position : 0
        capacity = cap
        identity = id
        base = try Self.map(fd: fd, capacity: cap, path: path)
        mask = UInt64(cap - 1)
        salt = Self.salt(id)
        maxStoredPayload = Self.maxPayload(cap)
        replayFrom = start
        replayEnd = start
        writePos = start
        releasedPos = start
        readPos = start
        droppedPos = start
        self.notice = notice
        for p in pending {
            p.topic.withUnsafeBytes { t in
                p.payload.withUnsafeBytes { b in write(topic: t, payload: b, length: p.length, receivedAt: p.receivedAt) }
            }
        }
        replayEnd = writePos
        replayCount = pending.count
        replaySource = pending.isEmpty ? nil : best?.source
        syncState.withLock { $0.synced = start }
        if !pending.isEmpty { syncOnce() }
    }

    private static func openFile(_ path: String) throws -> Int32 {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError("open", path, errno: errno) }
        return fd
    }

    /// The file's header, if it is a journal of a sane size that is all there.
    private static func header(_ fd: Int32) -> (capacity: Int, identity: UInt64)? {
        var header = [UInt64](repeating: 0, count: 4)
        let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 32, 0) }
        guard n == 32, header[0] == magic, header[1] >= 1 << 20, header[1] <= 1 << 40, header[1].nonzeroBitCount == 1, header[2] != 0
        else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) >= fileHeader + Int(header[1]) else { return nil }
        return (Int(header[1]), header[2])
    }

    /// Empties the file and allocates it in full with a new header.
    private static func create(_ fd: Int32, capacity: Int, identity: UInt64, path: String) throws {
        guard ftruncate(fd, 0) == 0 else { throw JournalError("truncate", path, errno: errno) }
        let rc = posix_fallocate(fd, 0, off_t(fileHeader + capacity))
        guard rc == 0 else {
            throw JournalError("allocating \(fileHeader + capacity) bytes (ingest.journal_bytes)", path, errno: rc)
        }
        let header: [UInt64] = [magic, UInt64(capacity), identity, 0]
        let w = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, 32, 0) }
        guard w == 32 else { throw JournalError("writing the header", path, errno: errno) }
        guard fsync(fd) == 0 else { throw JournalError("fsync", path, errno: errno) }
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

    private static func maxPayload(_ cap: Int) -> Int { min(1 << 20, cap / 4) }

    private static func salt(_ identity: UInt64) -> UInt64 { identity &* 0x9E37_79B9_7F4A_7C15 | 1 }

    /// The ring, mapped twice back to back.
    private static func map(fd: Int32, capacity: Int, path: String) throws -> UnsafeMutableRawPointer {
        guard let reserve = mmap(nil, 2 * capacity, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
            reserve != MAP_FAILED
        else { throw JournalError("reserving address space", path, errno: errno) }
        for half in 0..<2 {
            let at = reserve + half * capacity
            let m = mmap(at, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off_t(fileHeader))
            guard m == at else {
                let e = errno
                munmap(reserve, 2 * capacity)
                throw JournalError("mapping", path, errno: e)
            }
        }
        return reserve
    }

    private static func unmap(_ base: UnsafeMutableRawPointer, capacity: Int) {
        munmap(base, 2 * capacity)
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

    @inline(__always) private static func entrySize(topic: Int, stored: Int) -> Int {
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
    @inline(__always) private static func entry(at o: UnsafeRawPointer, position p: UInt64) -> JournalEntry {
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
    public func startSyncing(interval: TimeInterval = 1) {
        precondition(syncThread == nil, "startSyncing once")
        let t = Thread { [weak self] in
            while let self {
                self.syncWake.lock()
                _ = self.syncWake.wait(until: Date().addingTimeInterval(interval))
                self.syncWake.unlock()
                if !self.syncOnce() { return }
            }
        }
        t.name = "sentra-journal-sync"
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
                    var done = 0
                    while done < len {
                        let n = pwrite(mirrorFD, base + off + done, len - done, off_t(Self.fileHeader + off + done))
                        if n <= 0 { break }
                        done += n
                    }
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

    /// Syncs what was appended and stops the sync thread.
    public func stopSyncing() {
        syncState.withLock { $0.stop = true }
        syncWake.lock()
        syncWake.broadcast()
        syncWake.unlock()
        syncOnce()
    }

    // MARK: Recovery

    /// Walks entries from `from` while each one is complete and belongs to this lap.
    private static func scan(
        base: UnsafeMutableRawPointer, capacity: Int, salt: UInt64, from: UInt64
    )
        -> (end: UInt64, entries: [JournalEntry])
    {
        let mask = UInt64(capacity - 1)
        var p = from
        var entries: [JournalEntry] = []
        while p - from < UInt64(capacity) {
            let o = UnsafeRawPointer(base + Int(p & mask))
            guard o.load(as: UInt64.self) == p ^ salt else { break }
            let e = entry(at: o, position: p)
            let size = Int(e.end - p)
            guard size % 8 == 0, size >= entryHeader, size <= capacity, entrySize(topic: e.topic.count, stored: e.payload.count) == size,
                p - from + UInt64(size) <= UInt64(capacity),
                o.load(fromByteOffset: 12, as: UInt32.self) == checksum(o + 16, count: entryHeader + e.topic.count + e.payload.count - 16)
            else { break }
            entries.append(e)
            p += UInt64(size)
        }
        return (p, entries)
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
