import Foundation
import Testing

/// `sentractl region tail` and `region status`, run as a coordinator runs them, against a
/// real mosquitto and a real Prometheus on loopback.
@Suite struct RegionCommandTests {
    /// An alert-log line of sentra `sentra` as its bridge delivers it.
    static func event(_ seq: Int, sentra: String, rule: String = "voltage_sag") -> String {
        #"{"seq":\#(seq),"ts":"2026-11-24T10:15:3\#(seq % 10)+07:00","id":"3f9a1c0e5b7d2a6\#(seq % 10)","rule":"\#(rule)","status":"firing","severity":"warning","labels":{"device":"pm-1","workshop":"ws-1"},"value":187,"summary":"Voltage 187 V below 198 V","started":"2026-11-24T10:15:00+07:00","sentra":"\#(sentra)"}"#
    }

    static func regionFile(_ dir: URL, _ body: String) throws -> String {
        let file = dir.appendingPathComponent("region.yaml")
        try ("region:\n" + body).write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test func theTailShowsEachLineOnceWithItsSentraAndTheGaps() async throws {
        let broker = try await Broker()
        let dir = Paths.tempDir("region-tail")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try Self.regionFile(
            dir, "  broker: { host: 127.0.0.1, port: \(broker.port), client_id: tail-test, reconnect_max: 1s }\n")
        func startTail(_ extra: [String] = []) async throws -> Child {
            let log = dir.appendingPathComponent("tail-\(UUID().uuidString.prefix(4)).out")
            let c = try Child(Paths.binary("sentractl"), ["region", "tail", "--config", config] + extra, log: log)
            try await eventually("the tail to connect") {
                c.output.contains("-- connected to the regional broker 127.0.0.1:\(broker.port) --")
            }
            return c
        }
        var tail = try await startTail()
        // A repeat (2), a gap (3, 4), a late line (3), another sentra, something not an event.
        try broker.publish("sentra-region/bandar-kidul/events", [1, 2, 2, 5, 3].map { Self.event($0, sentra: "bandar-kidul") })
        try broker.publish("sentra-region/tanjung-sari/events", [Self.event(9, sentra: "tanjung-sari")])
        try broker.publish("sentra-region/tanjung-sari/events", ["not json"])
        try await eventually("the tail to show what came") { tail.output.contains("ignored a message") }
        let lines = tail.output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-- connected") }
        #expect(lines.count == 7, "\(lines)")
        #expect(
            lines[0].hasPrefix("bandar-kidul  2026-11-24 10:15:31  FIRING    warning   voltage_sag  ws-1/pm-1  Voltage 187 V below 198 V"))
        #expect(lines[1].hasPrefix("bandar-kidul  2026-11-24 10:15:32  FIRING"))
        #expect(lines[2] == "-- bandar-kidul: 2 alert line(s) missing (seq 3 to 4) --")
        #expect(lines[3].hasPrefix("bandar-kidul  2026-11-24 10:15:35  FIRING"))
        #expect(lines[4].hasPrefix("bandar-kidul  2026-11-24 10:15:33  FIRING") && lines[4].hasSuffix("(late)"))
        #expect(lines[5].hasPrefix("tanjung-sari  2026-11-24 10:15:39  FIRING"))
        #expect(lines[6] == "-- ignored a message on sentra-region/tanjung-sari/events: not an alert event --")

        // Its session outlives it: what arrives while it is stopped is shown when it is back.
        tail.signal(SIGTERM)
        try await tail.wait()
        try broker.publish("sentra-region/bandar-kidul/events", [Self.event(6, sentra: "bandar-kidul")])
        tail = try await startTail()
        try await eventually("the line sent while the tail was away") { tail.output.contains("10:15:36  FIRING") }
        tail.signal(SIGTERM)
        try await tail.wait()

        // --json passes the lines through unchanged, --sentra keeps one sentra.
        let other = try Self.regionFile(dir, "  broker: { host: 127.0.0.1, port: \(broker.port), client_id: tail-json }\n")
        let log = dir.appendingPathComponent("json.out")
        let json = try Child(
            Paths.binary("sentractl"), ["region", "tail", "--config", other, "--json", "--sentra", "tanjung-sari"], log: log)
        try await eventually("the JSON tail to connect") { json.output.contains("-- connected") }
        try broker.publish("sentra-region/bandar-kidul/events", [Self.event(7, sentra: "bandar-kidul")])
        try broker.publish("sentra-region/tanjung-sari/events", [Self.event(10, sentra: "tanjung-sari")])
        try await eventually("the JSON line") { json.output.contains(Self.event(10, sentra: "tanjung-sari")) }
        #expect(!json.output.contains("\"bandar-kidul\""))
        json.signal(SIGTERM)
        try await json.wait()
    }

    @Test func statusListsTheSentrasWhetherEachReportsAndTodaysProduction() async throws {
        let dir = Paths.tempDir("region-status")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (prom, port) = try await RegionTests.regionalPrometheus(dir: dir)
        defer { prom.stop() }
        let write = URL(string: "http://127.0.0.1:\(port)/api/v1/write")!
        let now = nowMillis()
        let day: Int64 = 86_400_000
        let jakarta: Int64 = 7 * 3_600_000
        let midnight = (now + jakarta) / day * day - jakarta
        func pieces(_ device: String) -> [String: String] {
            [
                "__name__": "sentra_pieces_total", "sentra": "bandar-kidul", "workshop": "ws-1", "craftsman": "c-siti", "loom": device,
                "device": device,
            ]
        }
        let up = ["__name__": "up", "job": "sentrad"]
        // bandar-kidul: 10 pieces before midnight, 25 now, and a loom new today with 4: 19 today, 29 in all.
        #expect(try await RemoteWrite.send(write, labels: pieces("loom-01"), value: 10, at: midnight - 3_600_000) == 204)
        #expect(try await RemoteWrite.send(write, labels: pieces("loom-01"), value: 25, at: now - 10_000) == 204)
        #expect(try await RemoteWrite.send(write, labels: pieces("loom-02"), value: 4, at: now - 10_000) == 204)
        #expect(
            try await RemoteWrite.send(write, labels: up.merging(["sentra": "bandar-kidul"]) { a, _ in a }, value: 1, at: now - 5_000)
                == 204)
        // kali-putih: heard an hour ago, not since.
        #expect(
            try await RemoteWrite.send(write, labels: up.merging(["sentra": "kali-putih"]) { a, _ in a }, value: 1, at: now - 3_600_000)
                == 204)
        let region = try RegionCommandTests.regionFile(
            dir,
            """
              timezone: Asia/Jakarta
              prometheus: http://127.0.0.1:\(port)
              sentras:
                - { id: bandar-kidul, name: Sentra Tenun Ikat Bandar Kidul }
                - { id: tanjung-sari, name: Sentra Songket Tanjung Sari }

            """)
        let (code, out) = try run(Paths.binary("sentractl"), ["region", "status", "--config", region, "--format", "json"])
        #expect(code == 0, "\(out)")
        let doc = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let sentras = doc?["sentras"] as? [[String: Any]] ?? []
        #expect(sentras.map { $0["id"] as? String } == ["bandar-kidul", "tanjung-sari", "kali-putih"])
        #expect(sentras.map { $0["state"] as? String } == ["reporting", "never", "silent"])
        #expect(((sentras.first?["today"] as? [String: Any])?["pieces"] as? NSNumber)?.doubleValue == 19)
        #expect(((sentras.first?["total"] as? [String: Any])?["pieces"] as? NSNumber)?.doubleValue == 29)
        // Heard an hour ago: not a day, not a minute.
        let ago = (sentras.last?["last_heard_seconds_ago"] as? NSNumber)?.intValue ?? 0
        #expect((3_590...7_200).contains(ago), "\(ago)")

        let (tableCode, table) = try run(Paths.binary("sentractl"), ["region", "status", "--config", region])
        #expect(tableCode == 0)
        #expect(table.contains("1 of 3 sentras reporting"), "\(table)")

        // A value that parses but is wrong: exit 1, naming it (64 is for a malformed command line).
        let (badFormat, badOut) = try run(Paths.binary("sentractl"), ["region", "status", "--config", region, "--format", "xml"])
        #expect(badFormat == 1 && badOut.contains("--format is table or json"), "\(badOut)")
        let (noRegion, _) = try run(Paths.binary("sentractl"), ["region", "status"])
        #expect(noRegion == 64)

        // No Prometheus there: a clear error, exit 1.
        let closed = freePort()
        let (failed, why) = try run(Paths.binary("sentractl"), ["region", "status", "--prometheus", "http://127.0.0.1:\(closed)"])
        #expect(failed == 1)
        #expect(why.contains("the regional Prometheus at http://127.0.0.1:\(closed) does not answer"), "\(why)")
    }
}

/// The shipped files of deploy/region, checked by their engines' own tools, and the brokers
/// started on them as shipped (only paths and ports changed): TLS, passwords, the ACL, the bridge.
@Suite struct ShippedRegionConfigurationTests {
    static let deploy = Paths.root.appendingPathComponent("deploy/region")

    @Test func prometheusFilesPassPromtoolAndTheRulesTheirUnitTests() throws {
        let promtool = "/usr/bin/promtool"
        let agent = Self.deploy.appendingPathComponent("sentra/prometheus-agent.yml").path
        let (a, aOut) = try run(promtool, ["check", "config", "--agent", agent])
        #expect(a == 0, "\(aOut)")
        let dir = Paths.tempDir("region-promtool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rules = Self.deploy.appendingPathComponent("region/rules.yml").path
        let regional = try String(contentsOf: Self.deploy.appendingPathComponent("region/prometheus.yml"), encoding: .utf8)
        let file = dir.appendingPathComponent("prometheus.yml")
        try regional.replacingOccurrences(of: "/etc/prometheus/sentra-region-rules.yml", with: rules)
            .write(to: file, atomically: true, encoding: .utf8)
        let (r, rOut) = try run(promtool, ["check", "config", file.path])
        #expect(r == 0 && rOut.contains("SUCCESS: 11 rules found"), "\(rOut)")
        let (t, tOut) = try run(promtool, ["test", "rules", Self.deploy.appendingPathComponent("region/rules.test.yml").path])
        #expect(t == 0 && tOut.contains("SUCCESS"), "\(tOut)")
        // The agents keep a day's outage, where Prometheus 2.42's default is 4 hours.
        let defaults = try String(contentsOf: Self.deploy.appendingPathComponent("sentra/prometheus.default"), encoding: .utf8)
        #expect(defaults.contains("--storage.agent.retention.max-time=30h") && defaults.contains("--enable-feature=agent"))
    }

    @Test func anEventCrossesTheShippedBridgeOverTLSAndTheACLKeepsEachSentraToItsTopics() async throws {
        let dir = Paths.tempDir("region-bridge")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.path)
        let d = dir.path
        // A CA and the regional broker's certificate (its name, and 127.0.0.1 for this test).
        let (certs, certsOut) = try run(
            "/bin/sh",
            [
                "-c",
                """
                set -e; cd '\(d)'
                openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out region-ca.crt -days 2 -subj '/CN=Test region CA' 2>/dev/null
                openssl req -newkey rsa:2048 -nodes -keyout region-broker.key -out broker.csr -subj '/CN=region.example.org' 2>/dev/null
                printf 'subjectAltName=DNS:region.example.org,IP:127.0.0.1\\n' > san.ext
                openssl x509 -req -in broker.csr -CA region-ca.crt -CAkey ca.key -CAcreateserial -out region-broker.crt -days 2 -extfile san.ext 2>/dev/null
                chmod 644 region-broker.key
                mosquitto_passwd -c -b passwd bandar-kidul bridge-secret
                mosquitto_passwd -b passwd coordinator coordinator-secret
                chmod 644 passwd
                """,
            ])
        #expect(certs == 0, "\(certsOut)")
        let (local, plain, tls) = (freePort(), freePort(), freePort())
        var regional = try String(contentsOf: Self.deploy.appendingPathComponent("region/mosquitto.conf"), encoding: .utf8)
        for (from, to) in [
            ("/run/mosquitto/mosquitto.pid", "\(d)/region.pid"), ("/var/log/mosquitto/mosquitto.log", "\(d)/region.log"),
            ("/var/lib/mosquitto/", "\(d)/"), ("/etc/mosquitto/passwd", "\(d)/passwd"), ("/etc/mosquitto/acl", "\(d)/acl"),
            ("/etc/mosquitto/certs/", "\(d)/"), ("listener 1883 127.0.0.1", "listener \(plain) 127.0.0.1"),
            ("listener 8883\n", "listener \(tls) 127.0.0.1\n"),
        ] {
            #expect(regional.contains(from), "the regional mosquitto.conf no longer has \(from)")
            regional = regional.replacingOccurrences(of: from, with: to)
        }
        try regional.write(toFile: "\(d)/region.conf", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.deploy.appendingPathComponent("region/mosquitto-acl").path, toPath: "\(d)/acl")
        var bridge = try String(contentsOf: Self.deploy.appendingPathComponent("sentra/mosquitto-bridge.conf"), encoding: .utf8)
        for (from, to) in [
            ("address region.example.org:8883", "address 127.0.0.1:\(tls)"), ("remote_password CHANGE-ME", "remote_password bridge-secret"),
            ("/etc/mosquitto/certs/region-ca.crt", "\(d)/region-ca.crt"),
        ] {
            #expect(bridge.contains(from), "the bridge configuration no longer has \(from)")
            bridge = bridge.replacingOccurrences(of: from, with: to)
        }
        let sentra = "listener \(local) 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location \(d)/\n\n" + bridge
        try sentra.write(toFile: "\(d)/sentra.conf", atomically: true, encoding: .utf8)

        let mosquitto = "/usr/sbin/mosquitto"
        let region = try Child(mosquitto, ["-c", "\(d)/region.conf"], log: dir.appendingPathComponent("region.out"))
        try await eventually("the regional broker to listen") { canConnect(port: tls) && canConnect(port: plain) }
        let box = try Child(mosquitto, ["-c", "\(d)/sentra.conf"], log: dir.appendingPathComponent("sentra.out"))
        try await eventually("the sentra's broker to listen") { canConnect(port: local) }
        let sub = try Child(
            "/usr/bin/mosquitto_sub",
            ["-h", "127.0.0.1", "-p", "\(plain)", "-u", "coordinator", "-P", "coordinator-secret", "-t", "sentra-region/#", "-v", "-d"],
            log: dir.appendingPathComponent("sub.out"))
        defer {
            sub.stop()
            box.stop()
            region.stop()
        }
        try await eventually("the coordinator's subscription") { sub.output.contains("SUBACK") }
        // The bridge connected over TLS with its password: it says so on its notification topic.
        try await eventually("the bridge's notification", timeout: 60) { sub.output.contains("sentra-region/bandar-kidul/bridge 1") }

        let pub = "/usr/bin/mosquitto_pub"
        let event = #"{"seq":1,"rule":"voltage_sag","sentra":"bandar-kidul"}"#
        let (p1, o1) = try run(pub, ["-h", "127.0.0.1", "-p", "\(local)", "-q", "1", "-t", "sentra-alerts/events", "-m", event])
        #expect(p1 == 0, "\(o1)")
        try await eventually("the event at the region") { sub.output.contains("sentra-region/bandar-kidul/events \(event)") }
        // With its credentials, bandar-kidul cannot write as another sentra.
        let asOther = ["-h", "127.0.0.1", "-p", "\(plain)", "-u", "bandar-kidul", "-P", "bridge-secret", "-q", "1"]
        _ = try run(pub, asOther + ["-t", "sentra-region/tanjung-sari/events", "-m", "forged"])
        _ = try run(pub, asOther + ["-t", "sentra-region/bandar-kidul/events", "-m", "marker"])
        try await eventually("the marker") { sub.output.contains("sentra-region/bandar-kidul/events marker") }
        #expect(!sub.output.contains("forged"))
    }
}
