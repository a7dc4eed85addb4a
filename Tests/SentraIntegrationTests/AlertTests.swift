import Foundation
import SentraWire
import Testing

/// Alerts end to end: the built daemon, a real broker, the alert log on disk.
@Suite(.serialized) struct AlertTests {
    func alertLines(_ daemon: Daemon) -> [AlertLine] {
        let path = daemon.dir.appendingPathComponent("log/alerts.jsonl").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? WireJSON.decode(AlertLine.self, from: $0) }
    }

    @Test func aVoltageSagFiresOnceAndResolvesOnceAcrossARestart() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        let t0 = nowMillis() - 3_600_000
        let topic = "sentra/ws-bandar-01/power/pm-1"
        let v = { (dt: Int64, volts: Double) in #"{"ts":\#(t0 + dt * 1000),"v":\#(volts),"kwh":\#(100 + Double(dt) / 1000)}"# }
        try broker.publish(topic, [v(0, 221), v(10, 187), v(20, 186), v(30, 188), v(40, 187), v(50, 190)])
        try await eventually("the firing line") { alertLines(daemon).contains { $0.rule == "voltage_sag" } }
        try await daemon.terminate()

        // Restarted while the sag goes on: no second firing line.
        try await daemon.start()
        try broker.publish(topic, [v(60, 187), v(70, 201), v(80, 203)])
        try await eventually("the readings after the restart") { try daemon.accepted() == 3 }
        #expect(alertLines(daemon).filter { $0.rule == "voltage_sag" }.count == 1)
        // Back above 205 V: resolved, once.
        try broker.publish(topic, [v(90, 210), v(100, 221)])
        try await eventually("the resolved line") { alertLines(daemon).contains { $0.status == .resolved } }
        try await daemon.terminate()

        let sag = alertLines(daemon).filter { $0.rule == "voltage_sag" }
        #expect(sag.count == 2)
        #expect(sag.map(\.status) == [.firing, .resolved])
        #expect(sag[0].id == sag[1].id)
        #expect(sag[0].severity == .warning)
        #expect(sag[0].labels == ["workshop": "ws-bandar-01", "device": "pm-1"])
        #expect(sag[0].value == 187)
        #expect(sag[0].summary.contains("187"))
        #expect(sag[0].started.hasSuffix("+07:00"))
        let seqs = alertLines(daemon).map { Int($0.seq) }
        #expect(seqs == Array(1...seqs.count))
    }

    /// A line torn by a crash or a full disk (half a line at the end of `alerts.jsonl`) is cut
    /// when the daemon opens the log: the next line follows the last whole one, with the next
    /// seq, and every line of the file parses.
    @Test func aTornAlertLogTailIsCutAndTheSeqContinues() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        let t0 = nowMillis() - 3_600_000
        let topic = "sentra/ws-bandar-01/power/pm-1"
        let v = { (dt: Int64, volts: Double) in #"{"ts":\#(t0 + dt * 1000),"v":\#(volts),"kwh":\#(100 + Double(dt) / 1000)}"# }
        try broker.publish(topic, [v(0, 221), v(10, 187), v(20, 186), v(30, 188), v(40, 187)])
        try await eventually("the firing line") { alertLines(daemon).contains { $0.rule == "voltage_sag" } }
        try await daemon.terminate()
        let path = daemon.dir.appendingPathComponent("log/alerts.jsonl").path
        let text = { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        let whole = text().split(separator: "\n").count
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data(#"{"seq":\#(whole + 1),"ts":"2026-"#.utf8))
        h.closeFile()

        try await daemon.start()
        try broker.publish(topic, [v(50, 210), v(60, 221)])
        try await eventually("the resolved line") { alertLines(daemon).contains { $0.status == .resolved } }
        try await daemon.terminate()
        #expect(text().hasSuffix("\n"))
        let lines = text().split(separator: "\n")
        #expect(lines.allSatisfy { (try? WireJSON.decode(AlertLine.self, from: $0)) != nil }, "\(lines)")
        #expect(alertLines(daemon).map { Int($0.seq) } == Array(1...lines.count))
        #expect(alertLines(daemon).filter { $0.rule == "voltage_sag" }.map(\.status) == [.firing, .resolved])
    }

    /// SIGKILL right after the sag's `firing` line is on disk, before the alert's state is
    /// committed: the restart replays the journal (which fires the sag again in the engine) and
    /// writes no second `firing`; the recovery writes one `resolved` with the same id.
    @Test func aSagWhoseFiringLineWasWrittenJustBeforeASIGKILLFiresOnce() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        let c = try await daemon.start(environment: ["SENTRA_FAULT": "alert-line:1"])
        let t0 = nowMillis() - 600_000
        let topic = "sentra/ws-bandar-01/power/pm-1"
        let v = { (dt: Int64, volts: Double) in #"{"ts":\#(t0 + dt * 1000),"v":\#(volts),"kwh":\#(100 + Double(dt) / 1000)}"# }
        try broker.publish(topic, [v(0, 221), v(10, 187), v(20, 186), v(30, 188), v(40, 187)])
        #expect(try await c.wait(timeout: 60) == 128 + 9, "\(c.output)")
        daemon.child = nil
        #expect(alertLines(daemon).map(\.status) == [.firing])

        try await daemon.start()
        try broker.publish(topic, [v(50, 187), v(60, 210), v(70, 221)])
        try await eventually("the resolved line") { alertLines(daemon).contains { $0.status == .resolved } }
        try await daemon.terminate()
        let sag = alertLines(daemon).filter { $0.rule == "voltage_sag" }
        #expect(sag.map(\.status) == [.firing, .resolved], "\(sag)")
        #expect(sag.count == 2 && sag[0].id == sag[1].id)
        #expect(alertLines(daemon).map { Int($0.seq) } == Array(1...alertLines(daemon).count))
    }

    /// The same for silence, raised on the daemon's clock: its `firing` line, written just
    /// before a SIGKILL, is adopted at the restart (no second `firing` although the device is
    /// still silent), and hearing the device resolves it once. Its value counts the seconds
    /// since the device was last heard, across the restart.
    @Test func aSilenceWhoseFiringLineWasWrittenJustBeforeASIGKILLFiresOnce() async throws {
        let broker = try await Broker()
        let dir = Paths.tempDir("silence")
        var config = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        let rule = """
              - name: device_silent
                type: absent
                severity: warning
                for: 5m
                during: shift
            """
        #expect(config.contains(rule))
        config = config.replacingOccurrences(
            of: rule,
            with: """
                  - name: device_silent
                    type: absent
                    severity: warning
                    match: { device: pm-1 }
                    for: 2s
                """)
        let configPath = dir.appendingPathComponent("sentra.yaml").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let daemon = Daemon(broker: broker, config: configPath, dir: dir)
        let topic = "sentra/ws-bandar-01/power/pm-1"
        let reading = { #"{"ts":\#(nowMillis()),"v":221,"kwh":100}"# }

        // Heard, then the daemon stops; it starts again a few seconds later.
        try await daemon.start()
        try broker.publish(topic, [reading()])
        try await eventually("the reading") { try daemon.accepted() == 1 }
        let heard = nowMillis()
        try await daemon.terminate()
        try await eventually("3 s of the device's silence", timeout: 10) { nowMillis() - heard >= 3000 }

        let c = try await daemon.start(environment: ["SENTRA_FAULT": "alert-line:1"])
        #expect(try await c.wait(timeout: 60) == 128 + 9, "\(c.output)")
        daemon.child = nil
        let fired = alertLines(daemon)
        #expect(fired.map(\.status) == [.firing])
        // Since it was last heard (5 s or more), not since the daemon started (2 s).
        #expect((fired.first?.value ?? 0) >= 4, "\(fired)")

        try await daemon.start()
        // The slot is firing from the log's line: the API shows it, and past 2 s of this run no
        // second line came.
        try await eventually("the adopted silence alert and 4 s of this run", timeout: 20) {
            let (code, body) = try await HTTPTests.get(daemon.httpURL + "/api/v1/status")
            let status = code == 200 ? try WireJSON.decode(StatusAnswer.self, from: body) : nil
            let (_, alerts) = try await HTTPTests.get(daemon.httpURL + "/api/v1/alerts")
            let firing = try WireJSON.decode(AlertsAnswer.self, from: alerts).firing
            return (status?.uptimeSeconds ?? 0) >= 4 && firing.contains { $0.rule == "device_silent" }
        }
        #expect(alertLines(daemon).count == 1, "\(alertLines(daemon))")
        try broker.publish(topic, [reading()])
        try await eventually("the resolved line") { alertLines(daemon).contains { $0.status == .resolved } }
        try await daemon.terminate()
        let silent = alertLines(daemon).filter { $0.rule == "device_silent" }
        #expect(silent.map(\.status) == [.firing, .resolved], "\(silent)")
        #expect(silent.count == 2 && silent[0].id == silent[1].id)
        #expect((silent.last?.value ?? 0) >= 6, "the silence lasted across both restarts")
    }
}
