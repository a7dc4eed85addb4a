import Foundation
import Logging
import SentraCore
import SentraLocale
import SentraWire
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed file operation on the alert log, with the path and the system's reason.
public struct AlertLogError: Error, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32
    public var description: String { "alert log: \(operation) \(path): \(String(cString: strerror(errno)))" }
}

/// The alert log (docs/alerts.md): `alerts.jsonl`, one JSON line per event, each written whole
/// with one write(2) and fsync'd before `append` returns (so before any plugin sees it).
///
/// Rotation: when the next line would take the file past `maxFileBytes`, `alerts.jsonl` is
/// renamed to `alerts.jsonl.<first seq>` (the seq of its first line, zero-padded to 12 digits
/// so a plain `ls` sorts them) and a new `alerts.jsonl` is begun; `tail -F` follows the name.
/// A rotated file is deleted once every plugin's cursor is past its last line (the newest
/// rotated file is always kept), and, whatever the cursors, once the rotated files together
/// exceed `maxKeptBytes`; then the plugin that still needed it gets a `plugin_fell_behind`
/// alert. `seq` continues across rotation, `reopen()` and restarts: it is recovered from
/// the last line on disk at open.
///
/// Thread-safe: the ingest thread and the plugin host append concurrently.
public final class AlertLog: Sendable {
    public struct Settings: Sendable {
        public var maxFileBytes: Int64 = 16 << 20
        public var maxKeptBytes: Int64 = 256 << 20
        public init(maxFileBytes: Int64 = 16 << 20, maxKeptBytes: Int64 = 256 << 20) {
            self.maxFileBytes = maxFileBytes
            self.maxKeptBytes = maxKeptBytes
        }
    }

    private struct State {
        var fd: Int32
        var size: Int64
        var seq: Int64
        var firstSeq: Int64?
        var cursors: [String: Int64] = [:]
        var listeners: [@Sendable (Int64) -> Void] = []
        var timeZone: TimeZone
        var language = Language.en
    }

    public let path: String
    public let settings: Settings
    private let logger: Logger
    private let state: Mutex<State>

    public init(path: String, timeZone: TimeZone, settings: Settings = .init(), logger: Logger = Logger(label: "sentra.alertlog")) throws {
        self.path = path
        self.settings = settings
        self.logger = logger
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let (fd, size, first, last) = try Self.openCurrent(path)
        var seq = last ?? 0
        if last == nil, let seg = Self.segments(path).last(where: { $0.rotated }) {
            seq = Self.lastSeq(inFile: seg.path) ?? (seg.firstSeq.map { $0 - 1 } ?? 0)
        }
        state = Mutex(State(fd: fd, size: size, seq: seq, firstSeq: first, timeZone: timeZone))
    }

    deinit {
        state.withLock { s in _ = close(s.fd) }
    }

    /// The sentra's time zone, in which lines give their times; a reload may change it.
    public var timeZone: TimeZone {
        get { state.withLock { $0.timeZone } }
        set { state.withLock { $0.timeZone = newValue } }
    }

    /// The sentra's language, in which the daemon's own alerts are summarised; a reload may change it.
    public var language: Language {
        get { state.withLock { $0.language } }
        set { state.withLock { $0.language = newValue } }
    }

    /// The seq of the last line written (0 before the first ever).
    public var lastSeq: Int64 { state.withLock { $0.seq } }

    /// Called after every append with the new seq, outside the log's lock (the plugin host wakes).
    public func onAppend(_ f: @escaping @Sendable (Int64) -> Void) {
        state.withLock { $0.listeners.append(f) }
    }

    /// Writes the event with the next seq, durably; returns it as written.
    @discardableResult
    public func append(_ event: AlertEvent) throws -> AlertEvent {
        var ev = event
        var lost: [(plugin: String, from: Int64, to: Int64)] = []
        let listeners: [@Sendable (Int64) -> Void] = try state.withLock { s in
            ev.seq = s.seq + 1
            let line = Array(ev.jsonLine(timeZone: s.timeZone).utf8)
            if s.size > 0 && s.size + Int64(line.count) > settings.maxFileBytes {
                try rotate(&s)
                lost = retain(&s)
            }
            try Self.writeAll(s.fd, line, path: path)
            guard fsync(s.fd) == 0 else { throw AlertLogError(operation: "fsync", path: path, errno: errno) }
            s.size += Int64(line.count)
            s.seq = ev.seq
            if s.firstSeq == nil { s.firstSeq = ev.seq }
            return s.listeners
        }
        for l in listeners { l(ev.seq) }
        for x in lost { try raiseFellBehind(x.plugin, from: x.from, to: x.to) }
        return ev
    }

    /// Reopens `alerts.jsonl` by name (SIGHUP): after an outside tool moved it away, a new
    /// file begins; the seq continues.
    public func reopen() throws {
        try state.withLock { s in
            let (fd, size, first, last) = try Self.openCurrent(path)
            _ = close(s.fd)
            s.fd = fd
            s.size = size
            s.firstSeq = first
            if let last { s.seq = max(s.seq, last) }
        }
    }

    /// Records how far a plugin has read (its last acknowledged seq): files behind every
    /// plugin may go. The plugin host calls this at start and after each acknowledgement.
    public func setCursor(plugin: String, seq: Int64) {
        let lost = state.withLock { s in
            s.cursors[plugin] = seq
            return retain(&s)
        }
        for x in lost { try? raiseFellBehind(x.plugin, from: x.from, to: x.to) }
    }

    public func removeCursor(plugin: String) {
        _ = state.withLock { s in s.cursors.removeValue(forKey: plugin) }
    }

    private func raiseFellBehind(_ plugin: String, from: Int64, to: Int64) throws {
        logger.error(
            "alert log: plugin fell behind, deleted lines it had not read",
            metadata: ["sentra.plugin": "\(plugin)", "sentra.seq_from": "\(from)", "sentra.seq_to": "\(to)"])
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let labels = ["component": plugin]
        let summary = Catalogue.of(language).text(
            "alert.plugin.fell_behind", ["plugin": plugin, "from": String(from), "to": String(to)])
        for status in [AlertStatus.firing, .resolved] {
            try append(
                AlertEvent(
                    ts: now, rule: "plugin_fell_behind", status: status, severity: .warning, labels: labels,
                    value: Double(to - from + 1), summary: summary, started: now))
        }
    }

    // MARK: - Rotation and retention (called with the lock held)

    private func rotate(_ s: inout State) throws {
        let first = s.firstSeq ?? (s.seq + 1)
        let target = Self.rotatedName(path, firstSeq: first)
        guard rename(path, target) == 0 else { throw AlertLogError(operation: "rename", path: path, errno: errno) }
        _ = close(s.fd)
        let (fd, size, f, _) = try Self.openCurrent(path)
        s.fd = fd
        s.size = size
        s.firstSeq = f
        Self.syncDirectory(of: path)
        logger.info("alert log rotated", metadata: ["sentra.file": "\(target)"])
    }

    /// Deletes rotated files nobody needs, and the oldest past `maxKeptBytes`; returns which
    /// plugins lost unread lines.
    private func retain(_ s: inout State) -> [(plugin: String, from: Int64, to: Int64)] {
        var rotated = Self.segments(path).filter(\.rotated)
        guard rotated.count > 1 else { return [] }
        let minCursor = s.cursors.values.min() ?? .max
        var lost: [(String, Int64, Int64)] = []
        func lastSeq(_ i: Int) -> Int64 {
            i + 1 < rotated.count ? (rotated[i + 1].firstSeq ?? 1) - 1 : (s.firstSeq ?? (s.seq + 1)) - 1
        }
        // Fully read by every plugin: gone (the newest rotated file stays for readers).
        while rotated.count > 1, lastSeq(0) <= minCursor {
            unlink(rotated[0].path)
            rotated.removeFirst()
        }
        var total = rotated.reduce(Int64(0)) { $0 + $1.size }
        while rotated.count > 1, total > settings.maxKeptBytes {
            let last = lastSeq(0)
            for (p, c) in s.cursors where c < last {
                lost.append((p, c + 1, last))
                s.cursors[p] = last
            }
            unlink(rotated[0].path)
            total -= rotated[0].size
            rotated.removeFirst()
        }
        return lost
    }

    // MARK: - Files

    /// One file of the log: a rotated one, or the current `alerts.jsonl` (last).
    public struct Segment: Sendable, Equatable {
        public var path: String
        /// The seq of its first line; nil for an empty current file.
        public var firstSeq: Int64?
        public var size: Int64
        public var rotated: Bool
    }

    static func rotatedName(_ path: String, firstSeq: Int64) -> String {
        let n = String(firstSeq)
        return path + "." + String(repeating: "0", count: max(0, 12 - n.count)) + n
    }

    /// The log's files, oldest first, the current one last (when it exists).
    public static func segments(_ path: String) -> [Segment] {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? []
        var out: [Segment] = []
        for name in names where name.hasPrefix(base + ".") {
            guard let first = Int64(name.dropFirst(base.count + 1)) else { continue }
            let p = (dir as NSString).appendingPathComponent(name)
            out.append(Segment(path: p, firstSeq: first, size: fileSize(p) ?? 0, rotated: true))
        }
        out.sort { $0.firstSeq! < $1.firstSeq! }
        if let size = fileSize(path) {
            out.append(Segment(path: path, firstSeq: size > 0 ? firstSeq(inFile: path) : nil, size: size, rotated: false))
        }
        return out
    }

    static func fileSize(_ p: String) -> Int64? {
        var st = stat()
        guard stat(p, &st) == 0 else { return nil }
        return Int64(st.st_size)
    }

    /// Opens the current file for appending; a torn last line (a crash mid-write) is cut
    /// off so the next line starts clean. Returns the fd, size, and first and last seqs.
    private static func openCurrent(_ path: String) throws -> (Int32, Int64, Int64?, Int64?) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AlertLogError(operation: "open", path: path, errno: errno) }
        var size = Int64(lseek(fd, 0, SEEK_END))
        if size > 0 {
            let (end, _) = lastLines(path, size: size)
            if end < size {
                _ = ftruncate(fd, off_t(end))
                size = end
            }
        }
        guard size > 0 else { return (fd, 0, nil, nil) }
        return (fd, size, firstSeq(inFile: path), lastSeq(inFile: path))
    }

    /// Reads the tail of a file: the offset just past its last newline, and its last line.
    private static func lastLines(_ path: String, size: Int64) -> (Int64, String?) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (size, nil) }
        defer { close(fd) }
        var chunk = 4096
        while true {
            let from = max(0, size - Int64(chunk))
            var buf = [UInt8](repeating: 0, count: Int(size - from))
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(from)) }
            guard n == buf.count else { return (size, nil) }
            guard let lastNL = buf.lastIndex(of: 10) else {
                if from == 0 { return (0, nil) }
                chunk *= 4
                continue
            }
            let end = from + Int64(lastNL) + 1
            let prevNL = buf[..<lastNL].lastIndex(of: 10)
            if prevNL == nil && from > 0 {
                chunk *= 4
                continue
            }
            let start = prevNL.map { $0 + 1 } ?? 0
            return (end, String(decoding: buf[start..<lastNL], as: UTF8.self))
        }
    }

    static func lastSeq(inFile path: String) -> Int64? {
        guard let size = fileSize(path), size > 0 else { return nil }
        return lastLines(path, size: size).1.flatMap(seq(ofLine:))
    }

    static func firstSeq(inFile path: String) -> Int64? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 8192)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0, let nl = buf[..<n].firstIndex(of: 10) else { return nil }
        return seq(ofLine: String(decoding: buf[..<nl], as: UTF8.self))
    }

    /// The `seq` of a log line: read from the `{"seq":N,` prefix this writer puts first,
    /// else by parsing the JSON. nil for a seq of Int64.max or more, which leaves no room
    /// for the next line's.
    public static func seq(ofLine line: some StringProtocol) -> Int64? {
        let prefix = "{\"seq\":"
        if line.hasPrefix(prefix) {
            var v: Int64 = 0
            var any = false
            for b in line.utf8.dropFirst(prefix.utf8.count) {
                guard b >= 48 && b <= 57 else { break }
                let (tens, o1) = v.multipliedReportingOverflow(by: 10)
                let (sum, o2) = tens.addingReportingOverflow(Int64(b - 48))
                if o1 || o2 { return nil }
                v = sum
                any = true
            }
            if any { return v < .max ? v : nil }
        }
        let seq = (try? WireJSON.decode(AlertLine.Seq.self, from: line))?.seq
        return seq == .max ? nil : seq
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AlertLogError(operation: "write", path: path, errno: errno)
            }
            off += n
        }
    }

    static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}

/// The alert log read back from a seq on: what the daemon wrote after the alert states it last
/// committed, so a restart after a crash neither writes those lines again nor forgets them.
public enum AlertLogReplay {
    /// The events of lines with seq above `seq`, in order (at most `limit`; lines that do not
    /// parse are skipped).
    public static func lines(path: String, after seq: Int64, limit: Int = 100_000) -> [AlertEvent] {
        var follower = AlertLogFollower(path: path, after: seq)
        var out: [AlertEvent] = []
        while out.count < limit {
            let batch = follower.poll(maxLines: 1024)
            if batch.isEmpty { break }
            out += batch.compactMap { AlertEvent.parse(line: $0.text) }
        }
        return out
    }
}

/// One line read back from the alert log.
public struct AlertLogLine: Sendable, Equatable {
    public var seq: Int64
    /// The line as written, without its newline.
    public var text: String
}

/// Reads the alert log in seq order from a position, across rotations (like `tail -F`, but
/// by seq, so a reader can resume exactly where it stopped). A value type for one reader.
public struct AlertLogFollower: Sendable {
    public let path: String
    /// The next seq wanted.
    public private(set) var next: Int64
    private var position: (firstSeq: Int64, offset: Int64)?

    public init(path: String, after seq: Int64) {
        self.path = path
        self.next = seq + 1
    }

    /// Lines with seq ≥ `next` that are on disk now, at most about `maxLines`. A line's seq
    /// above the one expected means the lines between were deleted (a lagging reader).
    public mutating func poll(maxLines: Int = 256) -> [AlertLogLine] {
        var out: [AlertLogLine] = []
        var attempts = 0
        while out.count < maxLines && attempts < 64 {
            attempts += 1
            // The common case, a reader following the live file: read on from where it stopped
            // without listing the directory (the live file is the newest: at its end, done).
            if let p = position, let chunk = read(path, firstSeq: p.firstSeq, from: p.offset, maxLines: maxLines - out.count) {
                take(chunk, firstSeq: p.firstSeq, offset: p.offset, into: &out)
                if chunk.atEnd { return out }
                continue
            }
            // A first read, or the file we were reading was rotated away: list.
            let segs = AlertLog.segments(path).filter { $0.firstSeq != nil }
            guard !segs.isEmpty else { return out }
            var i = segs.lastIndex { $0.firstSeq! <= next } ?? 0
            if let p = position, let j = segs.firstIndex(where: { $0.firstSeq == p.firstSeq }), j >= i { i = j }
            let seg = segs[i]
            let offset = position?.firstSeq == seg.firstSeq ? position!.offset : 0
            guard let chunk = read(seg.path, firstSeq: seg.firstSeq!, from: offset, maxLines: maxLines - out.count) else {
                continue  // rotated under us: list again
            }
            take(chunk, firstSeq: seg.firstSeq!, offset: offset, into: &out)
            if chunk.consumed == 0 {
                // At the end of this file: go on with the next one, if there is one.
                guard i + 1 < segs.count else { return out }
                position = (segs[i + 1].firstSeq!, 0)
            }
        }
        return out
    }

    /// Complete lines read from one file, where they start.
    private struct Chunk {
        var lines: [AlertLogLine]
        /// The bytes the complete lines take.
        var consumed: Int64
        /// Nothing complete is left after them.
        var atEnd: Bool
    }

    /// Takes `chunk`'s lines from `next` on, and moves the position past them.
    private mutating func take(_ chunk: Chunk, firstSeq: Int64, offset: Int64, into out: inout [AlertLogLine]) {
        position = (firstSeq, offset + chunk.consumed)
        for l in chunk.lines where l.seq >= next {
            out.append(l)
            next = l.seq + 1
        }
    }

    /// Complete lines from `offset` with seq ≥ `next`, at most `maxLines` (and 1 MiB); nil when
    /// `path` cannot be opened or no longer names the file that begins with `firstSeq`.
    private func read(_ path: String, firstSeq: Int64, from offset: Int64, maxLines: Int) -> Chunk? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 64)
        let hn = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard hn > 0, AlertLog.seq(ofLine: String(decoding: head[..<hn], as: UTF8.self)) == firstSeq else { return nil }
        // What is there to read (usually one new line), at most 1 MiB, into a buffer not zeroed.
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int64(st.st_size)
        let available = Int(max(0, min(size - offset, 1 << 20)))
        var n = 0
        let buf = [UInt8](unsafeUninitializedCapacity: available) { b, count in
            n = available > 0 ? max(0, pread(fd, b.baseAddress, available, off_t(offset))) : 0
            count = n
        }
        var lines: [AlertLogLine] = []
        var start = 0
        var consumed = 0
        for i in 0..<n where buf[i] == 10 {
            let text = String(decoding: buf[start..<i], as: UTF8.self)
            start = i + 1
            consumed = start
            if let seq = AlertLog.seq(ofLine: text), seq >= next { lines.append(AlertLogLine(seq: seq, text: text)) }
            if lines.count >= maxLines { break }
        }
        let end = offset + Int64(consumed)
        return Chunk(lines: lines, consumed: Int64(consumed), atEnd: consumed == 0 || end >= size)
    }
}
