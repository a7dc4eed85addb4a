/// Every word Sentra shows a person, one catalogue per language (`Catalogues/en.strings`,
/// `Catalogues/id.strings`, compiled into the binary): `key = text` lines, `#` comments,
/// `{name}` placeholders. Code names keys only; a test checks both catalogues have the same keys.
public struct Catalogue: Sendable {
    public let language: Language
    public let entries: [String: String]

    public init(language: Language, entries: [String: String]) {
        self.language = language
        self.entries = entries
    }

    private static let english = Catalogue(language: .en, entries: parseOrEmpty(PackageResources.en_strings))
    private static let indonesian = Catalogue(language: .id, entries: parseOrEmpty(PackageResources.id_strings))

    /// The catalogue of `language`, parsed once.
    public static func of(_ language: Language) -> Catalogue {
        switch language {
        case .en: english
        case .id: indonesian
        }
    }

    /// The text of `key`; the key itself when the catalogue lacks it (a test forbids that).
    public subscript(_ key: String) -> String { entries[key] ?? key }

    /// The text of `key` with each `{name}` replaced by `args[name]`; unknown placeholders stay.
    public func text(_ key: String, _ args: [String: String] = [:]) -> String {
        Self.fill(self[key], args)
    }

    /// `template` with each `{name}` that `args` has replaced.
    public static func fill(_ template: String, _ args: [String: String]) -> String {
        guard !args.isEmpty, template.contains("{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            out += args[name] ?? String(rest[open...close])
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// A catalogue's lines: `key = text`; blank lines and `#` comments skipped; `\n` in a text
    /// is a line break. A line that is neither is an error naming its number.
    public static func parse(_ text: String) throws(CatalogueError) -> [String: String] {
        var out: [String: String] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else { throw CatalogueError(line: i + 1, message: "no `=`") }
            let key = line[..<eq].trimmed
            guard !key.isEmpty else { throw CatalogueError(line: i + 1, message: "no key") }
            guard out[key] == nil else { throw CatalogueError(line: i + 1, message: "key \(key) given twice") }
            out[key] = line[line.index(after: eq)...].trimmed.unescapingLineBreaks
        }
        return out
    }

    private static func parseOrEmpty(_ bytes: [UInt8]) -> [String: String] {
        (try? parse(String(decoding: bytes, as: UTF8.self))) ?? [:]
    }

    /// The shipped catalogues' texts, to check them (tests).
    public static func shippedText(_ language: Language) -> String {
        switch language {
        case .en: String(decoding: PackageResources.en_strings, as: UTF8.self)
        case .id: String(decoding: PackageResources.id_strings, as: UTF8.self)
        }
    }
}

public struct CatalogueError: Error, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (Foundation is not needed for that).
    var trimmed: String {
        let s = self.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(s.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }

    /// `\n` (backslash, n) as a line break.
    var unescapingLineBreaks: String {
        guard contains("\\") else { return String(self) }
        return split(separator: "\\n", omittingEmptySubsequences: false).joined(separator: "\n")
    }
}
