import Testing

@testable import SentraLocale

@Suite struct CatalogueTests {
    /// The keys of a shipped catalogue in file order, by section.
    static func keysBySection(_ language: Language) -> [(section: String, keys: [String])] {
        var out: [(section: String, keys: [String])] = []
        for raw in Catalogue.shippedText(language).split(separator: "\n") {
            let line = raw.trimmingSpaces
            if line.hasPrefix("# --- ") {
                out.append((String(line), []))
            } else if !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") {
                let key = line[..<eq].trimmingSpaces
                if out.isEmpty { out.append(("", [])) }
                out[out.count - 1].keys.append(key)
            }
        }
        return out
    }

    /// The `{name}` placeholders of a text.
    static func placeholders(_ text: String) -> Set<String> {
        var out = Set<String>()
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out.insert(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    @Test func theShippedCataloguesParse() throws {
        for language in Language.allCases {
            let entries = try Catalogue.parse(Catalogue.shippedText(language))
            #expect(entries.count > 50, "\(language): \(entries.count) keys")
            #expect(Catalogue.of(language).entries == entries)
        }
    }

    @Test func bothCataloguesHaveTheSameKeysInTheSameSectionsAndOrder() {
        let en = Self.keysBySection(.en)
        let id = Self.keysBySection(.id)
        #expect(en.map(\.section) == id.map(\.section))
        for (e, i) in zip(en, id) {
            #expect(e.keys == i.keys, "section \(e.section)")
        }
        let sections = en.map(\.section)
        for name in ["Dates and numbers", "Alerts", "Reports (sentractl)", "Orders", "Pay", "Access", "Dashboard"] {
            #expect(sections.contains("# --- \(name) ---"), "section \(name)")
        }
    }

    @Test func everyKeyHasTheSamePlaceholdersInBothLanguages() {
        let en = Catalogue.of(.en).entries
        let id = Catalogue.of(.id).entries
        #expect(Set(en.keys) == Set(id.keys))
        for (key, text) in en {
            #expect(Self.placeholders(text) == Self.placeholders(id[key] ?? ""), "\(key)")
        }
    }

    @Test func noKeyIsEmpty() {
        for language in Language.allCases {
            for (key, text) in Catalogue.of(language).entries {
                #expect(!text.isEmpty, "\(language) \(key)")
            }
        }
    }

    @Test func parseNamesTheLineOfABadEntry() {
        #expect(throws: CatalogueError(line: 3, message: "no `=`")) { try Catalogue.parse("# c\na = b\nnothing here\n") }
        #expect(throws: CatalogueError(line: 2, message: "key a given twice")) { try Catalogue.parse("a = 1\na = 2") }
        #expect(throws: CatalogueError(line: 1, message: "no key")) { try Catalogue.parse(" = 1") }
        #expect((try? Catalogue.parse("a = x = y\nb = one\\ntwo")) == ["a": "x = y", "b": "one\ntwo"])
    }

    @Test func textFillsPlaceholdersAndLeavesUnknownOnes() {
        let c = Catalogue(language: .en, entries: ["k": "{a} and {b} and {a}"])
        #expect(c.text("k", ["a": "1"]) == "1 and {b} and 1")
        #expect(c.text("missing") == "missing")
        #expect(Catalogue.fill("open { brace", ["x": "y"]) == "open { brace")
    }
}

extension CatalogueError: Equatable {
    public static func == (a: CatalogueError, b: CatalogueError) -> Bool { a.line == b.line && a.message == b.message }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
