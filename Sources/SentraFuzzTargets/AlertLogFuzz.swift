import Foundation
import SentraAlertLog
import SentraCore
import SentraWire

/// Alert-log text, as `sentractl tail`, the plugin host, a restart's replay and the HTTP
/// API read it back: each line's seq, the line as an event, its rendering, the event line a
/// plugin is sent; then the whole input as the log file, replayed from the start.
///
/// Properties: an event read from a line, written again as a line, reads back the same
/// (what the log writes it can read); the file replay returns lines in increasing seq.
enum AlertLogFuzz {
    static let timeZone = TimeZone(identifier: "Asia/Jakarta") ?? .gmt
    /// The log file the input becomes, in a directory of this process; in memory when there
    /// is /dev/shm (rewriting a file on disk per input costs more than the rest).
    static let path: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : NSTemporaryDirectory()
        let dir = base + "sentra-fuzz-alertlog-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: (AlertLogFuzz.path as NSString).deletingLastPathComponent) }
        return dir + "/alerts.jsonl"
    }()

    static func fuzzOne(_ data: UnsafeRawBufferPointer) {
        let tail = AlertTail(path: path, timeZone: timeZone)
        for line in lines(of: data) {
            _ = AlertLog.seq(ofLine: line)
            // `AlertEvent.parse` reads through `AlertLine`; a line that is no event needs no more.
            guard let event = AlertEvent.parse(line: line) else { continue }
            _ = tail.render(line, color: false)
            _ = AlertTail.human(event, timeZone: timeZone, color: true)
            roundTrip(event)
        }
        // A log sentrad wrote begins `{"seq":`. Another first line makes the follower retry
        // its file 64 times per read (docs/fuzzing.md): too slow to fuzz, so only such
        // files are replayed.
        if data.starts(with: Array(#"{"seq":"#.utf8)) { replay(data) }
    }

    /// `event` written as a log line reads back as itself.
    static func roundTrip(_ event: AlertEvent) {
        let written = event.jsonLine(timeZone: timeZone)
        require(written.hasSuffix("\n") && !written.dropLast().contains("\n"), "a log line with a newline inside: \(written)")
        guard let back = AlertEvent.parse(line: written.dropLast()) else {
            return require(false, "the line written for an event does not read back: \(written)")
        }
        require(back == event, "\(event) was written as \(written) and read back as \(back)")
    }

    /// The input as the log file, read back from its start as a restart's replay does.
    static func replay(_ data: UnsafeRawBufferPointer) {
        guard let file = fopen(path, "w") else { fatalError("cannot write \(path)") }
        if data.count > 0 { fwrite(data.baseAddress, 1, data.count, file) }
        fclose(file)
        let events = AlertLogReplay.lines(path: path, after: 0)
        for (a, b) in zip(events, events.dropFirst()) { require(a.seq < b.seq, "replay out of order: \(a.seq) then \(b.seq)") }
        _ = AlertLog.lastSeqOnDisk(path)
    }
}
