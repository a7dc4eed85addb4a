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
        let rules = Paths.root.appendingPathComponent("deploy/region/region/rules.yml").path
        let config = try String(contentsOf: Paths.root.appendingPathComponent("deploy/region/region/prometheus.yml"), encoding: .utf8)
            .replacingOccurrences(of: "/etc/prometheus/sentra-region-rules.yml", with: rules)
        try config.write(to: dir.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let port = freePort()
        let prom = try await startLoopbackServer(
            "/usr/bin/prometheus", package: "prometheus",
            [
                "--config.file=\(dir.path)/prometheus.yml", "--storage.tsdb.path=\(dir.path)/tsdb", "--web.enable-remote-write-receiver",
                "--web.listen-address=127.0.0.1:\(port)",
            ], port: port, dir: dir)
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

        // No Prometheus there: a clear error, exit 1.
        let closed = freePort()
        let (failed, why) = try run(Paths.binary("sentractl"), ["region", "status", "--prometheus", "http://127.0.0.1:\(closed)"])
        #expect(failed == 1)
        #expect(why.contains("the regional Prometheus at http://127.0.0.1:\(closed) does not answer"), "\(why)")
    }
}
