/// Prometheus text exposition format 0.0.4, written by hand: every value is read from the
/// daemon's state at scrape time (a collector), so there is nothing to register or keep.
public struct PrometheusText {
    public enum Kind: String {
        case counter, gauge, histogram
    }

    public private(set) var text = ""
    private var families = Set<String>()
    /// Written first in every sample's labels: the `sentra` label of a sentra in a region.
    private let constant: String

    /// `constantLabels` go on every sample (an empty value leaves its label out).
    public init(constantLabels: [(key: String, value: String)] = []) {
        text.reserveCapacity(16 << 10)
        constant = constantLabels.filter { !$0.value.isEmpty }.map { "\($0.key)=\"\(Self.escapeLabel($0.value))\"" }
            .joined(separator: ",")
    }

    /// What was written since the last `take`; the family names stay known, so a family
    /// written twice across takes is still caught.
    public mutating func take() -> String {
        defer { text = "" }
        return text
    }

    /// Starts a metric family; its samples must follow before the next family.
    public mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        precondition(families.insert(name).inserted, "metric family \(name) written twice")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample. Labels with an empty value are left out (Prometheus treats them as absent).
    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        sample(name, labels: Array(labels), value)
    }

    public mutating func sample(_ name: String, labels: [(key: String, value: String)], _ value: Double) {
        text += name
        var first = constant.isEmpty
        if !first { text += "{" + constant }
        for (k, v) in labels where !v.isEmpty {
            text += first ? "{" : ","
            first = false
            text += k
            text += "=\""
            text += Self.escapeLabel(v)
            text += "\""
        }
        if !first { text += "}" }
        text += " "
        text += Self.format(value)
        text += "\n"
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func escapeLabel(_ s: String) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return s }
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
