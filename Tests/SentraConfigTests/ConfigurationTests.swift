import Foundation
import Testing

@testable import SentraConfig
@testable import SentraCore

@Suite struct ConfigurationTests {
    static var examplePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/sentra.example.yaml").path
    }

    @Test func theExampleIsValidAndComplete() throws {
        let c = try Configuration.load(path: Self.examplePath)
        #expect(c.registry.workshops.count == 3)
        #expect(c.registry.craftsmen.count == 8)
        #expect(c.registry.looms.count == 40)
        #expect(c.registry.devices.filter { $0.kind == .power }.count == 3)
        #expect(c.registry.devices.filter { $0.kind == .water }.count == 3)
        #expect(c.timeZone == "Asia/Jakarta")
        let names = Set(c.rules.map(\.name))
        for r in ["voltage_sag", "power_outage", "water_low_flow", "loom_stalled", "device_silent"] { #expect(names.contains(r)) }
    }

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

    static let base = """
        workshops:
          - id: ws-1
        craftsmen:
          - { id: c-a, workshop: ws-1 }
        looms:
          - { id: loom-1, workshop: ws-1, craftsman: c-a }
        devices:
          - { id: loom-1, workshop: ws-1, kind: loom, loom: loom-1 }

        """

    @Test func httpBeyondLoopbackNeedsATokenFile() throws {
        let e = errors(Self.base + "http:\n  host: 0.0.0.0\n  enabled: yes-please\n")
        #expect(e.contains { $0.line == 11 && $0.key == "http.enabled" && $0.message.contains("true or false") })
        let e2 = errors(Self.base + "http:\n  host: 192.168.1.10\n")
        #expect(e2.contains { $0.line == 10 && $0.key == "http.host" && $0.message.contains("token_file") })
        let ok = try Configuration.parse(yaml: Self.base + "http:\n  host: 192.168.1.10\n  token_file: t\n", file: "ok.yaml")
        #expect(ok.http.tokenFile == "t")
        let off = try Configuration.parse(yaml: Self.base + "http:\n  enabled: false\n  host: 0.0.0.0\n", file: "off.yaml")
        #expect(!off.http.enabled)
        for h in ["127.0.0.1", "127.1.2.3", "::1", "localhost"] { #expect(Configuration.HTTP.isLoopback(h), "\(h)") }
        for h in ["0.0.0.0", "::", "192.168.1.10", "127.0.0.256", "sentra.local"] { #expect(!Configuration.HTTP.isLoopback(h), "\(h)") }
        // An override on the command line is checked too.
        var c = try Configuration.parse(yaml: Self.base, file: "base.yaml")
        try c.override(broker: nil, stateDirectory: nil, logDirectory: nil, http: "0.0.0.0:8470")
        #expect(throws: ConfigurationErrors.self) { try c.validateHTTP() }
    }

    @Test func secretsKeepTheirSpacesAndTokensMustBeLong() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("sentra.yaml").path
        try " pass word \n".write(to: dir.appendingPathComponent("pw"), atomically: true, encoding: .utf8)
        try "short\n".write(to: dir.appendingPathComponent("short"), atomically: true, encoding: .utf8)
        try "0123456789abcdef\n".write(to: dir.appendingPathComponent("long"), atomically: true, encoding: .utf8)
        var c = try Configuration.parse(yaml: Self.base, file: file)
        #expect(try c.readSecret("pw", key: "broker.password_file") == " pass word ")
        #expect(try c.httpToken() == nil)
        c.http.tokenFile = "short"
        #expect(throws: ConfigurationErrors.self) { try c.httpToken() }
        c.http.tokenFile = "long"
        #expect(try c.httpToken() == "0123456789abcdef")
        c.http.tokenFile = "missing"
        #expect(throws: ConfigurationErrors.self) { try c.httpToken() }
    }

    @Test func errorsNameFileLineAndKey() {
        let e = errors(
            Self.base + """
                  - { id: pm-1, workshop: ws-9, kind: power }
                  - { id: loom-1, workshop: ws-1, kind: loom, loom: loom-1 }
                  - { id: x, workshop: ws-1, kind: gas }
                """)
        #expect(e.contains { $0.file == "bad.yaml" && $0.line == 9 && $0.key == "devices[1].workshop" && $0.message.contains("ws-9") })
        #expect(e.contains { $0.line == 10 && $0.key == "devices[2].id" && $0.message.contains("duplicate") })
        #expect(e.contains { $0.line == 11 && $0.key == "devices[3].kind" })
        #expect(e.allSatisfy { $0.description.hasPrefix("bad.yaml:") })
    }

    @Test func aLoomWithoutCraftsmanAndDuplicateIDsAreErrors() {
        let e = errors(
            """
            workshops:
              - id: ws-1
              - id: ws-1
            craftsmen:
              - { id: c-a, workshop: ws-1 }
              - { id: c-b, workshop: ws-2 }
            looms:
              - { id: loom-1, workshop: ws-1 }
              - { id: loom-2, workshop: ws-1, craftsman: c-z }
            """)
        #expect(e.contains { $0.line == 3 && $0.key == "workshops[1].id" && $0.message.contains("duplicate") })
        #expect(e.contains { $0.line == 6 && $0.key == "craftsmen[1].workshop" && $0.message.contains("ws-2") })
        #expect(e.contains { $0.line == 8 && $0.key == "looms[0].craftsman" })
        #expect(e.contains { $0.line == 9 && $0.key == "looms[1].craftsman" && $0.message.contains("c-z") })
    }

    @Test func missingKeysAreReportedAtTheirMapping() {
        let e = errors(
            Self.base + """
                  - { id: pm-1, kind: power }
                  - { workshop: ws-1, kind: water }
                  - { id: wm-2, workshop: "", kind: water }
                """)
        #expect(e.contains { $0.line == 9 && $0.key == "devices[1].workshop" && $0.message.contains("missing") })
        #expect(e.contains { $0.line == 10 && $0.key == "devices[2].id" && $0.message.contains("missing") })
        #expect(e.contains { $0.line == 11 && $0.key == "devices[3].workshop" && $0.message.contains("non-empty") })
    }

    @Test func typosAndBadValuesAreNamedByLineAndKey() {
        let e = errors(
            Self.base + """
                ingest:
                  staleness: soon
                  queue_capacty: 5
                sentra:
                  timezone: Mars/Olympus
                """)
        #expect(e.contains { $0.line == 10 && $0.key == "ingest.staleness" })
        #expect(e.contains { $0.line == 11 && $0.key == "ingest.queue_capacty" && $0.message.contains("unknown key") })
        #expect(e.contains { $0.line == 13 && $0.key == "sentra.timezone" })
    }

    @Test func brokenYAMLNamesItsLine() {
        let e = errors("workshops:\n  - id: ws-1\n   bad: [\n")
        #expect(e.count == 1)
        #expect(e.first?.line ?? 0 >= 2)
    }

    @Test func reassignmentSinceADate() throws {
        let c = try Configuration.parse(
            yaml: Self.base.replacingOccurrences(
                of: "{ id: loom-1, workshop: ws-1, craftsman: c-a }",
                with: "{ id: loom-1, workshop: ws-1, craftsman: c-a, reassigned: [{ craftsman: c-b, since: 2026-11-20 }] }"
            )
            .replacingOccurrences(
                of: "  - { id: c-a, workshop: ws-1 }", with: "  - { id: c-a, workshop: ws-1 }\n  - { id: c-b, workshop: ws-1 }"),
            file: "x.yaml")
        let loom = try #require(c.registry.loom("loom-1"))
        // 2026-11-20T00:00+07:00 is 2026-11-19T17:00Z.
        let since: Int64 = 1_795_107_600_000
        #expect(loom.craftsman(at: since - 1) == "c-a")
        #expect(loom.craftsman(at: since) == "c-b")
    }

    @Test func durationsReadWithUnits() {
        #expect(Reader.parseDuration("30s") == 30_000)
        #expect(Reader.parseDuration("1h30m") == 5_400_000)
        #expect(Reader.parseDuration("250ms") == 250)
        #expect(Reader.parseDuration("7d") == 604_800_000)
        #expect(Reader.parseDuration("soon") == nil)
    }

    @Test func theTopicPrefixIsConfiguredAndChecked() throws {
        let c = try Configuration.parse(yaml: Self.base + "broker:\n  topic_prefix: coop/bandar\n", file: "x.yaml")
        #expect(c.broker.topicPrefix == "coop/bandar")
        #expect(c.registry.topicPrefix == "coop/bandar")
        #expect(c.registry.topic(of: c.registry.devices[0]).hasPrefix("coop/bandar/ws-1/"))
        #expect(try Configuration.parse(yaml: Self.base, file: "x.yaml").registry.topicPrefix == "sentra")
        for bad in ["sentra/", "/sentra", "a//b", "sentra/#", "+"] {
            let e = errors(Self.base + "broker:\n  topic_prefix: \"\(bad)\"\n")
            #expect(e.contains { $0.key == "broker.topic_prefix" }, "\(bad)")
        }
    }

    @Test func anObsoleteKeyLoadsWithANotice() throws {
        let c = try Configuration.parse(yaml: Self.base + "ingest:\n  queue_capacity: 1000\n", file: "x.yaml")
        #expect(c.notices.count == 1)
        #expect(c.notices.first?.key == "ingest.queue_capacity")
        #expect(c.notices.first?.line == 10)
    }

    @Test func theUsualSpansTheBelowUsualRulesDays() throws {
        #expect(try Configuration.parse(yaml: Self.base, file: "x.yaml").usualDays == 14)
        let rule = "rules:\n  - { name: low, type: below_usual, fraction: 0.5, days: 21 }\n"
        #expect(try Configuration.parse(yaml: Self.base + rule, file: "x.yaml").usualDays == 21)
    }
}
