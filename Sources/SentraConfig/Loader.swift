import Foundation
import SentraCore
import Yams

extension Configuration {
    /// Reads and validates `path`. Throws `ConfigurationErrors` naming every problem.
    public static func load(path: String) throws -> Configuration {
        try parse(yaml: try YAMLFile.read(path), file: path)
    }

    /// Parses YAML text; `file` names it in errors. Throws `ConfigurationErrors` naming every
    /// problem; whatever the text, it never traps (the fuzz target calls this).
    public static func parse(yaml: String, file: String) throws -> Configuration {
        let root = try YAMLFile.compose(yaml, file: file, aliases: "write the value out (shifts are named under shifts:)")
        var r = Reader(file: file)
        let config = r.configuration(root)
        guard r.errors.isEmpty, var config else { throw ConfigurationErrors(r.errors) }
        config.keyLines = r.keyLines
        return config
    }
}

/// A configuration file as YAML: read, and composed into nodes, with every failure named.
enum YAMLFile {
    /// The file's text; a file that cannot be read is one error naming it.
    static func read(_ path: String) throws -> String {
        do {
            return try YAMLSafety.read(path)
        } catch {
            throw ConfigurationErrors([ConfigurationError(file: path, line: 0, key: "-", message: "cannot read the file: \(error)")])
        }
    }

    /// The document's root node. Aliases are refused (`aliases` says what to do instead);
    /// libyaml's errors are named by line.
    static func compose(_ yaml: String, file: String, aliases: String) throws -> Node? {
        if let line = YAMLSafety.firstAliasLine(yaml) {
            throw ConfigurationErrors([
                ConfigurationError(file: file, line: line, key: "-", message: "YAML aliases (*name) are not accepted: \(aliases)")
            ])
        }
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationErrors([yamlError(error, file: file)])
        } catch {
            throw ConfigurationErrors([ConfigurationError(file: file, line: 0, key: "-", message: "not valid YAML: \(error)")])
        }
    }
}

/// libyaml's own words and position, without the whole document Yams attaches.
func yamlError(_ error: YamlError, file: String) -> ConfigurationError {
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
        .composer(let context, let problem, let mark, _):
        let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        return ConfigurationError(file: file, line: mark.line, key: "-", message: "not valid YAML: \(what) (column \(mark.column))")
    case .duplicatedKeysInMapping(let duplicates, let context):
        return ConfigurationError(
            file: file, line: context.mark.line, key: duplicates.joined(separator: ", "),
            message: "key appears more than once (first here)")
    case .reader(let problem, let offset, _, _):
        return ConfigurationError(file: file, line: 0, key: "-", message: "not readable as UTF-8 text: \(problem) at byte \(offset ?? 0)")
    default:
        return ConfigurationError(file: file, line: 0, key: "-", message: "not valid YAML: \(error)")
    }
}

/// Walks the YAML tree, collecting every problem instead of stopping at the first.
struct Reader {
    /// A key and its value in a mapping.
    typealias Entry = (key: Node, value: Node)

    let file: String
    var errors: [ConfigurationError] = []
    /// What is accepted but worth a word: obsolete keys.
    var notices: [ConfigurationError] = []
    /// The line of each key outside lists (`http.token_file`), for the checks made after loading.
    var keyLines: [String: Int] = [:]

    mutating func error(_ node: Node?, _ key: String, _ message: String) {
        errors.append(ConfigurationError(file: file, line: node?.mark?.line ?? 0, key: key, message: message))
    }

    mutating func notice(_ node: Node?, _ key: String, _ message: String) {
        notices.append(ConfigurationError(file: file, line: node?.mark?.line ?? 0, key: key, message: message))
    }

    /// A mapping's entries by key, reporting duplicates and keys not in `allowed`.
    mutating func mapping(_ node: Node?, _ path: String, allowed: [String]) -> [String: Entry]? {
        guard let node else { return nil }
        guard let m = node.mapping else {
            error(node, path, "expected a mapping")
            return nil
        }
        var out: [String: Entry] = [:]
        for (k, v) in m {
            guard let name = k.string else {
                error(k, path, "keys must be strings")
                continue
            }
            let full = path.isEmpty ? name : "\(path).\(name)"
            if out[name] != nil {
                error(k, full, "duplicate key")
                continue
            }
            if !allowed.contains(name) {
                error(k, full, "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
                continue
            }
            out[name] = (k, v)
            if !full.contains("[") { keyLines[full] = k.mark?.line ?? 0 }
        }
        return out
    }

    /// A string value; a missing required one is reported at the line of `parent`, the
    /// mapping it should have been in.
    mutating func string(_ e: Entry?, _ path: String, required: Bool = false, in parent: Node? = nil) -> String? {
        guard let e else {
            if required { error(parent, path, "missing (required)") }
            return nil
        }
        guard let s = e.value.scalar?.string, !s.isEmpty else {
            error(e.value, path, "expected a non-empty string")
            return nil
        }
        return s
    }

    /// An integer in `range`. Yams is not asked: its base-60 form (`1:30`) multiplies without
    /// overflow checks, so a value like `99999999999:0` would trap.
    mutating func int(_ e: Entry?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let e else { return nil }
        let expected = "expected an integer in \(range.lowerBound)...\(range.upperBound)"
        guard let s = e.value.scalar, s.style == .plain || s.style == .any, let v = Reader.integer(s.string) else {
            error(e.value, path, expected)
            return nil
        }
        guard let n = v, range.contains(n) else {
            error(e.value, path, "\(e.value.scalar?.string ?? "") is out of range: \(expected)")
            return nil
        }
        return n
    }

    /// A decimal (or `0x` hexadecimal) integer with optional sign and `_` separators: nil when
    /// it is not one, `.some(nil)` when it is one too large for `Int`.
    static func integer(_ text: String) -> Int?? {
        var s = Substring(text.replacingOccurrences(of: "_", with: ""))
        var sign = ""
        if let f = s.first, f == "-" || f == "+" {
            sign = f == "-" ? "-" : ""
            s = s.dropFirst()
        }
        var radix = 10
        if s.hasPrefix("0x") {
            radix = 16
            s = s.dropFirst(2)
        }
        let digits = radix == 16 ? "0123456789abcdefABCDEF" : "0123456789"
        guard !s.isEmpty, s.allSatisfy({ digits.contains($0) }) else { return nil }
        return .some(Int(sign + s, radix: radix))
    }

    mutating func bool(_ e: Entry?, _ path: String) -> Bool? {
        guard let e else { return nil }
        guard let v = e.value.bool else {
            error(e.value, path, "expected true or false")
            return nil
        }
        return v
    }

    /// A finite number in `range`.
    mutating func double(_ e: Entry?, _ path: String, range: ClosedRange<Double>) -> Double? {
        guard let e else { return nil }
        let expected = "expected a number in \(Reader.plain(range.lowerBound))...\(Reader.plain(range.upperBound))"
        // No base-60 (`1:30`), as for integers.
        guard let s = e.value.scalar, !s.string.contains(":"), let v = e.value.float, !v.isNaN else {
            error(e.value, path, expected)
            return nil
        }
        guard range.contains(v) else {
            error(e.value, path, "\(s.string) is out of range: \(expected)")
            return nil
        }
        return v
    }

    static func plain(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }

    /// A duration in `range` (ms).
    mutating func duration(_ e: Entry?, _ path: String, range: ClosedRange<Int64>) -> Int64? {
        guard let e else { return nil }
        let text = e.value.scalar?.string ?? ""
        let expected = "from \(Reader.formatDuration(range.lowerBound)) to \(Reader.formatDuration(range.upperBound))"
        if text.trimmingCharacters(in: .whitespaces).hasPrefix("-") {
            error(e.value, path, "'\(text)' is negative: expected a duration \(expected)")
            return nil
        }
        guard let ms = Reader.durationMillis(text) else {
            error(e.value, path, "expected a duration like 30s, 5m, 2h or 7d, \(expected)")
            return nil
        }
        // Compared as a Double first: a value past Int64 never reaches a conversion.
        guard ms >= Double(range.lowerBound), ms <= Double(range.upperBound) else {
            error(e.value, path, "'\(text)' is out of range: expected a duration \(expected)")
            return nil
        }
        return Int64(ms.rounded(.down))
    }

    /// A duration for messages: the largest unit that divides it (`3660d`, `90s`, `250ms`).
    static func formatDuration(_ ms: Int64) -> String {
        for (unit, name) in [(ConfigurationLimits.day, "d"), (ConfigurationLimits.hour, "h"), (ConfigurationLimits.minute, "m")]
        where ms >= unit && ms % unit == 0 {
            return "\(ms / unit)\(name)"
        }
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }

    /// `90s`, `5m`, `1h30m`, `7d`, `250ms`, or a bare number of seconds, as milliseconds; nil
    /// when it is none of these or does not fit an `Int64`.
    static func parseDuration(_ s: String) -> Int64? {
        guard let ms = durationMillis(s), ms < 9.0e18 else { return nil }
        return Int64(ms.rounded(.down))
    }

    /// A duration's milliseconds as a Double: never negative or NaN, but perhaps beyond any
    /// integer (`1e300`, `inf`, `99999999999999d`); nil when it is not a duration.
    static func durationMillis(_ text: String) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let secs = Double(s) { return secs >= 0 && !secs.isNaN ? secs * 1000 : nil }
        let chars = Array(s)
        guard !chars.isEmpty else { return nil }
        var total = 0.0
        var number = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isASCII && (c.isNumber || c == ".") {
                number.append(c)
                i += 1
                continue
            }
            guard let n = Double(number) else { return nil }
            number = ""
            let unit: Double
            if c == "m" && i + 1 < chars.count && chars[i + 1] == "s" {
                unit = 1
                i += 1
            } else {
                switch c {
                case "s": unit = 1000
                case "m": unit = 60_000
                case "h": unit = 3_600_000
                case "d": unit = 86_400_000
                default: return nil
                }
            }
            total += n * unit
            i += 1
        }
        return number.isEmpty ? total : nil
    }

    mutating func id(_ e: Entry?, _ path: String, in parent: Node) -> String? {
        guard let s = string(e, path, required: true, in: parent) else { return nil }
        guard DeviceTopic.isValidID(s) else {
            error(e?.value, path, "'\(s)' is not a valid id (1 to 63 of a-z 0-9 _ -, starting with a letter or digit)")
            return nil
        }
        return s
    }

    mutating func sequence(_ e: Entry?, _ path: String) -> [Node] {
        guard let e else { return [] }
        guard let seq = e.value.sequence else {
            error(e.value, path, "expected a list")
            return []
        }
        return Array(seq)
    }
}
