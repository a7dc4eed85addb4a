import Foundation
import Testing

/// Ingest end to end: a real mosquitto, the built `sentrad`, real MQTT.
@Suite(.serialized) struct IngestTests {
    @Test func readingsAreCountedAndBadPayloadsCountedByReason() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        let t = nowMillis() - 60_000
        try broker.publish(
            "sentra/ws-bandar-01/loom/loom-01",
            (0..<20).map { #"{"ts":\#(t + Int64($0) * 1000),"seq":\#($0),"picks":\#(1000 + $0 * 10),"state":"run"}"# })
        try broker.publish("sentra/ws-bandar-01/loom/loom-01", ["not json", #"{"picks":"many"}"#, #"{"picks":-1}"#, "{}"])
        try broker.publish("sentra/ws-bandar-01/loom/nobody", [#"{"picks":1}"#])
        try broker.publish("sentra/ws-bandar-01/gas/x", [#"{"picks":1}"#])
        try broker.publish(
            "sentra/ws-bandar-01/power/pm-1",
            [#"[{"ts":\#(t),"v":221,"kwh":1.5},{"ts":\#(t + 500),"v":"x"},{"ts":\#(t + 1000),"v":220,"kwh":1.6}]"#])
        try await eventually("readings to be committed") {
            try daemon.accepted() == 22 && daemon.rejected("unknown_kind") == 1
        }
        #expect(try daemon.rejected("bad_json") == 1)
        #expect(try daemon.rejected("bad_type") == 2)
        #expect(try daemon.rejected("negative_counter") == 1)
        #expect(try daemon.rejected("no_measurement") == 1)
        #expect(try daemon.rejected("unknown_device") == 1)
        #expect(daemon.child?.isRunning == true)
        let (status, json) = try daemon.ctl(["report", "--format", "json"] + wideReportRange())
        #expect(status == 0)
        #expect(json.contains(#""picks": 190"#))
        #expect(daemon.child?.output.contains("reading rejected") == true)
        try await daemon.terminate()
    }

    @Test func persistentSessionDeliversWhatWasPublishedWhileStopped() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        let t = nowMillis() - 3_600_000
        try await Self.publishWhileStopped(
            daemon, (0..<1000).map { #"{"ts":\#(t + Int64($0) * 1000),"seq":\#($0 + 1),"picks":\#($0)}"# })
        try await eventually("1,000 readings") { (try daemon.accepted()) == 1000 }
        let (_, json) = try daemon.ctl(["report", "--format", "json"] + wideReportRange())
        #expect(json.contains(#""picks": 999"#))
        try await daemon.terminate()
    }

    @Test func aDrainedBacklogIsCommittedWithoutWaitingForTheCommitInterval() async throws {
        // A commit interval of ten minutes: only the commit after a caught-up backlog can make
        // the 4,000 readings appear in the state database while the test waits.
        let dir = Paths.tempDir("catch-up")
        let config = dir.appendingPathComponent("sentra.yaml").path
        let text = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        #expect(text.contains("  commit_interval: 1s\n"))
        try text.replacingOccurrences(of: "  commit_interval: 1s\n", with: "  commit_interval: 10m\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let broker = try await Broker()
        let daemon = Daemon(broker: broker, config: config)
        let t = nowMillis() - 7_200_000
        try await Self.publishWhileStopped(
            daemon, (0..<4000).map { #"{"ts":\#(t + Int64($0) * 1000),"seq":\#($0 + 1),"picks":\#($0 * 3)}"# })
        try await eventually("4,000 readings committed", timeout: 60) { (try daemon.accepted()) == 4000 }
        let (_, json) = try daemon.ctl(["report", "--format", "json"] + wideReportRange())
        #expect(json.contains(#""picks": 11997"#), "\(json)")
        // No alert line (whose commit would carry the readings too) came in between.
        let alerts = (try? String(contentsOfFile: daemon.logDir + "/alerts.jsonl", encoding: .utf8)) ?? ""
        #expect(alerts.isEmpty, "\(alerts)")
        try await daemon.terminate()
    }

    /// Registers the daemon's persistent session, stops it, publishes `payloads` for loom-02 at
    /// QoS 1 (the broker keeps them for the session), and starts it again.
    static func publishWhileStopped(_ daemon: Daemon, _ payloads: [String]) async throws {
        try await daemon.start()
        try await eventually("the subscription") { daemon.child!.output.contains("connected to broker") }
        try await daemon.terminate()
        try daemon.broker.publish("sentra/ws-bandar-01/loom/loom-02", payloads, qos: 1)
        try await daemon.start()
    }

    @Test func reconnectsAfterTheBrokerRestarts() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        let t = nowMillis() - 60_000
        try broker.publish("sentra/ws-bandar-01/loom/loom-03", [#"{"ts":\#(t),"picks":10}"#])
        try await eventually("the first reading") { (try daemon.accepted()) == 1 }
        try await broker.stop()
        try await eventually("sentrad to notice") { daemon.child!.output.contains("lost the broker") }
        try await broker.start()
        try await eventually("sentrad to reconnect", timeout: 60) {
            daemon.child!.output.components(separatedBy: "connected to broker").count > 2
        }
        try broker.publish("sentra/ws-bandar-01/loom/loom-03", [#"{"ts":\#(t + 1000),"picks":25}"#])
        try await eventually("readings after the restart") { (try daemon.accepted()) == 2 }
        #expect(daemon.child?.isRunning == true)
        try await daemon.terminate()
    }
}
