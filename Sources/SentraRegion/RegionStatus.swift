import Foundation
import SentraConfig
import SentraCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `sentractl region status`: the sentras of a region, whether each is reporting, and today's
/// and all-time production of each, from the regional Prometheus (docs/region.md).
public struct RegionStatus: Sendable, Encodable {
    public var region: String
    /// The region's local date that "today" means.
    public var date: String
    public var prometheus: String
    public var sentras: [Sentra]

    public struct Sentra: Sendable, Encodable {
        public var id: String
        public var name: String
        /// `reporting`, `down` (its agent reports, sentrad does not answer), `silent` (heard
        /// before, nothing for longer than the limit) or `never`.
        public var state: String
        /// Seconds since the last sample from its agent; nil: none in the last 7 days.
        public var lastHeardSecondsAgo: Int?
        public var today: Production
        public var total: Production

        enum CodingKeys: String, CodingKey {
            case id, name, state, today, total
            case lastHeardSecondsAgo = "last_heard_seconds_ago"
        }
    }

    public struct Production: Sendable, Encodable, Equatable {
        public var pieces: Double = 0
        public var kwh: Double = 0
        public var waterL: Double = 0
        enum CodingKeys: String, CodingKey {
            case pieces, kwh
            case waterL = "water_l"
        }
    }

    /// Counters' latest values are looked for this far back (a sentra cut off keeps its totals).
    static let lookback = "7d"

    /// Asks the regional Prometheus at `now` (ms); `staleSeconds`: a sentra whose last sample is
    /// older is not reporting.
    public static func query(
        _ region: RegionConfiguration, now: Int64, staleSeconds: Int = 120, client: PrometheusClient
    ) async throws -> RegionStatus {
        var cal = LocalCalendar(identifier: region.timeZone) ?? LocalCalendar(timeZone: TimeZone(secondsFromGMT: 0)!)
        let date = cal.date(atMillis: now)
        let midnight = Double(cal.startOfDay(date) ?? now) / 1000
        let at = Double(now) / 1000
        let up = #"up{job="sentrad"}"#
        // The last sample's time: within the default 5-minute lookback directly; before that,
        // each 5-minute step of the subquery sees the last sample of the 5 minutes before it.
        var lastSample = try await client.vector("max by (sentra) (max_over_time(timestamp(\(up))[\(lookback):5m]))", at: at)
        lastSample.merge(try await client.vector("max by (sentra) (timestamp(\(up)))", at: at)) { max($0, $1) }
        let upNow = try await client.vector("max by (sentra) (last_over_time(\(up)[\(staleSeconds)s]))", at: at)
        var today: [String: Production] = [:]
        var total: [String: Production] = [:]
        for (metric, path) in [
            ("sentra_pieces_total", \Production.pieces), ("sentra_energy_kwh_total", \.kwh), ("sentra_water_litres_total", \.waterL),
        ] {
            let latest = "last_over_time(\(metric)[\(lookback)])"
            let atMidnight = "last_over_time(\(metric)[\(lookback)] @ \(midnight))"
            for (s, v) in try await client.vector("sum by (sentra) (\(latest))", at: at) { total[s, default: .init()][keyPath: path] = v }
            let since = "sum by (sentra) (\(latest) - (\(atMidnight) or \(latest) * 0))"
            for (s, v) in try await client.vector(since, at: at) { today[s, default: .init()][keyPath: path] = v }
        }
        var ids = region.sentras.map(\.id)
        for id in Set(lastSample.keys).union(total.keys).sorted() where !ids.contains(id) { ids.append(id) }
        let names = Dictionary(region.sentras.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let sentras = ids.map { id in
            let ago = lastSample[id].map { max(0, Int((at - $0).rounded())) }
            let state: String
            switch (ago, upNow[id]) {
            case (nil, _): state = "never"
            case (let a?, _) where a > staleSeconds: state = "silent"
            case (_, let u?) where u >= 1: state = "reporting"
            default: state = "down"
            }
            return Sentra(
                id: id, name: names[id] ?? id, state: state, lastHeardSecondsAgo: ago, today: today[id] ?? .init(),
                total: total[id] ?? .init())
        }
        return RegionStatus(region: region.name, date: date, prometheus: region.prometheus, sentras: sentras)
    }

    /// One line per sentra, under a heading.
    public func table() -> String {
        var rows = [["sentra", "name", "state", "last heard", "pieces today", "kWh today", "water L today", "pieces in all"]]
        for s in sentras {
            rows.append([
                s.id, s.name, s.state, s.lastHeardSecondsAgo.map(Self.ago) ?? "-", Self.fmt(s.today.pieces),
                Self.fmt(s.today.kwh, 2), Self.fmt(s.today.waterL), Self.fmt(s.total.pieces),
            ])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        let body = rows.map { r in
            r.enumerated().map { c, v in c == r.count - 1 ? v : v.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        let reporting = sentras.filter { $0.state == "reporting" }.count
        let head = "\(region) on \(date): \(reporting) of \(sentras.count) sentras reporting (from \(prometheus))"
        return ([head, ""] + body).joined(separator: "\n") + "\n"
    }

    static func ago(_ s: Int) -> String {
        s < 120 ? "\(s) s ago" : s < 7200 ? "\(s / 60) min ago" : s < 172_800 ? "\(s / 3600) h ago" : "\(s / 86400) d ago"
    }

    static func fmt(_ v: Double, _ decimals: Int = 1) -> String {
        v == v.rounded() ? String(Int64(v)) : String(format: "%.\(decimals)f", v)
    }
}

/// Instant queries to Prometheus's HTTP API (`/api/v1/query`).
public struct PrometheusClient: Sendable {
    public var base: String
    public var timeout: TimeInterval
    /// `Authorization: Basic …` when the regional Prometheus asks for a user.
    var authorization: String?

    public init(base: String, username: String? = nil, password: String? = nil, timeout: TimeInterval = 10) {
        self.base = base
        self.timeout = timeout
        if let username, let password { authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }
    }

    public struct QueryError: Error, CustomStringConvertible {
        public var description: String
    }

    struct Answer: Decodable {
        var status: String
        var error: String?
        var data: DataPart?
        struct DataPart: Decodable {
            var resultType: String
            var result: [Sample]
        }
        struct Sample: Decodable {
            var metric: [String: String]
            var value: [Value]
        }
        enum Value: Decodable {
            case number(Double), text(String)
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
            }
        }
    }

    /// An instant vector by its `sentra` label (samples without one are left out).
    public func vector(_ query: String, at time: Double) async throws -> [String: Double] {
        guard var q = URLComponents(string: base + "/api/v1/query") else { throw QueryError(description: "bad URL \(base)") }
        q.queryItems = [.init(name: "query", value: query), .init(name: "time", value: String(format: "%.3f", time))]
        guard let url = q.url else { throw QueryError(description: "bad URL \(base)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data) else {
            throw QueryError(description: "HTTP \(status) from \(base) is not a Prometheus answer")
        }
        guard answer.status == "success", let d = answer.data, d.resultType == "vector" else {
            throw QueryError(description: "Prometheus at \(base) refused \(query): \(answer.error ?? "HTTP \(status)")")
        }
        var out: [String: Double] = [:]
        for s in d.result {
            guard let id = s.metric["sentra"], s.value.count == 2, case .text(let t) = s.value[1], let v = Double(t) else { continue }
            out[id] = v
        }
        return out
    }
}
