import Foundation
import SentraCore

/// Whether an alert event starts or ends an alert (docs/alerts.md, `status`).
public enum AlertStatus: String, Sendable, Codable {
    case firing, resolved
}

/// One line of the alert log (docs/alerts.md). Times are milliseconds since the epoch (UTC);
/// the log renders them in RFC 3339 with the sentra's UTC offset.
public struct AlertEvent: Sendable, Equatable {
    /// Assigned by `AlertLog.append`; 0 until then.
    public var seq: Int64
    public var ts: Int64
    public var id: String
    public var rule: String
    public var status: AlertStatus
    public var severity: Severity
    public var labels: [String: String]
    public var value: Double?
    public var summary: String
    public var started: Int64

    public init(
        seq: Int64 = 0, ts: Int64, id: String? = nil, rule: String, status: AlertStatus, severity: Severity,
        labels: [String: String], value: Double?, summary: String, started: Int64
    ) {
        self.seq = seq
        self.ts = ts
        self.id = id ?? AlertID.make(rule: rule, labels: labels)
        self.rule = rule
        self.status = status
        self.severity = severity
        self.labels = labels
        self.value = value
        self.summary = summary
        self.started = started
    }

    /// The event as one JSON line (with its trailing newline), fields in the documented order
    /// (docs/alerts.md). Written by hand: the order is part of the log's interface, and this
    /// runs on the alert-log writer thread for every line. `AlertLine` reads it back.
    public func jsonLine(timeZone: TimeZone) -> String {
        var s = "{\"seq\":\(seq),\"ts\":"
        Self.appendString(RFC3339.format(ts, timeZone: timeZone), to: &s)
        s += ",\"id\":"
        Self.appendString(id, to: &s)
        s += ",\"rule\":"
        Self.appendString(rule, to: &s)
        s += ",\"status\":\"\(status.rawValue)\",\"severity\":\"\(severity.rawValue)\",\"labels\":{"
        for (i, k) in labels.keys.sorted().enumerated() {
            if i > 0 { s += "," }
            Self.appendString(k, to: &s)
            s += ":"
            Self.appendString(labels[k]!, to: &s)
        }
        s += "},\"value\":"
        s += value.map(NumberFormat.json) ?? "null"
        s += ",\"summary\":"
        Self.appendString(summary, to: &s)
        s += ",\"started\":"
        Self.appendString(RFC3339.format(started, timeZone: timeZone), to: &s)
        s += "}\n"
        return s
    }

    /// Parses one alert-log line; nil when it is not one.
    public static func parse(line: some StringProtocol) -> AlertEvent? {
        try? WireJSON.decode(AlertEvent.self, from: line)
    }

    /// `v` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else (non-ASCII included) as it is.
    static func appendString(_ v: String, to s: inout String) {
        s += "\""
        for u in v.unicodeScalars {
            switch u {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    s += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    s.unicodeScalars.append(u)
                }
            }
        }
        s += "\""
    }
}

extension AlertEvent: Decodable {
    /// Reads an alert-log line (through `AlertLine`): its RFC 3339 times become milliseconds.
    public init(from decoder: any Decoder) throws {
        let line = try AlertLine(from: decoder)
        guard let ts = RFC3339.parse(line.ts) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "ts '\(line.ts)' is not RFC 3339"))
        }
        self.init(
            seq: line.seq, ts: ts, id: line.id, rule: line.rule, status: line.status, severity: line.severity, labels: line.labels,
            value: line.value, summary: line.summary, started: RFC3339.parse(line.started) ?? ts)
    }
}

/// One line of the alert log as JSON has it (docs/alerts.md): an `AlertEvent` with its times
/// in RFC 3339 with the sentra's UTC offset. The `alert` of a plugin's `event` message and
/// the `recent` lines of `GET /api/v1/alerts` are this too.
public struct AlertLine: Codable, Sendable, Equatable {
    public var seq: Int64
    public var ts: String
    public var id: String
    public var rule: String
    public var status: AlertStatus
    public var severity: Severity
    public var labels: [String: String]
    @Nullable public var value: Double?
    public var summary: String
    public var started: String

    public init(_ e: AlertEvent, timeZone: TimeZone) {
        seq = e.seq
        ts = RFC3339.format(e.ts, timeZone: timeZone)
        id = e.id
        rule = e.rule
        status = e.status
        severity = e.severity
        labels = e.labels
        value = e.value
        summary = e.summary
        started = RFC3339.format(e.started, timeZone: timeZone)
    }

    enum CodingKeys: String, CodingKey {
        case seq, ts, id, rule, status, severity, labels, value, summary, started
    }

    /// `labels` and `summary` may be missing (none, empty), and `started` (then it is `ts`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seq = try c.decode(Int64.self, forKey: .seq)
        ts = try c.decode(String.self, forKey: .ts)
        id = try c.decode(String.self, forKey: .id)
        rule = try c.decode(String.self, forKey: .rule)
        status = try c.decode(AlertStatus.self, forKey: .status)
        severity = try c.decode(Severity.self, forKey: .severity)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        _value = try c.decode(Nullable<Double>.self, forKey: .value)
        summary = try c.decodeIfPresent(String.self, forKey: .summary) ?? ""
        started = try c.decodeIfPresent(String.self, forKey: .started) ?? ts
    }

    /// Just the `seq` of a line.
    public struct Seq: Decodable, Sendable {
        public var seq: Int64
    }
}

/// Stable alert ids: FNV-1a 64 over the rule name and the sorted labels. Swift's `Hasher`
/// is seeded per process, so it would give a different id after every restart.
public enum AlertID {
    public static func make(rule: String, labels: [String: String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ s: String) {
            for b in s.utf8 {
                h ^= UInt64(b)
                h = h &* 0x0000_0100_0000_01b3
            }
            h ^= 0
            h = h &* 0x0000_0100_0000_01b3
        }
        mix(rule)
        for k in labels.keys.sorted() {
            mix(k)
            mix(labels[k]!)
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
