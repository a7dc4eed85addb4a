import Foundation
import SentraWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Configuration files no one should write, given to the built binaries: `sentractl check`
/// and `sentrad` name the file, line and key and exit 1 (never a trap: 132 is SIGILL, 134
/// SIGABRT), and a running daemon keeps its configuration and keeps counting.
@Suite(.serialized) struct HostileConfigTests {
    static let example = (try? String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)) ?? ""

    /// The example with `line` (1-based) replaced, written to a new directory.
    static func write(replacing line: Int, with text: String, files: [String: String] = [:]) throws -> URL {
        var lines = example.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count > line else { throw TestFailure("the example has \(lines.count) lines") }
        lines[line - 1] = text
        let dir = Paths.tempDir("hostile")
        for (name, content) in files { try content.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let url = dir.appendingPathComponent("sentra.yaml")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The lines of the example these tests replace.
    @Test func theExampleHasTheLinesTheseTestsReplace() {
        let lines = Self.example.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count > 231)
        #expect(lines[23].hasPrefix("  staleness: 5m"))
        #expect(lines[10] == "  port: 1883")
        #expect(lines[28] == "    picks: 300")
        #expect(lines[35] == "  hourly_days: 400")
        #expect(lines[235] == "plugins: []")
        #expect(lines[41].hasPrefix("  # token_file:"))
    }

    static let hostile: [(line: Int, text: String, named: String)] = [
        (24, "  staleness: 99999999999999d", "24: ingest.staleness:"),
        (24, "  staleness: 1e300", "24: ingest.staleness:"),
        (24, "  staleness: inf", "24: ingest.staleness:"),
        (24, "  staleness: 1e19", "24: ingest.staleness:"),
        (24, "  staleness: -5s", "24: ingest.staleness:"),
        (36, "  hourly_days: 99999999999999999999", "36: retention.hourly_days:"),
        (29, "    picks: 1e300", "29: ingest.plausible_per_minute.picks:"),
        (11, "  port: 70000", "11: broker.port:"),
        (11, "  port: 0", "11: broker.port:"),
        (11, "  port: 1:2:3:4:5:6:7:8:9:10:11:12:13", "11: broker.port:"),
        (236, "plugins:\n  - { name: ../../evil, command: [x] }", "237: plugins[0].name:"),
    ]

    @Test(arguments: 0..<hostile.count)
    func checkRefusesAHostileValueNamingFileLineAndKey(_ i: Int) throws {
        let h = Self.hostile[i]
        let file = try Self.write(replacing: h.line, with: h.text)
        let (status, out) = try run(Paths.binary("sentractl"), ["check", "--config", file.path], timeout: 60)
        #expect(status == 1, "\(h.text): exit \(status): \(out)")
        #expect(out.contains("\(file.path):\(h.named)"), "\(h.text): \(out)")
    }

    @Test func sentradStartedOnAHostileFileExits1NamingFileLineAndKey() throws {
        let file = try Self.write(replacing: 24, with: "  staleness: 1e300")
        let dir = file.deletingLastPathComponent()
        let (status, out) = try run(
            Paths.binary("sentrad"),
            ["--config", file.path, "--state-dir", dir.appendingPathComponent("state").path, "--log-dir", dir.path],
            timeout: 60)
        #expect(status == 1, "exit \(status): \(out)")
        #expect(out.contains("\(file.path):24: ingest.staleness:"), "\(out)")
    }

    static let tokens: [(files: [String: String], words: String)] = [
        ([:], "no such file"), (["token": ""], "empty"), (["token": "abcde\n"], "at least 16"),
    ]

    /// What sentrad refuses at start, check refuses: a token file missing, empty or short.
    @Test(arguments: 0..<tokens.count)
    func checkRefusesTheTokenFilesSentradRefuses(_ i: Int) throws {
        let t = Self.tokens[i]
        let file = try Self.write(replacing: 42, with: "  token_file: token", files: t.files)
        let dir = file.deletingLastPathComponent()
        let (status, out) = try run(Paths.binary("sentractl"), ["check", "--config", file.path], timeout: 60)
        #expect(status == 1, "exit \(status): \(out)")
        #expect(out.contains("\(file.path):42: http.token_file:") && out.contains(t.words), "\(out)")
        let (daemonStatus, daemonOut) = try run(
            Paths.binary("sentrad"),
            ["--config", file.path, "--state-dir", dir.appendingPathComponent("state").path, "--log-dir", dir.path],
            timeout: 60)
        #expect(daemonStatus == 1, "exit \(daemonStatus): \(daemonOut)")
        #expect(daemonOut.contains("\(file.path):42: http.token_file:"), "\(daemonOut)")
        // With a good token both accept it (check exits 0 without starting anything).
        try "0123456789abcdef\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let (good, goodOut) = try run(Paths.binary("sentractl"), ["check", "--config", file.path], timeout: 60)
        #expect(good == 0, "\(goodOut)")
    }

    @Test func aReloadWithAnOverflowingDurationKeepsTheRunningConfigurationAndCounting() async throws {
        let broker = try await Broker()
        let dir = Paths.tempDir("hostile-reload")
        let config = dir.appendingPathComponent("sentra.yaml")
        try Self.example.write(to: config, atomically: true, encoding: .utf8)
        let daemon = Daemon(broker: broker, config: config.path, dir: dir)
        daemon.ctlConfig = Paths.exampleConfig
        try await daemon.start()
        let t = nowMillis() - 60_000
        try broker.publish("sentra/ws-bandar-01/loom/loom-01", [#"{"ts":\#(t),"picks":5}"#])
        try await eventually("the first reading") { try daemon.accepted() == 1 }

        // The new file would also add loom-41: if it were applied, loom-41's reading would count.
        let hostile = Self.example.replacingOccurrences(of: "  staleness: 5m", with: "  staleness: 1e300")
            .replacingOccurrences(
                of: "\ndevices:\n",
                with:
                    "  - { id: loom-41, workshop: ws-bandar-01, craftsman: c-siti }\n\ndevices:\n  - { id: loom-41, workshop: ws-bandar-01, kind: loom, loom: loom-41 }\n"
            )
        #expect(hostile.contains("staleness: 1e300") && hostile.contains("id: loom-41"))
        try hostile.write(to: config, atomically: true, encoding: .utf8)
        guard let child = daemon.child else { throw TestFailure("sentrad is not running") }
        child.signal(SIGHUP)
        try await eventually("the rejection of the new file") { child.output.contains("new configuration rejected") }
        #expect(child.output.contains("\(config.path):24: ingest.staleness:"), "\(child.output.suffix(2000))")
        #expect(child.isRunning)

        // Published after the reload: loom-01 still counts, loom-41 is still unknown.
        try broker.publish("sentra/ws-bandar-01/loom/loom-01", [#"{"ts":\#(t + 1000),"picks":9}"#])
        try broker.publish("sentra/ws-bandar-01/loom/loom-41", [#"{"ts":\#(t + 1000),"picks":9}"#])
        try await eventually("the readings after the reload") {
            try daemon.accepted() == 2 && daemon.rejected("unknown_device") == 1
        }
        let (code, body) = try await HTTPTests.get(daemon.httpURL + "/api/v1/status")
        #expect(code == 200, "\(body)")
        let reloads = try WireJSON.decode(StatusAnswer.self, from: body).reloads
        #expect(reloads == StatusAnswer.Reloads(count: 0, failures: 1))
        #expect(child.isRunning)
        try await daemon.terminate()
    }
}
