// libyaml as Yams builds it: its event parser finds aliases before Yams composes a tree.
import CYaml
import Foundation

/// What is refused before the YAML is composed into a tree.
enum YAMLSafety {
    /// The largest configuration file read (a sentra of ten thousand looms is a few MB; this
    /// only keeps `--config /dev/zero` from filling memory).
    static let maximumFileBytes = 64 << 20

    /// The line of the first alias (`*name`) in `yaml`, nil when there is none (or when the
    /// text is not valid YAML: composing it then names the problem). Aliases are refused: an
    /// alias used as a mapping key makes Yams hash the aliased tree once per use, and aliases of
    /// aliases multiply that, so a file of a few hundred bytes would keep the loader busy for
    /// hours; the configuration has named shifts for what would be shared.
    static func firstAliasLine(_ yaml: String) -> Int? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        let bytes = Array(yaml.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> Int? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                let type = event.type
                let line = Int(event.start_mark.line) + 1
                yaml_event_delete(&event)
                if type == YAML_ALIAS_EVENT { return line }
                if type == YAML_STREAM_END_EVENT || type == YAML_NO_EVENT { return nil }
            }
        }
    }

    /// The text of a configuration file, at most `maximumFileBytes` (a pipe such as
    /// `--config <(…)` is read too).
    static func read(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileProblemText(String(cString: strerror(errno)))
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data()
        guard data.count <= maximumFileBytes else { throw FileProblemText("larger than \(maximumFileBytes) bytes") }
        guard let text = String(data: data, encoding: .utf8) else { throw FileProblemText("not UTF-8 text") }
        return text
    }

    struct FileProblemText: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
