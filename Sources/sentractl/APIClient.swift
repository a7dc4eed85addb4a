import ArgumentParser
import Foundation
import SentraConfig
import SentraWire

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// GETs JSON from the daemon's HTTP API, with its token when one is configured.
struct APIClient {
    let base: String
    let token: String?

    init(configuration c: Configuration) throws {
        var host = c.http.host
        if host == "0.0.0.0" { host = "127.0.0.1" } else if host == "::" { host = "::1" }
        base = "http://\(host.contains(":") ? "[\(host)]" : host):\(c.http.port)/"
        do {
            token = try c.httpToken()
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    struct HTTPError: Error, CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "HTTP \(status): \(body.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    /// GETs `path` and decodes its answer as `T`.
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        var request = URLRequest(url: URL(string: base + path)!, timeoutInterval: 5)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw HTTPError(status: status, body: String(decoding: data.prefix(500), as: UTF8.self)) }
        do {
            return try WireJSON.decode(type, from: data)
        } catch {
            throw HTTPError(status: status, body: "not the answer expected: \(error)")
        }
    }
}

/// `sentractl status`: the daemon, its broker, its plugins, today's production and the
/// firing alerts, in one screen of text.
enum StatusScreen {
    static func render(status s: StatusAnswer, alerts: AlertsAnswer, production: Result<ReportDocument, any Error>) -> String {
        let today: [String]
        switch production {
        case .success(let p): today = Self.today(p)
        case .failure(let e): today = ["today: production cannot be read from the state database: \(e)"]
        }
        return (notSaved(alerts) + daemon(s) + [""] + today + [""] + firing(alerts)).map { $0 + "\n" }.joined()
    }

    /// The first lines when the state is not being saved (the daemon's `state_commit_failing`).
    static func notSaved(_ alerts: AlertsAnswer) -> [String] {
        guard let f = alerts.firing.first(where: { $0.rule == "state_commit_failing" }) else { return [] }
        return ["STATE NOT SAVED since \(f.started): \(f.summary)", ""]
    }

    /// A value with `decimals` places, or whole when it is whole.
    static func fmt(_ v: Double, _ decimals: Int = 1) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%.\(decimals)f", v)
    }

    /// The daemon, its broker, readings, queue, commits and plugins.
    static func daemon(_ s: StatusAnswer) -> [String] {
        let uptime = s.uptimeSeconds
        var lines = ["\(s.name): sentrad \(s.version), up \(uptime / 86400)d \(uptime / 3600 % 24)h \(uptime / 60 % 60)m"]
        let conn = s.mqtt.subscribed ? "subscribed" : s.mqtt.connected ? "connected" : "NOT CONNECTED"
        lines.append("broker \(s.mqtt.broker): \(conn), \(s.mqtt.reconnects) reconnects")
        let r = s.readings
        let reasons = r.rejected.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        lines.append(
            "readings: \(r.accepted) accepted, \(r.rejectedTotal) rejected"
                + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))")
                + "; counter glitches \(r.counterEvents.glitch), resets \(r.counterEvents.reset)")
        let mib = { (bytes: Int) in fmt(Double(bytes) / 1_048_576) }
        let c = s.commits
        lines.append(
            "queue \(s.queue.depth), journal \(mib(s.journal.usedBytes)) of \(mib(s.journal.capacityBytes)) MiB; "
                + "commits \(c.count) (last \(fmt((c.lastSeconds ?? 0) * 1000)) ms, \(c.failures) failed); "
                + "reloads \(s.reloads.count) (\(s.reloads.failures) failed)")
        let plugins = s.plugins.map { p in
            p.up ? "\(p.name) up" : "\(p.name) DOWN (\(p.consecutiveFailures) failures: \(p.lastError ?? "not started"))"
        }
        lines.append("plugins: " + (plugins.isEmpty ? "none" : plugins.joined(separator: ", ")) + "; alert log at seq \(s.alertLogSeq)")
        if let err = s.lastError { lines.append("last error: \(err)") }
        return lines
    }

    /// Today's production, in all and per craftsman.
    static func today(_ production: ReportDocument) -> [String] {
        let craftsmen = production.craftsmen
        let pieces = craftsmen.reduce(0.0) { $0 + $1.pieces }
        let kwh = craftsmen.reduce(0.0) { $0 + $1.kwh }
        let water = craftsmen.reduce(0.0) { $0 + $1.waterL }
        var lines = ["today (\(production.from)): \(fmt(pieces)) pieces, \(fmt(kwh, 2)) kWh, \(fmt(water)) L"]
        let width = craftsmen.map(\.name.count).max() ?? 0
        for c in craftsmen {
            let name = c.name.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append(
                "  \(name)  \(fmt(c.pieces)) pieces, \(c.runSeconds / 60) min running, \(fmt(c.kwh, 2)) kWh, \(fmt(c.waterL)) L")
        }
        return lines
    }

    /// The alerts firing now.
    static func firing(_ alerts: AlertsAnswer) -> [String] {
        let firing = alerts.firing
        return [firing.isEmpty ? "no alerts firing" : "firing alerts (\(firing.count)):"]
            + firing.map { "  \($0.severity.rawValue) \($0.rule) since \($0.started): \($0.summary)" }
    }
}
