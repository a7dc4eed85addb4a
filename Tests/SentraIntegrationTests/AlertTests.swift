import Foundation
import Testing

/// Issue 4 end to end: the built daemon, a real broker, the alert log on disk.
@Suite(.serialized) struct AlertTests {
    func alertLines(_ daemon: Daemon) -> [[String: Any]] {
        let path = daemon.dir.appendingPathComponent("log/alerts.jsonl").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func aVoltageSagFiresOnceAndResolvesOnceAcrossARestart() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        let t0 = nowMillis() - 3_600_000
        let topic = "sentra/ws-bandar-01/power/pm-1"
        let v = { (dt: Int64, volts: Double) in #"{"ts":\#(t0 + dt * 1000),"v":\#(volts),"kwh":\#(100 + Double(dt) / 1000)}"# }
        try broker.publish(topic, [v(0, 221), v(10, 187), v(20, 186), v(30, 188), v(40, 187), v(50, 190)])
        try await eventually("the firing line") { alertLines(daemon).contains { $0["rule"] as? String == "voltage_sag" } }
        try await daemon.terminate()

        // Restarted while the sag goes on: no second firing line.
        try await daemon.start()
        try broker.publish(topic, [v(60, 187), v(70, 201), v(80, 203)])
        try await eventually("the readings after the restart") { try daemon.accepted() == 3 }
        #expect(alertLines(daemon).filter { $0["rule"] as? String == "voltage_sag" }.count == 1)
        // Back above 205 V: resolved, once.
        try broker.publish(topic, [v(90, 210), v(100, 221)])
        try await eventually("the resolved line") { alertLines(daemon).contains { $0["status"] as? String == "resolved" } }
        try await daemon.terminate()

        let sag = alertLines(daemon).filter { $0["rule"] as? String == "voltage_sag" }
        #expect(sag.count == 2)
        #expect(sag.map { $0["status"] as? String } == ["firing", "resolved"])
        #expect(sag[0]["id"] as? String == sag[1]["id"] as? String)
        #expect(sag[0]["severity"] as? String == "warning")
        #expect((sag[0]["labels"] as? [String: String]) == ["workshop": "ws-bandar-01", "device": "pm-1"])
        #expect(sag[0]["value"] as? Double == 187)
        #expect((sag[0]["summary"] as? String)?.contains("187") == true)
        #expect((sag[0]["started"] as? String)?.hasSuffix("+07:00") == true)
        let seqs = alertLines(daemon).compactMap { $0["seq"] as? Int }
        #expect(seqs == Array(1...seqs.count))
    }
}
