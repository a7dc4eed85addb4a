import Foundation
import SentraProcess
import SentraWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension DatagramListener {
    /// A listener on a new socket in a temporary directory.
    convenience init(name: String) throws {
        try self.init(path: Paths.tempDir("sock").appendingPathComponent(name).path)
    }
}

@Suite(.serialized) struct SystemdTests {
    @Test func notifiesReadyWatchdogStatusAndStopping() async throws {
        let broker = try await Broker()
        let notify = try DatagramListener(name: "notify")
        let daemon = Daemon(broker: broker)
        try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"])
        try await eventually("READY=1") { notify.received { $0.contains("READY=1") } }
        // READY=1 comes once the HTTP listener accepts connections...
        #expect(canConnect(port: daemon.httpPort), "the HTTP port refused a connection right after READY=1")
        // ... and the subscription is in place: a reading published now is counted.
        try broker.publish("sentra/ws-bandar-01/loom/loom-05", [#"{"ts":\#(nowMillis() - 1000),"picks":1}"#])
        try await eventually("WATCHDOG=1") { notify.received { $0.contains("WATCHDOG=1") } }
        try await eventually("STATUS=") { notify.received { $0.hasPrefix("STATUS=") && $0.contains("readings/s") } }
        try await eventually("the reading") { try daemon.accepted() == 1 }
        #expect(!notify.received { $0.contains("STOPPING=1") })
        daemon.child?.signal(SIGTERM)
        try await eventually("STOPPING=1") { notify.received { $0.contains("STOPPING=1") } }
        #expect(try await daemon.child?.wait() == 0)
        let ready = notify.messages.firstIndex { $0.contains("READY=1") }
        let stopping = notify.messages.firstIndex { $0.contains("STOPPING=1") }
        #expect(ready != nil && stopping != nil && ready! < stopping!)
    }

    /// With the HTTP listener starting 2 s after the subscription (a fault point), READY=1
    /// still waits for it: the port accepts as soon as READY=1 is there.
    @Test func readyWaitsForALateHTTPListener() async throws {
        let broker = try await Broker()
        let notify = try DatagramListener(name: "notify")
        let daemon = Daemon(broker: broker)
        let child = try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path, "SENTRA_FAULT": "http-late:2"])
        try await eventually("sentrad to subscribe") { child.output.contains("subscribed to the device topics") }
        #expect(!notify.received { $0.contains("READY=1") }, "READY=1 before the HTTP listener started")
        try await eventually("READY=1") { notify.received { $0.contains("READY=1") } }
        #expect(canConnect(port: daemon.httpPort), "the HTTP port refused a connection right after READY=1")
        try await daemon.terminate()
    }

    @Test func noWatchdogWhenSystemdAsksForNone() async throws {
        let broker = try await Broker()
        let notify = try DatagramListener(name: "notify")
        let daemon = Daemon(broker: broker)
        try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path])
        try await eventually("READY=1") { notify.received { $0.contains("READY=1") } }
        try await eventually("a STATUS= line") { notify.received { $0.hasPrefix("STATUS=") } }
        #expect(!notify.received { $0.contains("WATCHDOG=1") })
        try await daemon.terminate()
    }

    @Test func logsGoToTheJournalWithStructuredFields() async throws {
        let broker = try await Broker()
        let journal = try DatagramListener(name: "journal")
        let daemon = Daemon(broker: broker)
        try await daemon.start(environment: ["SENTRA_JOURNAL_SOCKET": journal.path], waitForSubscription: false)
        try await eventually("a journal entry about the broker") { journal.received { $0.contains("MESSAGE=connected to broker") } }
        try broker.publish("sentra/ws-bandar-01/loom/loom-05", ["garbage"])
        try await eventually("a rejection in the journal") { journal.received { $0.contains("SENTRA_REASON=bad_json") } }
        let entry = try #require(journal.messages.first { $0.contains("SENTRA_REASON=bad_json") })
        #expect(entry.contains("PRIORITY=4"))
        #expect(entry.contains("SYSLOG_IDENTIFIER=sentrad"))
        #expect(entry.contains("MQTT_TOPIC=sentra/ws-bandar-01/loom/loom-05"))
        try await daemon.terminate()
    }

    @Test func theUnitVerifiesAndIsHardened() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            Issue.record("systemd-analyze is missing: scripts/install-deps installs the systemd package")
            return
        }
        let (status, out) = try run(
            "/bin/bash",
            [
                Paths.root.appendingPathComponent("systemd/verify.sh").path,
                Paths.root.appendingPathComponent("systemd/sentrad.service").path, Paths.binary("sentrad"),
            ])
        #expect(status == 0, "\(out)")
        #expect(out.contains("Overall exposure level for sentrad.service: 0."), "\(out)")
    }
}

@Suite(.serialized) struct ReloadTests {
    @Test func sighupAppliesRegistryChangesAndABrokenFileKeepsTheOldConfiguration() async throws {
        let broker = try await Broker()
        let dir = Paths.tempDir("reload")
        let config = dir.appendingPathComponent("sentra.yaml")
        let original = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        try original.write(to: config, atomically: true, encoding: .utf8)
        let daemon = Daemon(broker: broker, config: config.path, dir: dir)
        daemon.ctlConfig = Paths.exampleConfig
        try await daemon.start()
        let t = nowMillis() - 60_000
        // Not configured yet: rejected.
        try broker.publish("sentra/ws-bandar-01/loom/loom-41", [#"{"ts":\#(t),"picks":5}"#])
        try await eventually("unknown_device") { try daemon.rejected("unknown_device") == 1 }

        // A broken file: logged, and the running configuration stays.
        try (original + "\nlooms:\n  - { id: x }\n").write(to: config, atomically: true, encoding: .utf8)
        daemon.child?.signal(SIGHUP)
        try await eventually("the rejection of the new file") { daemon.child!.output.contains("new configuration rejected") }
        #expect(daemon.child!.output.contains("sentra.yaml:78: looms: key appears more than once"))
        try broker.publish("sentra/ws-bandar-01/loom/loom-01", [#"{"ts":\#(t),"picks":5}"#])
        try await eventually("a reading under the old configuration") { try daemon.accepted() == 1 }

        // A good file with a new loom: applied without a restart.
        let added = original.replacingOccurrences(
            of: "\ndevices:\n",
            with:
                "  - { id: loom-41, workshop: ws-bandar-01, craftsman: c-siti }\n\ndevices:\n  - { id: loom-41, workshop: ws-bandar-01, kind: loom, loom: loom-41 }\n"
        )
        try added.write(to: config, atomically: true, encoding: .utf8)
        daemon.child?.signal(SIGHUP)
        try await eventually("the reload") { daemon.child!.output.contains("configuration reloaded") }
        try broker.publish("sentra/ws-bandar-01/loom/loom-41", [#"{"ts":\#(t + 1000),"picks":5}"#, #"{"ts":\#(t + 2000),"picks":9}"#])
        daemon.ctlConfig = config.path
        try await eventually("readings of the new loom") { try daemon.accepted() == 3 }
        #expect(daemon.child?.isRunning == true)
        try await daemon.terminate()
        let (_, json) = try daemon.ctl(["report", "--format", "json"] + wideReportRange())
        let siti = try WireJSON.decode(ReportDocument.self, from: json).craftsmen.first { $0.craftsman == "c-siti" }
        #expect(siti?.name == "Bu Siti" && siti?.workshop == "ws-bandar-01" && siti?.pieces == 0 && siti?.picks == 4)
    }

    /// A reload that moves the sentra to another time zone (Jakarta, +07:00, to Makassar,
    /// +08:00) reaches the alert log's times and the HTTP answers without a restart.
    @Test func aReloadedTimeZoneReachesTheAlertLogAndTheAPI() async throws {
        let broker = try await Broker()
        let dir = Paths.tempDir("reload-tz")
        let config = dir.appendingPathComponent("sentra.yaml")
        let original = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        try original.write(to: config, atomically: true, encoding: .utf8)
        let daemon = Daemon(broker: broker, config: config.path, dir: dir)
        try await daemon.start()
        let moved = original.replacingOccurrences(of: "timezone: Asia/Jakarta", with: "timezone: Asia/Makassar")
        #expect(moved != original)
        try moved.write(to: config, atomically: true, encoding: .utf8)
        daemon.child?.signal(SIGHUP)
        try await eventually("the reload") { daemon.child!.output.contains("configuration reloaded") }

        let t0 = nowMillis() - 600_000
        let v = { (dt: Int64, volts: Double) in #"{"ts":\#(t0 + dt * 1000),"v":\#(volts),"kwh":\#(100 + Double(dt) / 1000)}"# }
        try broker.publish("sentra/ws-bandar-01/power/pm-1", [v(0, 221), v(10, 187), v(20, 186), v(30, 188), v(40, 187)])
        let log = dir.appendingPathComponent("log/alerts.jsonl").path
        try await eventually("the firing line") { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("voltage_sag") }
        let line = try #require(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last)
        let sag = try WireJSON.decode(AlertLine.self, from: line)
        #expect(sag.ts.hasSuffix("+08:00") && sag.started.hasSuffix("+08:00"), "\(line)")
        let (code, body) = try await HTTPTests.get(daemon.httpURL + "/api/v1/sentra")
        #expect(code == 200)
        #expect(try WireJSON.decode(SentraAnswer.self, from: body).timeZone == "Asia/Makassar", "\(body.prefix(300))")
        try await daemon.terminate()
    }

    @Test func checkNamesFileLineAndKey() throws {
        let dir = Paths.tempDir("check")
        let bad = dir.appendingPathComponent("bad.yaml")
        try """
        workshops:
          - id: ws-1
        craftsmen:
          - { id: c-a, workshop: ws-1 }
        looms:
          - { id: loom-1, workshop: ws-1 }
        devices:
          - { id: pm-1, workshop: ws-2, kind: power }
        """.write(to: bad, atomically: true, encoding: .utf8)
        let (status, out) = try run(Paths.binary("sentractl"), ["check", "--config", bad.path])
        #expect(status == 1)
        #expect(out.contains("\(bad.path):6: looms[0].craftsman:"))
        #expect(out.contains("\(bad.path):8: devices[0].workshop: unknown workshop 'ws-2'"))
        let (ok, good) = try run(Paths.binary("sentractl"), ["check", "--config", Paths.exampleConfig])
        #expect(ok == 0, "\(good)")
        let (daemonStatus, daemonOut) = try run(Paths.binary("sentrad"), ["--config", bad.path])
        #expect(daemonStatus == 1)
        #expect(daemonOut.contains("looms[0].craftsman"))
    }
}
