import Foundation
import SentraLocale
import Testing

@testable import SentraConfig
@testable import SentraCore

/// `sentra.language` and rule summaries given per language.
@Suite struct LanguageConfigTests {
    func errors(_ yaml: String) -> [ConfigurationError] {
        do {
            _ = try Configuration.parse(yaml: yaml, file: "bad.yaml")
            return []
        } catch let e as ConfigurationErrors {
            return e.errors
        } catch {
            return [ConfigurationError(file: "?", line: 0, key: "?", message: "\(error)")]
        }
    }

    func summary(_ yaml: String) throws -> String? {
        try Configuration.parse(yaml: yaml, file: "ok.yaml").rules.first?.summary
    }

    static let rule = "rules:\n  - { name: r, type: counter_reset, summary: { en: \"Board {device}\", id: \"Papan {device}\" } }\n"

    @Test func theLanguageIsEnglishUnlessTheFileSaysIndonesian() throws {
        #expect(try Configuration.parse(yaml: ConfigurationTests.base, file: "a.yaml").language == .en)
        let id = try Configuration.parse(yaml: ConfigurationTests.base + "sentra:\n  language: id\n", file: "a.yaml")
        #expect(id.language == .id)
        let en = try Configuration.parse(yaml: ConfigurationTests.base + "sentra:\n  language: en\n", file: "a.yaml")
        #expect(en.language == .en)
    }

    @Test func anUnknownLanguageIsNamedByFileLineAndKey() {
        for bad in ["fr", "ID", "id-ID", "[id]"] {
            let e = errors(ConfigurationTests.base + "sentra:\n  name: X\n  language: \(bad)\n")
            #expect(e.count == 1, "\(bad): \(e)")
            #expect(e.first?.file == "bad.yaml" && e.first?.line == 11 && e.first?.key == "sentra.language", "\(bad): \(e)")
        }
        #expect(errors(ConfigurationTests.base + "sentra:\n  language: fr\n").first?.message.contains("'fr'") == true)
    }

    @Test func theSentrasLanguagePicksTheSummary() throws {
        #expect(try summary(ConfigurationTests.base + "sentra:\n  language: id\n" + Self.rule) == "Papan {device}")
        #expect(try summary(ConfigurationTests.base + "sentra:\n  language: en\n" + Self.rule) == "Board {device}")
        #expect(try summary(ConfigurationTests.base + Self.rule) == "Board {device}")
        // The language key may come after the rules: the whole file is read first.
        #expect(try summary(ConfigurationTests.base + Self.rule + "sentra:\n  language: id\n") == "Papan {device}")
    }

    @Test func englishIsTheFallbackThenTheOnlyOneGiven() throws {
        let onlyEn = "rules:\n  - name: r\n    type: counter_reset\n    summary:\n      en: Board\n"
        #expect(try summary(ConfigurationTests.base + "sentra:\n  language: id\n" + onlyEn) == "Board")
        let onlyId = "rules:\n  - name: r\n    type: counter_reset\n    summary: { id: Papan }\n"
        #expect(try summary(ConfigurationTests.base + onlyId) == "Papan")
        #expect(try summary(ConfigurationTests.base + "rules:\n  - { name: r, type: counter_reset, summary: Plain }\n") == "Plain")
    }

    @Test func unknownLanguageKeysAndEmptyTextsAreNamed() {
        let e = errors(ConfigurationTests.base + "rules:\n  - name: r\n    type: counter_reset\n    summary: { en: B, fr: C, de: D }\n")
        #expect(e.count == 2, "\(e)")
        #expect(e.allSatisfy { $0.line == 12 && $0.key == "rules[0].summary" })
        #expect(e.contains { $0.message.contains("'fr'") } && e.contains { $0.message.contains("'de'") })
        let empty = errors(ConfigurationTests.base + "rules:\n  - name: r\n    type: counter_reset\n    summary:\n      id: \"\"\n")
        #expect(empty.map(\.key) == ["rules[0].summary.id"] && empty.first?.line == 13)
        let none = errors(ConfigurationTests.base + "rules:\n  - name: r\n    type: counter_reset\n    summary: {}\n")
        #expect(none.map(\.key) == ["rules[0].summary"])
        let list = errors(ConfigurationTests.base + "rules:\n  - name: r\n    type: counter_reset\n    summary: [a, b]\n")
        #expect(list.map(\.key) == ["rules[0].summary"])
    }

    @Test func aRuleWithoutASummaryGetsTheCataloguesInTheSentrasLanguage() throws {
        let threshold = "rules:\n  - { name: r, type: threshold, field: v, below: 198 }\n"
        #expect(try summary(ConfigurationTests.base + threshold) == "v {value} below {limit} for {for} at {workshop}/{device}")
        #expect(
            try summary(ConfigurationTests.base + "sentra: { language: id }\n" + threshold)
                == "v {value} di bawah {limit} selama {for} di {workshop}/{device}")
        let stalled = "rules:\n  - { name: r, type: stalled }\n"
        #expect(
            try summary(ConfigurationTests.base + "sentra: { language: id }\n" + stalled)
                == "Alat tenun {loom} milik {craftsman} di {workshop} macet selama {for}")
    }

    @Test func theExampleIsIndonesianWithBothTextsOfEveryRule() throws {
        let path = ConfigurationTests.examplePath
        let c = try Configuration.load(path: path)
        #expect(c.language == .id)
        let sag = try #require(c.rules.first { $0.name == "voltage_sag" })
        #expect(sag.summary == "Tegangan {value} V di bawah {limit} V selama {for} di {workshop}/{device}")
        // Every shipped rule has its own text in both languages.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let english = try Configuration.parse(yaml: text.replacingOccurrences(of: "language: id", with: "language: en"), file: path)
        #expect(english.rules.count == c.rules.count && c.rules.count == 9)
        for (en, id) in zip(english.rules, c.rules) {
            #expect(en.summary != id.summary, "\(en.name)")
            #expect(!id.summary.isEmpty && !en.summary.isEmpty)
        }
        #expect(
            english.rules.first { $0.name == "voltage_sag" }?.summary
                == "Voltage {value} V below {limit} V for {for} at {workshop}/{device}")
    }
}
