import Foundation
import SentraWire
import Testing

/// The sentra's language end to end: the built daemon writes its summaries into alerts.jsonl
/// in it, and sentractl prints its tables in it.
@Suite(.serialized) struct LanguageTests {
    func alertLines(_ daemon: Daemon) -> [AlertLine] {
        let path = daemon.dir.appendingPathComponent("log/alerts.jsonl").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? WireJSON.decode(AlertLine.self, from: $0) }
    }

    /// The example configuration with its `language: id` line replaced.
    static func example(language: String) throws -> String {
        let text = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        let line = "  language: id "
        guard text.contains(line) else { throw TestFailure("the example has no `language: id` line") }
        let dir = Paths.tempDir("language-config")
        let path = dir.appendingPathComponent("sentra.yaml").path
        try text.replacingOccurrences(of: line, with: "  language: \(language) ").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Publishes a voltage sag on ws-bandar-01's power meter (187.5 V for 40 s), then its end.
    func sag(_ broker: Broker, _ daemon: Daemon) async throws -> [AlertLine] {
        let t0 = nowMillis() - 3_600_000
        let v = { (dt: Int64, volts: Double) in #"{"ts":\#(t0 + dt * 1000),"v":\#(volts),"kwh":\#(100 + Double(dt) / 1000)}"# }
        try broker.publish("sentra/ws-bandar-01/power/pm-1", [v(0, 221), v(10, 187.5), v(20, 187.5), v(30, 187.5), v(40, 187.5)])
        try await eventually("the firing line") { alertLines(daemon).contains { $0.rule == "voltage_sag" } }
        try broker.publish("sentra/ws-bandar-01/power/pm-1", [v(50, 210), v(60, 221)])
        try await eventually("the resolved line") { alertLines(daemon).contains { $0.rule == "voltage_sag" && $0.status == .resolved } }
        return alertLines(daemon).filter { $0.rule == "voltage_sag" }
    }

    @Test func anIndonesianSentraWritesIndonesianSummariesIntoTheAlertLog() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)  // the example: language id
        try await daemon.start()
        let sag = try await sag(broker, daemon)
        try await daemon.terminate()
        #expect(sag.map(\.status) == [.firing, .resolved])
        #expect(sag.first?.value == 187.5)
        #expect(sag.first?.summary == "Tegangan 187,5 V di bawah 198 V selama 30 detik di ws-bandar-01/pm-1")
        #expect(sag.last?.summary == "Teratasi: Tegangan 187,5 V di bawah 198 V selama 30 detik di ws-bandar-01/pm-1")
    }

    @Test func anEnglishSentraWritesEnglishSummaries() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker, config: try Self.example(language: "en"))
        try await daemon.start()
        let sag = try await sag(broker, daemon)
        try await daemon.terminate()
        #expect(sag.first?.summary == "Voltage 187.5 V below 198 V for 30 s at ws-bandar-01/pm-1")
        #expect(sag.last?.summary == "Resolved: Voltage 187.5 V below 198 V for 30 s at ws-bandar-01/pm-1")
    }

    @Test func reportTablesFollowTheConfigurationAndLanguageOverridesIt() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        try await daemon.terminate()
        let day = ["report", "--date", "2026-11-23"]
        let (idStatus, idOut) = try daemon.ctl(day)
        #expect(idStatus == 0, "\(idOut)")
        #expect(idOut.hasPrefix("Produksi pada Senin, 23 Nov 2026\n"), "\(idOut)")
        #expect(idOut.contains("pengrajin") && idOut.contains("Pak Anwar"))
        let (enStatus, enOut) = try daemon.ctl(day + ["--language", "en"])
        #expect(enStatus == 0, "\(enOut)")
        #expect(enOut.hasPrefix("Production on Monday, 23 Nov 2026\n"), "\(enOut)")
        let (csvStatus, csv) = try daemon.ctl(day + ["--format", "csv"])
        #expect(csvStatus == 0)
        #expect(csv.hasPrefix("craftsman,name,workshop,pieces,picks,running,util,kWh,litres,kWh/piece,L/piece\n"), "\(csv)")
        let (badStatus, bad) = try daemon.ctl(day + ["--language", "fr"])
        #expect(badStatus == 1, "\(bad)")
        #expect(bad.contains("--language 'fr'"))
        let (regStatus, reg) = try daemon.ctl(["registry"])
        #expect(regStatus == 0 && reg.contains("  16 papan penghitung alat tenun"), "\(reg)")
        #expect(reg.contains("meteran listrik pm-1 → rumah tenun"), "\(reg)")
        let (_, regEn) = try daemon.ctl(["registry", "--language", "en"])
        #expect(regEn.contains(" loom counter boards") && regEn.contains("power meter pm-1 → the workshop"), "\(regEn)")
        let (devStatus, devices) = try daemon.ctl(["devices"])
        #expect(devStatus == 0 && devices.hasPrefix("PERANGKAT"), "\(devices)")
        #expect(devices.contains("belum pernah"))
        let (checkStatus, check) = try run(Paths.binary("sentractl"), ["check", "--config", try Self.example(language: "fr")])
        #expect(checkStatus == 1)
        #expect(check.contains(":7: sentra.language:"), "\(check)")
    }
}
