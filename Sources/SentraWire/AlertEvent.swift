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

    /// The event as one JSON line (with its trailing newline), fields in the documented order (docs/alerts.md).
    public func jsonLine(timeZone: TimeZone) -> String {
        var s = "{\"seq\":\(seq),\"ts\":"
        JSON.appendString(RFC3339.format(ts, timeZone: timeZone), to: &s)
        s += ",\"id\":"
        JSON.appendString(id, to: &s)
        s += ",\"rule\":"
        JSON.appendString(rule, to: &s)
        s += ",\"status\":\"\(status.rawValue)\",\"severity\":\"\(severity.rawValue)\",\"labels\":{"
        for (i, k) in labels.keys.sorted().enumerated() {
            if i > 0 { s += "," }
            JSON.appendString(k, to: &s)
            s += ":"
            JSON.appendString(labels[k]!, to: &s)
        }
        s += "},\"value\":"
        s += value.map(NumberFormat.json) ?? "null"
        s += ",\"summary\":"
        JSON.appendString(summary, to: &s)
        s += ",\"started\":"
        JSON.appendString(RFC3339.format(started, timeZone: timeZone), to: &s)
        s += "}\n"
        return s
    }

    /// Parses one alert-log line; nil when it is not one.
    public static func parse(line: some StringProtocol) -> AlertEvent? {
        guard let data = String(line).data(using: .utf8),
            let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let seq = (o["seq"] as? NSNumber)?.int64Value,
            let ts = (o["ts"] as? String).flatMap(RFC3339.parse),
            let id = o["id"] as? String, let rule = o["rule"] as? String,
            let status = (o["status"] as? String).flatMap(AlertStatus.init(rawValue:)),
            let severity = (o["severity"] as? String).flatMap(Severity.init(rawValue:))
        else { return nil }
        let labels = (o["labels"] as? [String: Any])?.compactMapValues { $0 as? String } ?? [:]
        let value = (o["value"] as? NSNumber)?.doubleValue
        let started = (o["started"] as? String).flatMap(RFC3339.parse) ?? ts
        return AlertEvent(
            seq: seq, ts: ts, id: id, rule: rule, status: status, severity: severity, labels: labels, value: value,
            summary: o["summary"] as? String ?? "", started: started)
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

enum JSON {
    /// A JSON string literal, appended (one escaping rule for the whole project: `JSONText`).
    static func appendString(_ v: String, to s: inout String) { s += JSONText.string(v) }
}
