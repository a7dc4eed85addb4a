import Foundation
import Testing

@testable import SentraConfig
@testable import SentraCore

/// Values no configuration should hold: each is an error naming its line and key, never a trap.
@Suite struct HostileValueTests {
    /// Eight lines and a blank one: a section appended after it is on line 9, its first key on line 10.
    static let base = ConfigurationTests.base

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

    /// `section:` on line 9 and `key: value` on line 10; the errors about it.
    func errors(_ section: String, _ key: String, _ value: String) -> [ConfigurationError] {
        errors(Self.base + "\(section):\n  \(key): \(value)\n")
    }

    func accepts(_ section: String, _ key: String, _ value: String) throws -> Configuration {
        try Configuration.parse(yaml: Self.base + "\(section):\n  \(key): \(value)\n", file: "ok.yaml")
    }

    static let hostileDurations = [
        "99999999999999d", "1e300", "inf", "-inf", "nan", "1e19", "-5s", "-1", "5x", "1h30", "1.2.3s", ".inf", "1e3s", "٣s",
        "9223372036854775807", "99999999999999999999s",
    ]

    @Test(arguments: hostileDurations)
    func aHostileDurationIsAnErrorNamingLineAndKey(_ value: String) {
        let e = errors("ingest", "staleness", "\"\(value)\"")
        #expect(e.count == 1, "\(e)")
        #expect(e.first?.file == "bad.yaml")
        #expect(e.first?.line == 10)
        #expect(e.first?.key == "ingest.staleness")
        // Unquoted too (YAML reads some of these as numbers).
        let plain = errors("ingest", "staleness", value)
        #expect(plain.contains { $0.line == 10 && $0.key == "ingest.staleness" }, "\(plain)")
    }

    @Test func everyDurationKeyIsBounded() {
        let cases: [(String, String)] = [
            ("ingest", "max_age"), ("ingest", "max_future"), ("ingest", "staleness"), ("ingest", "commit_interval"),
            ("broker", "reconnect_min"), ("broker", "reconnect_max"),
        ]
        for (section, key) in cases {
            let e = errors(section, key, "99999999999999d")
            #expect(e.contains { $0.line == 10 && $0.key == "\(section).\(key)" && $0.message.contains("out of range") }, "\(key): \(e)")
        }
        let rule = "rules:\n  - { name: r, type: threshold, field: v, below: 200, for: 1e300s, keep_firing_for: 1e19 }\n"
        let r = errors(Self.base + rule)
        #expect(r.contains { $0.line == 10 && $0.key == "rules[0].for" }, "\(r)")
        #expect(r.contains { $0.line == 10 && $0.key == "rules[0].keep_firing_for" }, "\(r)")
        let plugin = "plugins:\n  - { name: p, command: x, timeout: 99999999999999d }\n"
        #expect(errors(Self.base + plugin).contains { $0.line == 10 && $0.key == "plugins[0].timeout" })
    }

    @Test func durationBoundsAreInclusive() throws {
        #expect(try accepts("ingest", "max_age", "3660d").ingest.limits.maxAgeMillis == 316_224_000_000)
        #expect(errors("ingest", "max_age", "3661d").contains { $0.key == "ingest.max_age" && $0.message.contains("3660d") })
        #expect(try accepts("ingest", "staleness", "366d").ingest.stalenessMillis == 31_622_400_000)
        #expect(try accepts("ingest", "staleness", "0s").ingest.stalenessMillis == 0)
        #expect(errors("ingest", "staleness", "367d").contains { $0.key == "ingest.staleness" })
        #expect(try accepts("ingest", "max_future", "366d").ingest.limits.maxFutureMillis == 31_622_400_000)
        #expect(try accepts("ingest", "commit_interval", "10ms").commitIntervalMillis == 10)
        #expect(try accepts("ingest", "commit_interval", "1h").commitIntervalMillis == 3_600_000)
        #expect(errors("ingest", "commit_interval", "9ms").contains { $0.key == "ingest.commit_interval" })
        #expect(errors("ingest", "commit_interval", "61m").contains { $0.key == "ingest.commit_interval" })
        #expect(try accepts("broker", "reconnect_max", "1h").broker.reconnectMaxSeconds == 3600)
        #expect(errors("broker", "reconnect_min", "500ms").contains { $0.key == "broker.reconnect_min" })
        let both = errors(Self.base + "broker:\n  reconnect_min: 10m\n  reconnect_max: 5m\n")
        #expect(both.contains { $0.key == "broker.reconnect_min" && $0.message.contains("reconnect_max") })
    }

    @Test func durationsNeverTrapWhenParsed() {
        #expect(Reader.parseDuration("99999999999999d") == nil)
        #expect(Reader.parseDuration("1e300") == nil)
        #expect(Reader.parseDuration("inf") == nil)
        #expect(Reader.parseDuration("nan") == nil)
        #expect(Reader.parseDuration("-5s") == nil)
        #expect(Reader.parseDuration("1.5s") == 1500)
        #expect(Reader.parseDuration("2h30m") == 9_000_000)
    }

    static let hostileIntegers = [
        "99999999999999999999", "-99999999999999999999", "1e19", "1e300", ".inf", "nan", "99999999999:0",
        "1:2:3:4:5:6:7:8:9:10:11:12:13", "0x7fffffffffffffffff", "\"8470\"", "12abc", "",
    ]

    @Test(arguments: hostileIntegers)
    func aHostileIntegerIsAnErrorNamingLineAndKey(_ value: String) {
        for (section, key) in [
            ("broker", "port"), ("ingest", "journal_bytes"), ("alert_log", "max_file_bytes"), ("retention", "hourly_days"),
        ] {
            let e = errors(section, key, value)
            #expect(e.contains { $0.line == 10 && $0.key == "\(section).\(key)" }, "\(key): \(value): \(e)")
        }
    }

    @Test func portsAndSizesAreBounded() throws {
        for port in ["0", "70000", "-1", "65536"] {
            #expect(
                errors("broker", "port", port).contains { $0.line == 10 && $0.key == "broker.port" && $0.message.contains("1...65535") })
            #expect(errors("http", "port", port).contains { $0.line == 10 && $0.key == "http.port" })
        }
        #expect(try accepts("broker", "port", "1").broker.port == 1)
        #expect(try accepts("broker", "port", "65535").broker.port == 65535)
        #expect(try accepts("broker", "port", "1_883").broker.port == 1883)
        #expect(try accepts("retention", "hourly_days", "36600").hourlyRetentionDays == 36600)
        #expect(errors("retention", "hourly_days", "36601").contains { $0.key == "retention.hourly_days" })
        #expect(try accepts("alert_log", "max_file_bytes", "1099511627776").alertLog.maxFileBytes == 1_099_511_627_776)
        #expect(errors("alert_log", "max_kept_bytes", "1099511627777").contains { $0.key == "alert_log.max_kept_bytes" })
        #expect(try accepts("ingest", "journal_bytes", "68719476736").journalBytes == 68_719_476_736)
        #expect(errors("ingest", "journal_bytes", "68719476737").contains { $0.key == "ingest.journal_bytes" })
        #expect(errors("broker", "keepalive", "3601").contains { $0.key == "broker.keepalive" })
        let days = errors(Self.base + "rules:\n  - { name: low, type: below_usual, days: 99999999999999999999 }\n")
        #expect(days.contains { $0.line == 10 && $0.key == "rules[0].days" })
        let id = String(repeating: "x", count: 65536)
        #expect(errors("broker", "client_id", id).contains { $0.key == "broker.client_id" })
    }

    @Test func numbersAreFiniteAndBounded() throws {
        for v in ["1e300", ".inf", "-.inf", ".nan", "1:2:3:4:5:6:7:8:9:10:11:12:13", "-1"] {
            #expect(errors("ingest", "voltage_low", v).contains { $0.line == 10 && $0.key == "ingest.voltage_low" }, "\(v)")
        }
        #expect(try accepts("ingest", "no_power_below", "0").ingest.noPowerBelow == 0)
        let rate = errors(Self.base + "ingest:\n  plausible_per_minute:\n    picks: 1e13\n")
        #expect(rate.contains { $0.line == 11 && $0.key == "ingest.plausible_per_minute.picks" })
        let rule = "rules:\n  - { name: r, type: threshold, field: v, below: 1e16 }\n"
        #expect(errors(Self.base + rule).contains { $0.line == 10 && $0.key == "rules[0].below" })
        let nan = "rules:\n  - { name: r, type: below_usual, fraction: .nan }\n"
        #expect(errors(Self.base + nan).contains { $0.line == 10 && $0.key == "rules[0].fraction" })
    }

    @Test(arguments: ["../../evil", "a/b", "\"\"", "Evil", "-x", ".hidden", "a b", String(repeating: "p", count: 64)])
    func aPluginNameMustBeAnID(_ name: String) {
        let e = errors(Self.base + "plugins:\n  - name: \(name)\n    command: [x]\n")
        #expect(e.contains { $0.file == "bad.yaml" && $0.line == 10 && $0.key == "plugins[0].name" }, "\(e)")
    }

    @Test func goodPluginNamesLoad() throws {
        let name = "p" + String(repeating: "0", count: 62)
        let yaml = Self.base + "plugins:\n  - { name: \(name), command: [x] }\n  - { name: ok_1-x, builtin: journald }\n"
        let c = try Configuration.parse(yaml: yaml, file: "ok.yaml")
        #expect(c.plugins.map(\.name) == [name, "ok_1-x"])
        let sev = errors(Self.base + "plugins:\n  - { name: p, command: [x], min_severity: loud }\n")
        #expect(sev.contains { $0.line == 10 && $0.key == "plugins[0].min_severity" })
        let nested = errors(Self.base + "plugins:\n  - { name: p, command: [x, [y]], options: { a: { b: c } } }\n")
        #expect(nested.contains { $0.line == 10 && $0.key == "plugins[0].command" }, "\(nested)")
        let empty = errors(Self.base + "plugins:\n  - { name: p, command: [\"\", a] }\n")
        #expect(empty.contains { $0.line == 10 && $0.key == "plugins[0].command" }, "\(empty)")
        let options = errors(Self.base + "plugins:\n  - { name: p, command: [x], options: { a: { b: c } } }\n")
        #expect(options.contains { $0.line == 10 && $0.key == "plugins[0].options" }, "\(options)")
    }

    @Test func aliasesAreRefusedQuickly() {
        // Aliases as keys, each the one before twice: Yams would hash 2^40 nodes.
        var yaml = "a0: &a0 {k: v}\n"
        for i in 1..<40 { yaml += "a\(i): &a\(i) {*a\(i - 1) : 1, k\(i): *a\(i - 1)}\n" }
        let e = errors(yaml)
        #expect(e.count == 1)
        #expect(e.first?.line == 2 && e.first?.message.contains("alias") == true, "\(e)")
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = "workshops: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        #expect(errors(deep).contains { $0.message.contains("not valid YAML") })
    }

    /// Every value of the example replaced, one at a time, by each hostile value: the loader
    /// answers (accepts or names problems), never traps.
    @Test func noValueOfTheExampleTrapsTheLoader() throws {
        let text = try String(contentsOfFile: ConfigurationTests.examplePath, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let values = ["99999999999999d", "1:2:3:4:5:6:7:8:9:10:11:12:13"]
        var tried = 0
        for (i, line) in lines.enumerated() {
            // Not the registry's one-line items (`- { id: … }`): cutting one only breaks the YAML.
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let colon = line.firstIndex(of: ":"), !trimmed.hasPrefix("#"), !trimmed.hasPrefix("- {"),
                line[line.index(after: colon)...].hasPrefix(" ")
            else { continue }
            for v in values {
                var copy = lines
                copy[i] = line[...colon] + " " + v
                _ = errors(copy.joined(separator: "\n"))
                tried += 1
            }
        }
        #expect(tried > 150)
    }
}
