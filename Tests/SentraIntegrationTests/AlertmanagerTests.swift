import Foundation
import SentraWire
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) on a free loopback
/// port, with its own storage, no clustering, and every alert routed to a null receiver.
final class Alertmanager: @unchecked Sendable {
    static let binary = "/usr/bin/prometheus-alertmanager"
    let port: Int
    let dir: URL
    private let child: Child

    init() async throws {
        dir = Paths.tempDir("alertmanager")
        port = freePort()
        // group_wait short: Alertmanager marks an alert `active` (not `unprocessed`) when its
        // group is first flushed.
        let conf = """
            route:
              receiver: "null"
              group_wait: 100ms
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: "null"
            """
        let config = dir.appendingPathComponent("alertmanager.yml")
        try conf.write(to: config, atomically: true, encoding: .utf8)
        child = try await startLoopbackServer(
            Self.binary, package: "prometheus-alertmanager",
            [
                "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
                "--storage.path=\(dir.appendingPathComponent("data").path)", "--config.file=\(config.path)",
            ], port: port, dir: dir)
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var output: String { child.output }

    /// An alert as Alertmanager's API shows it, the fields these tests read.
    struct Alert: Decodable {
        var labels: [String: String]
        var annotations: [String: String]?
        var status: Status?
        var endsAt: String?
        struct Status: Decodable {
            var state: String?
        }
    }

    /// GET /api/v2/alerts (with `query`, e.g. `active=true`): Alertmanager's current alerts.
    func alerts(_ query: String = "") async throws -> [Alert] {
        let u = URL(string: "\(url)/api/v2/alerts" + (query.isEmpty ? "" : "?\(query)"))!
        let (data, response) = try await URLSession.shared.data(from: u)
        guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
            throw TestFailure(
                "GET \(u) answered \((response as? HTTPURLResponse)?.statusCode ?? -1): \(String(decoding: data, as: UTF8.self))")
        }
        do {
            return try JSONDecoder().decode([Alert].self, from: data)
        } catch {
            throw TestFailure("GET \(u): not a list of alerts (\(error)): \(String(decoding: data, as: UTF8.self))")
        }
    }

    func stop() async throws {
        child.signal(SIGTERM)
        try await child.wait(timeout: 10)
    }

    deinit { child.stop() }
}

/// The shipped alertmanager plugin, run by the built daemon, against a real Alertmanager.
@Suite(.serialized) struct AlertmanagerTests {
    @Test func aVoltageSagAppearsInAlertmanagerAndResolves() async throws {
        let am = try await Alertmanager()
        let broker = try await Broker()
        let dir = Paths.tempDir("daemon-am")
        let config = try configWithPlugins([#"{ name: am, builtin: alertmanager, timeout: 10s, options: { url: "\#(am.url)" } }"#], in: dir)
        let daemon = Daemon(broker: broker, config: config, dir: dir)
        try await daemon.start(environment: ["SENTRA_PLUGIN_DIR": Paths.root.appendingPathComponent("plugins").path])

        func sag(_ list: [Alertmanager.Alert]) -> Alertmanager.Alert? {
            list.first {
                $0.labels["alertname"] == "voltage_sag" && $0.labels["device"] == "pm-1" && $0.labels["workshop"] == "ws-bandar-01"
            }
        }
        func logLines() -> [AlertLine] {
            let text = (try? String(contentsOfFile: daemon.logDir + "/alerts.jsonl", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? WireJSON.decode(AlertLine.self, from: $0) }
        }

        let t0 = nowMillis() - 3_600_000
        let topic = "sentra/ws-bandar-01/power/pm-1"
        let v = { (dt: Int64, volts: Double) in #"{"ts":\#(t0 + dt * 1000),"v":\#(volts),"kwh":\#(100 + Double(dt) / 1000)}"# }
        // Below 198 V from t0+10 s; the reading at t0+40 s has held it for 30 s of event time.
        try broker.publish(topic, [v(0, 221), v(10, 187), v(20, 186), v(30, 188), v(40, 187), v(50, 190)])
        try await eventually("the firing line in the alert log") {
            logLines().contains { $0.rule == "voltage_sag" && $0.status == .firing }
        }
        let firingID = logLines().first { $0.rule == "voltage_sag" }?.id
        var seen: Alertmanager.Alert?
        do {
            try await eventually("voltage_sag active in Alertmanager's API") {
                seen = sag(try await am.alerts())
                return seen?.status?.state == "active"
            }
        } catch {
            Issue.record("\(error)\nsentrad:\n\(daemon.child?.output ?? "")\nalertmanager:\n\(am.output)")
            throw error
        }
        let labels = seen?.labels ?? [:]
        #expect(labels["severity"] == "warning")
        #expect(labels["sentra_alert_id"] == firingID)
        #expect(seen?.annotations?["summary"]?.contains("187") == true)
        #expect(sag(try await am.alerts("active=true")) != nil)

        // Back at 205 V or above: resolved in the log, and no longer active in Alertmanager.
        try broker.publish(topic, [v(60, 210), v(70, 221)])
        try await eventually("the resolved line in the alert log") {
            logLines().contains { $0.rule == "voltage_sag" && $0.status == .resolved }
        }
        do {
            try await eventually("voltage_sag no longer active in Alertmanager's API") {
                // Alertmanager leaves a resolved alert (endsAt passed) out of /api/v2/alerts.
                guard sag(try await am.alerts("active=true")) == nil else { return false }
                guard let a = sag(try await am.alerts()) else { return true }
                return a.endsAt.flatMap(Self.parseDate).map { $0 <= Date() } ?? false
            }
        } catch {
            Issue.record("\(error)\nsentrad:\n\(daemon.child?.output ?? "")\nalertmanager:\n\(am.output)")
            throw error
        }
        try await eventually("the plugin to acknowledge every line") {
            let cursor = (try? String(contentsOfFile: daemon.stateDir + "/plugins/am.cursor", encoding: .utf8)) ?? ""
            return Int(cursor.trimmingCharacters(in: .whitespacesAndNewlines)) == logLines().count
        }
        #expect(!logLines().contains { $0.rule == "plugin_failing" })

        try await daemon.terminate()
        try await am.stop()
    }

    static func parseDate(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}
