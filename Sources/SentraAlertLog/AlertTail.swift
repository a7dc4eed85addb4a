import Foundation
import SentraCore
import SentraLocale
import SentraWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `sentractl tail`: follows the alert log across rotations (like `tail -F`, by seq),
/// filtered, rendered for a person or passed through as JSON lines.
public struct AlertTail: Sendable {
    public struct Options: Sendable {
        /// Only events at least this severe.
        public var minSeverity: Severity = .info
        /// Only events with this `workshop` / `craftsman` label.
        public var workshop: String?
        public var craftsman: String?
        /// Only events at or after this time (ms); then the whole retained log is read.
        public var since: Int64?
        /// Pass the lines through unchanged (`--json`).
        public var json = false
        /// Colour; nil: when standard output is a terminal.
        public var color: Bool?
        /// Keep following (`tail -F`); false: print what is there and return.
        public var follow = true
        /// Without `since`: how many of the last matching lines to show first.
        public var lines = 10
        public var pollInterval: Duration = .milliseconds(250)
        /// The language of the line's own words (status, severity); the summary is as written.
        public var language = Language.en
        public init() {}
    }

    public let path: String
    public let timeZone: TimeZone
    public let options: Options

    public init(path: String, timeZone: TimeZone, options: Options = .init()) {
        self.path = path
        self.timeZone = timeZone
        self.options = options
    }

    public func matches(_ e: AlertEvent) -> Bool {
        guard e.severity >= options.minSeverity else { return false }
        if let w = options.workshop, e.labels["workshop"] != w { return false }
        if let c = options.craftsman, e.labels["craftsman"] != c { return false }
        if let s = options.since, e.ts < s { return false }
        return true
    }

    /// The output for one log line (without a newline), or nil when filtered out.
    public func render(_ line: String, color: Bool) -> String? {
        guard let e = AlertEvent.parse(line: line) else { return nil }
        guard matches(e) else { return nil }
        if options.json { return line }
        return Self.human(e, timeZone: timeZone, color: color, language: options.language)
    }

    /// `2026-11-24 10:15:30  FIRING   warning   voltage_sag  ws-a/pm-1  Voltage 187 V …`
    /// (`AKTIF     peringatan  …` in Indonesian): status and severity padded to the language's
    /// longest word.
    public static func human(_ e: AlertEvent, timeZone: TimeZone, color: Bool, language: Language = .en) -> String {
        let ts = RFC3339.format(e.ts - e.ts % 1000, timeZone: timeZone)
        let when = String(ts.prefix(19)).replacingOccurrences(of: "T", with: " ")
        let words = Catalogue.of(language)
        let padded = { (key: String, all: [String]) in
            words.text(key).padding(toLength: all.map { words.text($0).count }.max() ?? 0, withPad: " ", startingAt: 0)
        }
        let status = padded(e.status == .firing ? "tail.firing" : "tail.resolved", ["tail.firing", "tail.resolved"])
        let sev = padded("tail.severity.\(e.severity.rawValue)", ["tail.severity.info", "tail.severity.warning", "tail.severity.critical"])
        var subject = e.labels["workshop"] ?? e.labels["component"] ?? "-"
        if let d = e.labels["device"] { subject += "/" + d }
        if let c = e.labels["craftsman"] { subject += " (\(c))" }
        guard color else { return "\(when)  \(status)  \(sev)  \(e.rule)  \(subject)  \(e.summary)" }
        let reset = "\u{1B}[0m"
        let tone: String
        switch (e.status, e.severity) {
        case (.resolved, _): tone = "\u{1B}[32m"
        case (.firing, .critical): tone = "\u{1B}[1;31m"
        case (.firing, .warning): tone = "\u{1B}[33m"
        case (.firing, .info): tone = "\u{1B}[36m"
        }
        return "\u{1B}[2m\(when)\(reset)  \(tone)\(status)  \(sev)\(reset)  \u{1B}[1m\(e.rule)\(reset)  \(subject)  \(e.summary)"
    }

    /// Prints to standard output until cancelled (or, without `follow`, until the end).
    public func run() async throws {
        let color = options.color ?? (isatty(STDOUT_FILENO) == 1)
        try await run(color: color) { s in
            FileHandle.standardOutput.write(Data((s + "\n").utf8))
        }
    }

    public func run(color: Bool, write: (String) -> Void) async throws {
        let last = AlertLog.lastSeqOnDisk(path)
        var follower: AlertLogFollower
        if options.since != nil {
            follower = AlertLogFollower(path: path, after: 0)
        } else {
            // Back far enough to find the last `lines` matching lines among the recent ones.
            let back = Int64(max(options.lines * 50, 1000))
            var f = AlertLogFollower(path: path, after: max(0, last - back))
            var recent: [String] = []
            while true {
                let batch = f.poll(maxLines: 4096)
                if batch.isEmpty { break }
                for l in batch where l.seq <= last {
                    if let r = render(l.text, color: color) { recent.append(r) }
                }
                if recent.count > options.lines { recent.removeFirst(recent.count - options.lines) }
                if batch.last!.seq >= last { break }
            }
            if options.lines > 0 { for r in recent { write(r) } }
            follower = AlertLogFollower(path: path, after: last)
        }
        var expected: Int64? = options.since == nil ? last + 1 : nil
        while !Task.isCancelled {
            let batch = follower.poll(maxLines: 1024)
            for l in batch {
                if let x = expected, l.seq > x, !options.json {
                    write("-- \(l.seq - x) alert log line(s) missing (seq \(x) to \(l.seq - 1)) --")
                }
                expected = l.seq + 1
                if let r = render(l.text, color: color) { write(r) }
            }
            if batch.isEmpty {
                guard options.follow else { return }
                try await Task.sleep(for: options.pollInterval)
            }
        }
    }
}

extension AlertLog {
    /// The last seq in the files on disk (0 for none), without opening the log for writing.
    public static func lastSeqOnDisk(_ path: String) -> Int64 {
        for seg in segments(path).reversed() {
            if let s = lastSeq(inFile: seg.path) { return s }
        }
        return 0
    }
}
