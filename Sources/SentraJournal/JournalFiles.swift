import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension ReceiveJournal {
    // MARK: Opening

    /// The journal's two files, open.
    struct Files {
        var ring: Int32
        /// -1: no mirror.
        var mirror: Int32
        var ringPath: String
        var mirrorPath: String?
    }

    /// What the files held past the committed position when the journal was opened.
    struct Recovery {
        typealias Header = (capacity: Int, identity: UInt64)
        /// The ring's size asked for, rounded.
        var capacity: Int
        var ringHeader: Header?
        var mirrorHeader: Header?
        /// The file whose entries past the mark reach furthest; its entries when they must be
        /// copied into a new ring.
        var best: (source: String, identity: UInt64, end: UInt64, pending: [Pending])?
        /// The ring, mapped, when it is this journal's at the size asked for.
        var ringMapped: (base: UnsafeMutableRawPointer, end: UInt64, count: Int)?
        var notice: String?

        /// The ring as it is holds the furthest entries (after a crash): it serves directly.
        var keepsRing: Bool { best?.source == "ring" && ringMapped != nil }

        /// Looks at one file that is this journal's: walks its entries from `position`.
        mutating func consider(_ name: String, file: Int32, header h: Header, path: String, from position: UInt64) throws {
            let mapped = try ReceiveJournal.map(fd: file, capacity: h.capacity, path: path)
            let scan = ReceiveJournal.scan(base: mapped, capacity: h.capacity, salt: ReceiveJournal.salt(h.identity), from: position)
            if best == nil || scan.end > best!.end {
                best = (name, h.identity, scan.end, [])
                // The ring as it is serves directly; anything else is copied over.
                if !(name == "ring" && h.capacity == capacity) {
                    best!.pending = scan.entries.map { ($0.topic.map { $0 }, $0.payload.map { $0 }, $0.payloadLength, $0.receivedAt) }
                }
            }
            if name == "ring" && h.capacity == capacity {
                ringMapped = (mapped, scan.end, scan.entries.count)
            } else {
                ReceiveJournal.unmap(mapped, capacity: h.capacity)
            }
        }

        /// The start of a journal that keeps its ring (`keepsRing`).
        func keptRing(from position: UInt64) -> Start {
            let r = ringMapped!
            return Start(
                capacity: capacity, identity: best!.identity, base: r.base, from: position, end: r.end, count: r.count,
                source: r.count > 0 ? "ring" : nil, notice: nil)
        }
    }

    /// Where the journal starts: its ring, mapped, and what it holds to replay.
    struct Start {
        var capacity: Int
        var identity: UInt64
        var base: UnsafeMutableRawPointer
        var from: UInt64
        var end: UInt64
        var count: Int
        var source: String?
        var notice: String?
    }

    /// The ring's size: a power of two of at least 1 MiB (and at most 1 TiB) holding `requested`.
    static func ringCapacity(_ requested: Int) -> Int {
        var cap = 1 << 20
        while cap < requested && cap < 1 << 40 { cap <<= 1 }
        return cap
    }

    static func openFiles(path: String, mirror: String?) throws -> Files {
        let fd = try openFile(path)
        var mfd: Int32 = -1
        if let mirror {
            do { mfd = try openFile(mirror) } catch {
                Glibc.close(fd)
                throw error
            }
        }
        return Files(ring: fd, mirror: mfd, ringPath: path, mirrorPath: mirror)
    }

    /// Reads both files' headers and, with a mark of this journal, finds the entries after it.
    static func recover(_ files: Files, capacity: Int, mark: JournalMark?) throws -> Recovery {
        var found = Recovery(
            capacity: capacity, ringHeader: header(files.ring), mirrorHeader: files.mirror >= 0 ? header(files.mirror) : nil)
        let anyJournal = found.ringHeader != nil || found.mirrorHeader != nil
        guard let mark else {
            if anyJournal { found.notice = "the state database has no journal position (a new database); starting the journal anew" }
            return found
        }
        for (name, file, h) in [("ring", files.ring, found.ringHeader), ("mirror", files.mirror, found.mirrorHeader)] {
            guard let h, h.identity == mark.journal else { continue }
            try found.consider(name, file: file, header: h, path: name == "ring" ? files.ringPath : files.mirrorPath!, from: mark.position)
        }
        if found.best == nil {
            found.notice =
                anyJournal
                ? "the journal is not the one the state database last counted from; starting it anew"
                : "the journal the state database counted from is missing; starting it anew"
        }
        return found
    }

    /// A new ring (and mirror), allocated in full now, large enough for what was pending.
    static func newRing(_ files: Files, _ found: Recovery, mark: JournalMark?) throws -> Start {
        if let r = found.ringMapped { unmap(r.base, capacity: found.capacity) }
        var cap = found.capacity
        let pending = found.best?.pending ?? []
        let bytes = pending.reduce(0) { $0 + entrySize(topic: $1.topic.count, stored: $1.payload.count) }
        while cap < bytes * 2 { cap <<= 1 }
        var id = found.best?.identity ?? 0
        while id == 0 { id = UInt64.random(in: 1...UInt64.max) }
        try create(files.ring, capacity: cap, identity: id, path: files.ringPath)
        if files.mirror >= 0 { try create(files.mirror, capacity: cap, identity: id, path: files.mirrorPath!) }
        let start = found.best != nil ? mark!.position : 0
        let base = try map(fd: files.ring, capacity: cap, path: files.ringPath)
        return Start(capacity: cap, identity: id, base: base, from: start, end: start, count: 0, source: nil, notice: found.notice)
    }

    static func openFile(_ path: String) throws -> Int32 {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError("open", path, errno: errno) }
        return fd
    }

    /// The file's header, if it is a journal of a sane size that is all there.
    static func header(_ fd: Int32) -> (capacity: Int, identity: UInt64)? {
        var header = [UInt64](repeating: 0, count: 4)
        let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 32, 0) }
        guard n == 32, header[0] == magic, header[1] >= 1 << 20, header[1] <= 1 << 40, header[1].nonzeroBitCount == 1, header[2] != 0
        else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) >= fileHeader + Int(header[1]) else { return nil }
        return (Int(header[1]), header[2])
    }

    /// Empties the file and allocates it in full with a new header.
    static func create(_ fd: Int32, capacity: Int, identity: UInt64, path: String) throws {
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

    static func maxPayload(_ cap: Int) -> Int { min(1 << 20, cap / 4) }

    static func salt(_ identity: UInt64) -> UInt64 { identity &* 0x9E37_79B9_7F4A_7C15 | 1 }

    /// The ring, mapped twice back to back.
    static func map(fd: Int32, capacity: Int, path: String) throws -> UnsafeMutableRawPointer {
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

    static func unmap(_ base: UnsafeMutableRawPointer, capacity: Int) {
        munmap(base, 2 * capacity)
    }

    // MARK: Recovery

    /// Walks entries from `from` while each one is complete and belongs to this lap.
    static func scan(
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
}
