/// Minimal JSON text building with a stable key order, for reports and the CLI.
public enum JSONText {
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// Integers as integers; other values rounded to `decimals` places, without trailing zeros.
    public static func number(_ v: Double, decimals: Int = 6) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let r = (v * scale).rounded() / scale
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        return "\(r)"
    }

    public static func optionalString(_ s: String?) -> String { s.map(string) ?? "null" }
    public static func optionalNumber(_ v: Double?) -> String { v.map { number($0) } ?? "null" }

    /// `{"k": v, ...}` from already-encoded values, in the given order.
    public static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    public static func array(_ items: [String], pretty: Bool = false) -> String {
        if pretty && !items.isEmpty { return "[\n    " + items.joined(separator: ",\n    ") + "\n  ]" }
        return "[" + items.joined(separator: ", ") + "]"
    }
}
