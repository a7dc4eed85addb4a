import ArgumentParser
import Foundation
import SentraConfig

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

    func get(_ path: String) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: base + path)!, timeoutInterval: 5)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw HTTPError(status: status, body: String(decoding: data.prefix(500), as: UTF8.self)) }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HTTPError(status: status, body: "not a JSON object")
        }
        return object
    }
}

/// `sentractl status`: the daemon, its broker, its plugins, today's production and the
/// firing alerts, in one screen of text.
enum StatusScreen {
    static func render(status s: [String: Any], alerts: [String: Any], production: [String: Any]) -> String {
        var out = ""
        func line(_ text: String) { out += text + "\n" }
        func int(_ v: Any?) -> Int { (v as? NSNumber)?.intValue ?? 0 }
        func dbl(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? 0 }
        func fmt(_ v: Double, _ decimals: Int = 1) -> String {
            v == v.rounded() ? String(Int(v)) : String(format: "%.\(decimals)f", v)
        }
        let uptime = int(s["uptime_seconds"])
        line(
            "\(s["name"] as? String ?? "sentra"): sentrad \(s["version"] as? String ?? "?"), up \(uptime / 86400)d \(uptime / 3600 % 24)h \(uptime / 60 % 60)m"
        )
        let mqtt = s["mqtt"] as? [String: Any] ?? [:]
        let conn = mqtt["subscribed"] as? Bool == true ? "subscribed" : mqtt["connected"] as? Bool == true ? "connected" : "NOT CONNECTED"
        line("broker \(mqtt["broker"] as? String ?? "?"): \(conn), \(int(mqtt["reconnects"])) reconnects")
        let r = s["readings"] as? [String: Any] ?? [:]
        let reasons = (r["rejected"] as? [String: Any] ?? [:]).filter { int($0.value) > 0 }.sorted { $0.key < $1.key }
            .map { "\($0.key) \(int($0.value))" }
        let events = r["counter_events"] as? [String: Any] ?? [:]
        line(
            "readings: \(int(r["accepted"])) accepted, \(int(r["rejected_total"])) rejected"
                + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))")
                + "; counter glitches \(int(events["glitch"])), resets \(int(events["reset"]))")
        let q = s["queue"] as? [String: Any] ?? [:]
        let j = s["journal"] as? [String: Any] ?? [:]
        let c = s["commits"] as? [String: Any] ?? [:]
        let rl = s["reloads"] as? [String: Any] ?? [:]
        line(
            "queue \(int(q["depth"])), journal \(fmt(dbl(j["used_bytes"]) / 1_048_576)) of \(fmt(dbl(j["capacity_bytes"]) / 1_048_576)) MiB; commits \(int(c["count"])) (last \(fmt(dbl(c["last_seconds"]) * 1000)) ms, \(int(c["failures"])) failed); reloads \(int(rl["count"])) (\(int(rl["failures"])) failed)"
        )
        let plugins = (s["plugins"] as? [[String: Any]] ?? []).map { p in
            let name = p["name"] as? String ?? "?"
            return p["up"] as? Bool == true
                ? "\(name) up" : "\(name) DOWN (\(int(p["consecutive_failures"])) failures: \(p["last_error"] as? String ?? "not started"))"
        }
        line("plugins: " + (plugins.isEmpty ? "none" : plugins.joined(separator: ", ")) + "; alert log at seq \(int(s["alert_log_seq"]))")
        if let err = s["last_error"] as? String { line("last error: \(err)") }

        let craftsmen = production["craftsmen"] as? [[String: Any]] ?? []
        let pieces = craftsmen.reduce(0.0) { $0 + dbl($1["pieces"]) }
        let kwh = craftsmen.reduce(0.0) { $0 + dbl($1["kwh"]) }
        let water = craftsmen.reduce(0.0) { $0 + dbl($1["water_l"]) }
        line("")
        line("today (\(production["from"] as? String ?? "?")): \(fmt(pieces)) pieces, \(fmt(kwh, 2)) kWh, \(fmt(water)) L")
        let width = craftsmen.map { ($0["name"] as? String ?? "").count }.max() ?? 0
        for c in craftsmen {
            let name = (c["name"] as? String ?? "").padding(toLength: width, withPad: " ", startingAt: 0)
            line(
                "  \(name)  \(fmt(dbl(c["pieces"]))) pieces, \(int(c["run_seconds"]) / 60) min running, \(fmt(dbl(c["kwh"]), 2)) kWh, \(fmt(dbl(c["water_l"]))) L"
            )
        }
        let firing = alerts["firing"] as? [[String: Any]] ?? []
        line("")
        line(firing.isEmpty ? "no alerts firing" : "firing alerts (\(firing.count)):")
        for a in firing {
            line(
                "  \(a["severity"] as? String ?? "?") \(a["rule"] as? String ?? "?") since \(a["started"] as? String ?? "?"): \(a["summary"] as? String ?? "")"
            )
        }
        return out
    }
}
