import Foundation
import SentraWire
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// HTTP end to end: the built `sentrad` serving HTTP, fed real MQTT by a real broker, read
/// by the real `promtool`, Prometheus, `sentractl`, curl and Chromium.
@Suite(.serialized) struct HTTPTests {
    /// A broker and a daemon that has counted 2 pieces on loom-01 (Pak Anwar) and fired a
    /// voltage sag on pm-1, both committed.
    static func fedDaemon() async throws -> (Broker, Daemon) {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        let t = nowMillis() - 120_000
        try broker.publish(
            "sentra/ws-bandar-01/loom/loom-01",
            (0...4).map { #"{"ts":\#(t + Int64($0) * 10_000),"picks":\#(1000 + $0 * 25),"pieces":\#(10 + $0 / 2),"state":"run"}"# })
        try broker.publish("sentra/ws-bandar-01/power/pm-1", (0...4).map { #"{"ts":\#(t + Int64($0) * 10_000),"v":187,"kwh":5}"# })
        try await eventually("the sag to fire and the pieces to be committed") {
            let alerts = try? String(contentsOfFile: daemon.logDir + "/alerts.jsonl", encoding: .utf8)
            let fired = alerts?.contains(#""rule":"voltage_sag","status":"firing""#) == true
            return try fired && daemon.accepted() == 10
        }
        return (broker, daemon)
    }

    static func get(_ url: String, headers: [String: String] = [:]) async throws -> (Int, String) {
        var r = URLRequest(url: URL(string: url)!, timeoutInterval: 10)
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: r)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Prometheus's answer to an instant query: each series' `value` is `[time, "value"]`.
    struct PrometheusAnswer: Decodable {
        var data: Result
        struct Result: Decodable {
            var result: [Series]
        }
        struct Series: Decodable {
            var value: String
            enum CodingKeys: String, CodingKey {
                case value
            }
            init(from decoder: any Decoder) throws {
                var pair = try decoder.container(keyedBy: CodingKeys.self).nestedUnkeyedContainer(forKey: .value)
                _ = try pair.decode(Double.self)
                value = try pair.decode(String.self)
            }
        }
    }

    static func require(_ path: String, _ package: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("\(path) is not installed: scripts/install-deps installs \(package)")
        }
    }

    @Test func metricsPassPromtoolAndARealPrometheusScrapesProduction() async throws {
        try Self.require("/usr/bin/promtool", "prometheus")
        let (_, daemon) = try await Self.fedDaemon()
        var metrics = ""
        try await eventually("loom-01's pieces in /metrics") {
            metrics = (try? await Self.get(daemon.httpURL + "/metrics").1) ?? ""
            return metrics.contains(
                #"sentra_pieces_total{sentra="bandar-kidul",workshop="ws-bandar-01",craftsman="c-anwar",loom="loom-01",device="loom-01"} 2"#
            )
        }
        #expect(
            metrics.contains(
                #"sentra_picks_total{sentra="bandar-kidul",workshop="ws-bandar-01",craftsman="c-anwar",loom="loom-01",device="loom-01"} 100"#
            ))
        #expect(metrics.contains(#"sentra_voltage_volts{sentra="bandar-kidul",workshop="ws-bandar-01",device="pm-1"} 187"#))
        #expect(
            metrics.contains(
                #"sentra_loom_state{sentra="bandar-kidul",workshop="ws-bandar-01",craftsman="c-anwar",loom="loom-01",device="loom-01",state="run"} 1"#
            ))
        #expect(metrics.contains(#"sentra_readings_rejected_total{sentra="bandar-kidul",reason="bad_json"} 0"#))
        #expect(metrics.contains(#"sentra_alerts_firing{sentra="bandar-kidul",rule="voltage_sag",severity="warning"} 1"#))
        #expect(metrics.contains(#"sentra_mqtt_connected{sentra="bandar-kidul"} 1"#))
        // Every sample carries the sentra's id (sentra.id), for a region that gathers many.
        let unlabelled = metrics.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.contains(#"{sentra="bandar-kidul""#) }
        #expect(unlabelled.isEmpty, "\(unlabelled.prefix(3))")
        #expect(metrics.contains(#"sentra_commit_duration_seconds_bucket{sentra="bandar-kidul",le="+Inf"}"#))

        // promtool: no parse error and no lint problem: it prints nothing at all.
        let file = daemon.dir.appendingPathComponent("metrics.txt")
        try metrics.write(to: file, atomically: true, encoding: .utf8)
        let (status, out) = try run("/bin/sh", ["-c", "promtool check metrics < '\(file.path)'"])
        #expect(status == 0 && out.isEmpty, "promtool exited \(status): \(out)")

        // A real Prometheus on loopback scrapes the daemon; its API returns the series.
        let prom = try await Prometheus(target: "127.0.0.1:\(daemon.httpPort)")
        var value: String?
        try await eventually("Prometheus to have scraped sentra_pieces_total", timeout: 60) {
            let q = #"sentra_pieces_total{loom="loom-01"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            guard let (code, body) = try? await Self.get(prom.url + "/api/v1/query?query=" + q), code == 200 else { return false }
            value = try WireJSON.decode(PrometheusAnswer.self, from: body).data.result.first?.value
            return value != nil
        }
        #expect(value == "2")
        let (_, targets) = try await Self.get(prom.url + "/api/v1/targets")
        #expect(targets.contains(#""health":"up""#), "\(targets)")
        try await daemon.terminate()
    }

    @Test func theAPIShowsTheSentraItsProductionAndAlertsAndSentractlStatusUsesIt() async throws {
        let (_, daemon) = try await Self.fedDaemon()
        var sentra: SentraAnswer?
        try await eventually("loom-01 to show as running") {
            sentra = try WireJSON.decode(SentraAnswer.self, from: try await Self.get(daemon.httpURL + "/api/v1/sentra").1)
            return sentra?.looms.first { $0.id == "loom-01" }?.state == .run
        }
        #expect(sentra?.name == "Sentra Tenun Ikat Bandar Kidul")
        #expect(sentra?.craftsmen.count == 8)
        let ws1 = sentra?.workshops.first { $0.id == "ws-bandar-01" }
        #expect(ws1?.power.status == .alert)
        #expect(ws1?.power.voltage == 187)
        let today = try #require(sentra?.today)

        // The same data as `sentractl report`.
        let (code, production) = try await Self.get(daemon.httpURL + "/api/v1/production?date=\(today)")
        #expect(code == 200)
        let (rc, report) = try daemon.ctl(["report", "--format", "json", "--date", today])
        #expect(rc == 0)
        #expect(try WireJSON.decode(ReportDocument.self, from: production) == WireJSON.decode(ReportDocument.self, from: report))
        #expect(try await Self.get(daemon.httpURL + "/api/v1/production?date=yesterday").0 == 400)

        let alerts = try WireJSON.decode(AlertsAnswer.self, from: try await Self.get(daemon.httpURL + "/api/v1/alerts").1)
        let firing = alerts.firing
        #expect(firing.count == 1)
        #expect(firing.first?.rule == "voltage_sag")
        #expect(firing.first?.started.hasSuffix("+07:00") == true)
        #expect(alerts.recent.last?.status == .firing)

        let usual = try WireJSON.decode(UsualAnswer.self, from: try await Self.get(daemon.httpURL + "/api/v1/production/usual").1)
        let anwar = usual.craftsmen.first { $0.craftsman == "c-anwar" }
        #expect(anwar?.hours.count == 24)

        let (st, screen) = try daemon.ctl(["status", "--http", "127.0.0.1:\(daemon.httpPort)"])
        #expect(st == 0, "\(screen)")
        #expect(screen.contains("subscribed"))
        #expect(screen.contains("Pak Anwar"))
        #expect(screen.contains("voltage_sag"))
        #expect(screen.contains("10 accepted"))
        try await daemon.terminate()
        let (down, _) = try daemon.ctl(["status", "--http", "127.0.0.1:\(daemon.httpPort)"])
        #expect(down == 1, "sentractl status with the daemon stopped")
    }

    /// The dashboard's narrower answers against the example configuration (ws-bandar-01 has
    /// loom-01 to loom-16, ws-bandar-02 loom-17 to loom-31, ws-bandar-03 loom-32 to loom-40) and
    /// what `fedDaemon` published (loom-01 running, 2 pieces for Pak Anwar; no other loom heard).
    @Test func theSummaryAndTheNarrowAnswersCarryOnlyWhatThePageDraws() async throws {
        let (_, daemon) = try await Self.fedDaemon()
        let url = daemon.httpURL + "/api/v1/"
        var summaryText = ""
        var summary: SentraAnswer?
        try await eventually("loom-01 to count as running in the summary") {
            summaryText = try await Self.get(url + "sentra?view=summary").1
            summary = try WireJSON.decode(SentraAnswer.self, from: summaryText)
            return summary?.workshops.first { $0.id == "ws-bandar-01" }?.loomCounts?.run == 1
        }
        let s = try #require(summary)
        let configured = ["ws-bandar-01": 16, "ws-bandar-02": 15, "ws-bandar-03": 9]
        #expect(s.workshops.map(\.id) == ["ws-bandar-01", "ws-bandar-02", "ws-bandar-03"])
        for w in s.workshops {
            #expect(w.loomCounts?.total == configured[w.id], "\(w.id): \(String(describing: w.loomCounts))")
            #expect(w.loomCounts?.run == (w.id == "ws-bandar-01" ? 1 : 0), "\(w.id)")
            #expect(w.looms == nil && w.craftsmen == nil, "\(w.id) carries id lists")
        }
        #expect(s.devices == nil)
        #expect(s.craftsmen.count == 8 && s.craftsmen.allSatisfy { $0.looms == nil })
        // The exceptions: every loom but the one running.
        #expect(s.looms.count == 39)
        #expect(!s.looms.contains { $0.id == "loom-01" })
        #expect(s.looms.allSatisfy { $0.state != .run || !$0.online })

        let (fullCode, fullText) = try await Self.get(url + "sentra")
        #expect(fullCode == 200)
        #expect(summaryText.utf8.count < fullText.utf8.count, "summary \(summaryText.utf8.count) B, full \(fullText.utf8.count) B")

        for view in ["", "&view=summary"] {
            let (code, text) = try await Self.get(url + "sentra?workshop=ws-bandar-02" + view)
            #expect(code == 200, "\(view): \(text)")
            let one = try WireJSON.decode(SentraAnswer.self, from: text)
            #expect(one.workshops.map(\.id) == ["ws-bandar-02"], "\(view)")
            #expect(one.looms.map(\.id) == (17...31).map { "loom-\($0)" }, "\(view)")
            #expect(one.craftsmen.map(\.id) == ["c-wati", "c-joko", "c-sri"], "\(view)")
            #expect((one.devices == nil) == !view.isEmpty, "\(view)")
        }
        let (wsCode, wsText) = try await Self.get(url + "sentra?workshop=ws-bandar-01&view=summary")
        #expect(wsCode == 200)
        let ws1 = try WireJSON.decode(SentraAnswer.self, from: wsText)
        #expect(ws1.looms.count == 16 && ws1.looms.first { $0.id == "loom-01" }?.state == .run)

        let usual = try WireJSON.decode(UsualSummaryAnswer.self, from: try await Self.get(url + "production/usual?view=summary").1)
        #expect(usual.craftsmen.map(\.craftsman) == ["c-anwar", "c-siti", "c-budi", "c-wati", "c-joko", "c-sri", "c-agus", "c-ratna"])
        #expect(usual.craftsmen.first?.piecesToday == 2)
        let usualText = try await Self.get(url + "production/usual?view=summary").1
        #expect(!usualText.contains("hours"), "\(usualText)")
        let today = s.today
        let anwar = try WireJSON.decode(
            UsualAnswer.self, from: try await Self.get(url + "production/usual?craftsman=c-anwar&date=\(today)").1)
        #expect(anwar.craftsmen.map(\.craftsman) == ["c-anwar"] && anwar.craftsmen.first?.hours.count == 24)
        #expect(anwar.craftsmen.first?.hours.reduce(0, +) == 2)
        let report = try WireJSON.decode(ReportDocument.self, from: try await Self.get(url + "production?craftsman=c-anwar").1)
        #expect(report.craftsmen.map(\.craftsman) == ["c-anwar"] && report.craftsmen.first?.pieces == 2)

        let refused = [
            ("sentra?workshop=ws-nowhere", 404, "workshop"), ("sentra?view=summary&workshop=ws-nowhere", 404, "workshop"),
            ("production/usual?craftsman=c-nobody", 404, "craftsman"), ("production?craftsman=c-nobody", 404, "craftsman"),
            ("sentra?view=everything", 400, "view"), ("production/usual?view=brief", 400, "view"),
        ]
        for (path, status, parameter) in refused {
            let (code, text) = try await Self.get(url + path)
            #expect(code == status, "\(path): \(text)")
            let error = try WireJSON.decode(ErrorAnswer.self, from: text)
            #expect(error.parameter == parameter && !error.error.isEmpty, "\(path): \(text)")
        }
        try await daemon.terminate()
    }

    /// The dashboard in Debian's headless Chromium: it renders the example sentra's craftsmen
    /// and the firing alert with no console message at all, and a phone-sized screenshot is
    /// saved to .build/screenshots/dashboard-phone.png.
    @Test func theDashboardLoadsInHeadlessChromiumWithoutConsoleErrors() async throws {
        try Self.require("/usr/bin/chromium", "chromium")
        let (_, daemon) = try await Self.fedDaemon()
        try await eventually("the sag to show in the API") {
            (try? await Self.get(daemon.httpURL + "/api/v1/alerts").1)?.contains(#""rule": "voltage_sag""#) == true
        }
        let profile = daemon.dir.appendingPathComponent("chromium")
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000",
            "--window-size=412,915",
        ]
        let (status, out) = try run("/usr/bin/chromium", common + ["--dump-dom", daemon.httpURL + "/"])
        #expect(status == 0, "\(out)")
        let body = out.range(of: "<body[^>]*>", options: .regularExpression).map { String(out[$0]) } ?? ""
        #expect(body.contains(#"data-state="ready""#), "the page never became ready: \(body)")
        #expect(body.contains(#"data-errors="0""#), "\(body)")
        for name in ["Pak Anwar", "Bu Siti", "Pak Budi", "Bu Wati", "Pak Joko", "Bu Sri", "Pak Agus", "Bu Ratna"] {
            #expect(out.contains(name), "\(name) is not on the page")
        }
        #expect(out.contains(#"data-craftsman="c-anwar""#))
        #expect(out.contains(#"data-rule="voltage_sag""#), "the firing alert is not on the page")
        let console = out.split(separator: "\n").filter { $0.contains(":CONSOLE") }
        #expect(console.isEmpty, "console messages: \(console.joined(separator: "\n"))")

        // Another day's production, as scripts/run links to the replayed day.
        let today = try WireJSON.decode(SentraAnswer.self, from: try await Self.get(daemon.httpURL + "/api/v1/sentra").1).today
        let (dayStatus, dayOut) = try run("/usr/bin/chromium", common + ["--dump-dom", daemon.httpURL + "/?date=\(today)"])
        #expect(dayStatus == 0)
        #expect(dayOut.contains("Production on \(today)"), "\(dayOut.suffix(2000))")
        #expect(dayOut.contains(#"data-state="ready""#))
        #expect(dayOut.contains("Pak Anwar"))

        let dir = Paths.root.appendingPathComponent(".build/screenshots")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let shot = dir.appendingPathComponent("dashboard-phone.png")
        try? FileManager.default.removeItem(at: shot)
        let (shotStatus, shotOut) = try run("/usr/bin/chromium", common + ["--screenshot=\(shot.path)", daemon.httpURL + "/"])
        #expect(shotStatus == 0, "\(shotOut)")
        let png = try Data(contentsOf: shot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "not a PNG")
        #expect(png.count > 10_000, "a blank screenshot is tiny: \(png.count) bytes")
        try await daemon.terminate()
    }

    /// Beyond loopback: inside a network namespace of its own (nothing outside can reach it),
    /// the daemon listens on 192.0.2.10, and every request needs the token.
    @Test func beyondLoopbackEveryRequestNeedsTheToken() async throws {
        try Self.require("/usr/bin/unshare", "util-linux")
        try Self.require("/usr/bin/curl", "curl")
        let dir = Paths.tempDir("http-token")
        let token = "s3cret-token-\(UUID().uuidString)"
        try token.write(to: dir.appendingPathComponent("http-token"), atomically: true, encoding: .utf8)
        let example = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        let open = example.replacingOccurrences(of: "http:\n  host: 127.0.0.1\n", with: "http:\n  host: 192.0.2.10\n")
        #expect(open != example)
        let openPath = dir.appendingPathComponent("open.yaml").path
        try open.write(toFile: openPath, atomically: true, encoding: .utf8)
        // Without a token file the configuration is refused, naming the key.
        let (checkStatus, checkOut) = try run(Paths.binary("sentractl"), ["check", "--config", openPath])
        #expect(checkStatus == 1)
        #expect(checkOut.contains("open.yaml:39: http.host:"), "\(checkOut)")
        let configPath = dir.appendingPathComponent("sentra.yaml").path
        try open.replacingOccurrences(of: "  host: 192.0.2.10\n", with: "  host: 192.0.2.10\n  token_file: http-token\n")
            .write(toFile: configPath, atomically: true, encoding: .utf8)

        let script = #"""
            set -u
            ip link set lo up && ip addr add 192.0.2.10/32 dev lo || { echo "netns setup failed"; exit 3; }
            "$SENTRAD" --config "$CONFIG" --broker 127.0.0.1:9 --state-dir "$DIR/state" --log-dir "$DIR/log" 2>"$DIR/sentrad.log" &
            pid=$!
            for _ in $(seq 300); do curl -s -o /dev/null http://192.0.2.10:8470/ && break; kill -0 $pid || break; sleep 0.1; done
            U=http://192.0.2.10:8470
            echo "none $(curl -s -o "$DIR/none" -w '%{http_code}' $U/metrics)"
            echo "wrong $(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong-wrong-wrong' $U/metrics)"
            echo "bearer $(curl -s -o "$DIR/bearer" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" $U/metrics)"
            echo "page $(curl -s -o "$DIR/page" -w '%{http_code}' -H 'Accept: text/html' $U/)"
            echo "login $(curl -s -o /dev/null -D "$DIR/login-headers" -w '%{http_code}' --data-urlencode "token=$TOKEN" $U/login)"
            cookie=$(grep -i '^set-cookie:' "$DIR/login-headers" | sed 's/^[^:]*: //; s/;.*//' | tr -d '\r')
            echo "cookie $(curl -s -o "$DIR/cookie" -w '%{http_code}' -H "Cookie: $cookie" $U/api/v1/status)"
            kill -TERM $pid; wait $pid; echo "exit $?"
            """#
        let (status, out) = try run(
            // As root a network namespace needs no user namespace (which a sandbox may forbid);
            // otherwise one maps us to root inside it.
            "/usr/bin/unshare", [getuid() == 0 ? "-n" : "-rn", "/bin/bash", "-c", script],
            environment: ["SENTRAD": Paths.binary("sentrad"), "CONFIG": configPath, "DIR": dir.path, "TOKEN": token])
        let log = (try? String(contentsOf: dir.appendingPathComponent("sentrad.log"), encoding: .utf8)) ?? ""
        #expect(status == 0, "\(out)\n\(log)")
        #expect(out.contains("none 401"), "\(out)\n\(log)")
        #expect(out.contains("wrong 401"), "\(out)")
        #expect(out.contains("bearer 200"), "\(out)")
        #expect(out.contains("page 401"), "\(out)")
        #expect(out.contains("login 303"), "\(out)")
        #expect(out.contains("cookie 200"), "\(out)")
        #expect(out.contains("exit 0"), "\(out)")
        let none = (try? String(contentsOf: dir.appendingPathComponent("none"), encoding: .utf8)) ?? "missing"
        #expect(!none.contains("sentra_"), "a refused request got data: \(none)")
        #expect(((try? String(contentsOf: dir.appendingPathComponent("bearer"), encoding: .utf8)) ?? "").contains("sentra_build_info"))
        #expect(((try? String(contentsOf: dir.appendingPathComponent("page"), encoding: .utf8)) ?? "").contains("<form"))
        let headers = (try? String(contentsOf: dir.appendingPathComponent("login-headers"), encoding: .utf8)) ?? ""
        #expect(headers.lowercased().contains("httponly"), "\(headers)")
    }
}

/// A real Prometheus (Debian's `prometheus`) on a free loopback port, scraping one target
/// every second into its own storage.
final class Prometheus: @unchecked Sendable {
    let port = freePort()
    let dir = Paths.tempDir("prometheus")
    private let child: Child

    init(target: String) async throws {
        let conf = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: sentra
                static_configs:
                  - targets: ["\(target)"]
            """
        let config = dir.appendingPathComponent("prometheus.yml")
        try conf.write(to: config, atomically: true, encoding: .utf8)
        child = try await startLoopbackServer(
            "/usr/bin/prometheus", package: "prometheus",
            [
                "--config.file=\(config.path)", "--storage.tsdb.path=\(dir.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)",
            ], port: port, dir: dir)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    deinit { child.stop() }
}
