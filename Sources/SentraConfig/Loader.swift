import Foundation
import SentraCore
import Yams

extension Configuration {
    /// Reads and validates `path`. Throws `ConfigurationErrors` naming every problem.
    public static func load(path: String) throws -> Configuration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationErrors([
                ConfigurationError(file: path, line: 0, key: "-", message: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses YAML text; `file` names it in errors.
    public static func parse(yaml: String, file: String) throws -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationErrors([yamlError(error, file: file)])
        } catch {
            throw ConfigurationErrors([ConfigurationError(file: file, line: 0, key: "-", message: "not valid YAML: \(error)")])
        }
        var r = Reader(file: file)
        let config = r.configuration(root)
        if !r.errors.isEmpty || config == nil { throw ConfigurationErrors(r.errors) }
        return config!
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

    mutating func int(_ e: Entry?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let e else { return nil }
        guard let v = e.value.int, range.contains(v) else {
            error(e.value, path, "expected an integer in \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return v
    }

    mutating func bool(_ e: Entry?, _ path: String) -> Bool? {
        guard let e else { return nil }
        guard let v = e.value.bool else {
            error(e.value, path, "expected true or false")
            return nil
        }
        return v
    }

    mutating func double(_ e: Entry?, _ path: String) -> Double? {
        guard let e else { return nil }
        guard let v = e.value.float ?? e.value.int.map(Double.init), v.isFinite else {
            error(e.value, path, "expected a number")
            return nil
        }
        return v
    }

    mutating func duration(_ e: Entry?, _ path: String) -> Int64? {
        guard let e else { return nil }
        guard let s = e.value.scalar?.string, let ms = Reader.parseDuration(s) else {
            error(e.value, path, "expected a duration like 30s, 5m, 2h or 7d")
            return nil
        }
        return ms
    }

    /// `90s`, `5m`, `1h30m`, `7d`, `250ms`, or a bare number of seconds.
    static func parseDuration(_ s: String) -> Int64? {
        if let secs = Double(s), secs >= 0 { return Int64(secs * 1000) }
        var total: Int64 = 0
        var number = ""
        var chars = Array(s.trimmingCharacters(in: .whitespaces))
        guard !chars.isEmpty else { return nil }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isNumber || c == "." {
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
            total += Int64(n * unit)
            i += 1
        }
        chars.removeAll()
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
