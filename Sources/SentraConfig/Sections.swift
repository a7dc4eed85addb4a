import Foundation
import SentraCore
import Yams

/// The configuration file's sections, one function each. Each reads its part of the document
/// and returns it; its problems (file, line, key, what is wrong) go to the reader's `errors`,
/// so one pass over the file names every problem, in the file's order.
extension Reader {
    static let topLevelKeys = [
        "sentra", "broker", "state_dir", "runtime_dir", "log_dir", "ingest", "retention", "alert_log", "http",
        "shifts", "workshops", "craftsmen", "looms", "devices", "mappings", "rules", "plugins",
        "region",
        "products", "pay",
    ]

    /// The whole document: every section in turn, composed into a `Configuration`.
    mutating func configuration(_ root: Node?) -> Configuration? {
        guard let root else {
            error(nil, "-", "the file is empty")
            return nil
        }
        guard let top = mapping(root, "", allowed: Self.topLevelKeys) else { return nil }
        let (id, name, timeZone) = sentra(top["sentra"])
        var calendar = LocalCalendar(identifier: timeZone) ?? LocalCalendar(timeZone: TimeZone(secondsFromGMT: 0) ?? .current)
        let broker = self.broker(top["broker"])
        let stateDir = string(top["state_dir"], "state_dir") ?? "/var/lib/sentra"
        let runtimeDir = string(top["runtime_dir"], "runtime_dir")
        let logDir = string(top["log_dir"], "log_dir") ?? "/var/log/sentra"
        let ingest = self.ingest(top["ingest"])
        let retentionDays = retention(top["retention"])
        let alertLog = self.alertLog(top["alert_log"])
        let http = self.http(top["http"])
        let shifts = self.shifts(top["shifts"])
        let registry = self.registry(top, name: name, shifts: shifts, calendar: &calendar, topicPrefix: broker.topicPrefix)
        let rules = self.rules(top["rules"])
        let plugins = self.plugins(top["plugins"])
        let region = top["region"].flatMap { self.region($0) }
        let pay = self.pay(top["pay"], products: products(top["products"]))
        guard errors.isEmpty else { return nil }
        var configuration = Configuration(
            file: file, name: name, timeZone: timeZone, broker: broker, stateDirectory: stateDir, runtimeDirectory: runtimeDir,
            logDirectory: logDir, ingest: ingest.settings, journalBytes: ingest.journalBytes,
            commitIntervalMillis: ingest.commitMillis, hourlyRetentionDays: retentionDays, alertLog: alertLog, http: http,
            registry: registry, rules: rules, plugins: plugins)
        configuration.notices = notices
        configuration.sentraID = id
        configuration.region = region
        configuration.pay = pay
        return configuration
    }

    /// `sentra:` the sentra's id (for a region), name and time zone.
    mutating func sentra(_ entry: Entry?) -> (id: String?, name: String, timeZone: String) {
        var id: String?
        var name = "sentra"
        var timeZone = "Asia/Jakarta"
        if let s = mapping(entry?.value, "sentra", allowed: ["id", "name", "timezone"]) {
            if s["id"] != nil { id = self.id(s["id"], "sentra.id", in: entry!.value) }
            name = string(s["name"], "sentra.name") ?? name
            if let tz = string(s["timezone"], "sentra.timezone") {
                if TimeZone(identifier: tz) == nil {
                    error(s["timezone"]?.value, "sentra.timezone", "unknown time zone '\(tz)'")
                } else {
                    timeZone = tz
                }
            }
        }
        return (id, name, timeZone)
    }

    /// `broker:` where mosquitto is, who we are to it, and the topics' first level. Also the
    /// region's broker (`p` = `region.broker`, `devices` false: it has no topics of devices).
    mutating func broker(
        _ entry: Entry?, path p: String = "broker", devices: Bool = true, defaults: Configuration.Broker = .init()
    ) -> Configuration.Broker {
        var broker = defaults
        guard
            let b = mapping(
                entry?.value, p,
                allowed: [
                    "host", "port", "client_id", "keepalive", "username", "password_file", "ca_file", "cert_file", "key_file",
                    "reconnect_min", "reconnect_max",
                ] + (devices ? ["topic_prefix", "subscriptions"] : []))
        else { return broker }
        broker.host = string(b["host"], "\(p).host") ?? broker.host
        broker.port = int(b["port"], "\(p).port", range: ConfigurationLimits.port) ?? broker.port
        broker.clientID = string(b["client_id"], "\(p).client_id") ?? broker.clientID
        if broker.clientID.utf8.count > ConfigurationLimits.clientIDBytes {
            error(b["client_id"]?.value, "\(p).client_id", "longer than \(ConfigurationLimits.clientIDBytes) bytes")
        }
        broker.keepAliveSeconds = int(b["keepalive"], "\(p).keepalive", range: ConfigurationLimits.keepAlive) ?? broker.keepAliveSeconds
        broker.username = string(b["username"], "\(p).username")
        broker.passwordFile = string(b["password_file"], "\(p).password_file")
        broker.caFile = string(b["ca_file"], "\(p).ca_file")
        broker.certFile = string(b["cert_file"], "\(p).cert_file")
        broker.keyFile = string(b["key_file"], "\(p).key_file")
        if (broker.certFile == nil) != (broker.keyFile == nil) {
            error(b["cert_file"]?.key ?? b["key_file"]?.key, "\(p).cert_file", "cert_file and key_file go together")
        }
        let reconnect = ConfigurationLimits.reconnect
        if let v = duration(b["reconnect_min"], "\(p).reconnect_min", range: reconnect) { broker.reconnectMinSeconds = Int(v / 1000) }
        if let v = duration(b["reconnect_max"], "\(p).reconnect_max", range: reconnect) { broker.reconnectMaxSeconds = Int(v / 1000) }
        if broker.reconnectMinSeconds > broker.reconnectMaxSeconds {
            error(
                b["reconnect_min"]?.value ?? b["reconnect_max"]?.value, "\(p).reconnect_min",
                "must not be longer than reconnect_max (\(broker.reconnectMaxSeconds)s)")
        }
        if let prefix = string(b["topic_prefix"], "\(p).topic_prefix") {
            if Self.isValidTopicPrefix(prefix) {
                broker.topicPrefix = prefix
            } else {
                error(
                    b["topic_prefix"]?.value, "\(p).topic_prefix",
                    "expected topic levels like sentra or coop/bandar: no +, #, empty level or / at either end")
            }
        }
        for (i, n) in sequence(b["subscriptions"], "\(p).subscriptions").enumerated() {
            guard let f = n.scalar?.string, Self.isValidFilter(f) else {
                error(n, "\(p).subscriptions[\(i)]", "expected an MQTT topic filter (levels, + for one level, # last)")
                continue
            }
            broker.subscriptions.append(f)
        }
        return broker
    }

    /// An MQTT subscription filter: non-empty, `+` a whole level, `#` only as the last level.
    static func isValidFilter(_ s: String) -> Bool {
        let levels = s.split(separator: "/", omittingEmptySubsequences: false)
        guard !s.isEmpty, s.utf8.count <= 256, !s.contains("\0") else { return false }
        for (i, l) in levels.enumerated() {
            if l.contains("+") && l != "+" { return false }
            if l.contains("#") && (l != "#" || i != levels.count - 1) { return false }
        }
        return true
    }

    /// One or more non-empty MQTT topic levels without wildcards.
    static func isValidTopicPrefix(_ s: String) -> Bool {
        !s.isEmpty && !s.contains("+") && !s.contains("#") && !s.contains("\0")
            && !s.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty)
    }

    /// What `ingest:` sets.
    struct Ingest {
        var settings = IngestSettings()
        var journalBytes = 32 << 20
        var commitMillis: Int64 = 1000
    }

    /// `ingest:` the device protocol's limits, the journal, the commit interval, voltage bands.
    mutating func ingest(_ entry: Entry?) -> Ingest {
        var out = Ingest()
        guard
            let i = mapping(
                entry?.value, "ingest",
                allowed: [
                    "max_age", "max_future", "staleness", "journal_bytes", "queue_capacity", "commit_interval", "voltage_low",
                    "voltage_high", "no_power_below", "plausible_per_minute", "max_object_bytes", "max_batch_bytes",
                ])
        else { return out }
        var ingest = out.settings
        ingest.limits.maxAgeMillis =
            duration(i["max_age"], "ingest.max_age", range: ConfigurationLimits.maxAge) ?? ingest.limits.maxAgeMillis
        ingest.limits.maxFutureMillis =
            duration(i["max_future"], "ingest.max_future", range: ConfigurationLimits.maxFuture) ?? ingest.limits.maxFutureMillis
        ingest.stalenessMillis =
            duration(i["staleness"], "ingest.staleness", range: ConfigurationLimits.staleness) ?? ingest.stalenessMillis
        out.journalBytes = int(i["journal_bytes"], "ingest.journal_bytes", range: ConfigurationLimits.journalBytes) ?? out.journalBytes
        if let q = i["queue_capacity"], int(q, "ingest.queue_capacity", range: ConfigurationLimits.queueCapacity) != nil {
            // It bounded the in-memory queue the receive journal replaced; old files still load.
            notice(q.key, "ingest.queue_capacity", "no longer used (ingest.journal_bytes sizes the receive journal); remove it")
        }
        out.commitMillis =
            duration(i["commit_interval"], "ingest.commit_interval", range: ConfigurationLimits.commitInterval) ?? out.commitMillis
        ingest.voltageLow = double(i["voltage_low"], "ingest.voltage_low", range: ConfigurationLimits.volts) ?? ingest.voltageLow
        ingest.voltageHigh = double(i["voltage_high"], "ingest.voltage_high", range: ConfigurationLimits.volts) ?? ingest.voltageHigh
        ingest.noPowerBelow = double(i["no_power_below"], "ingest.no_power_below", range: ConfigurationLimits.volts) ?? ingest.noPowerBelow
        ingest.limits.maxObjectBytes =
            int(i["max_object_bytes"], "ingest.max_object_bytes", range: ConfigurationLimits.maxObjectBytes) ?? ingest.limits.maxObjectBytes
        ingest.limits.maxBatchBytes =
            int(i["max_batch_bytes"], "ingest.max_batch_bytes", range: ConfigurationLimits.maxBatchBytes) ?? ingest.limits.maxBatchBytes
        plausibleRates(i["plausible_per_minute"], into: &ingest.rates)
        if ingest.voltageLow >= ingest.voltageHigh {
            error(i["voltage_low"]?.value, "ingest.voltage_low", "must be below voltage_high")
        }
        out.settings = ingest
        return out
    }

    /// `ingest.plausible_per_minute:` the fastest a counter may rise, per counter.
    mutating func plausibleRates(_ entry: Entry?, into rates: inout PlausibleRates) {
        let counters = Field.allCases.filter(\.isCounter).map(\.wireName)
        guard let p = mapping(entry?.value, "ingest.plausible_per_minute", allowed: counters) else { return }
        for (k, e) in p {
            if let v = double(e, "ingest.plausible_per_minute.\(k)", range: ConfigurationLimits.perMinute), let f = Field(wireName: k) {
                if v <= 0 {
                    error(e.value, "ingest.plausible_per_minute.\(k)", "must be positive")
                } else {
                    rates.perMinute[f] = v
                }
            }
        }
    }

    /// `retention:` how many days hourly rows are kept before they roll up into daily rows.
    mutating func retention(_ entry: Entry?) -> Int {
        guard let r = mapping(entry?.value, "retention", allowed: ["hourly_days"]) else { return 400 }
        return int(r["hourly_days"], "retention.hourly_days", range: ConfigurationLimits.hourlyRetentionDays) ?? 400
    }

    /// `alert_log:` when the alert log rotates and how much of it is kept.
    mutating func alertLog(_ entry: Entry?) -> Configuration.AlertLog {
        var alertLog = Configuration.AlertLog()
        if let a = mapping(entry?.value, "alert_log", allowed: ["max_file_bytes", "max_kept_bytes"]) {
            let bytes = ConfigurationLimits.alertLogBytes
            if let v = int(a["max_file_bytes"], "alert_log.max_file_bytes", range: bytes) { alertLog.maxFileBytes = Int64(v) }
            if let v = int(a["max_kept_bytes"], "alert_log.max_kept_bytes", range: bytes) { alertLog.maxKeptBytes = Int64(v) }
        }
        return alertLog
    }

    /// `http:` the listener and its token.
    mutating func http(_ entry: Entry?) -> Configuration.HTTP {
        var http = Configuration.HTTP()
        if let h = mapping(
            entry?.value, "http", allowed: ["enabled", "host", "port", "token_file", "idle_timeout", "max_connections"])
        {
            http.enabled = bool(h["enabled"], "http.enabled") ?? http.enabled
            http.host = string(h["host"], "http.host") ?? http.host
            http.port = int(h["port"], "http.port", range: 1...65535) ?? http.port
            http.tokenFile = string(h["token_file"], "http.token_file")
            http.idleTimeoutMillis =
                duration(h["idle_timeout"], "http.idle_timeout", range: Configuration.HTTP.idleTimeoutRange) ?? http.idleTimeoutMillis
            http.maxConnections =
                int(h["max_connections"], "http.max_connections", range: Configuration.HTTP.maxConnectionsRange) ?? http.maxConnections
            if http.lacksRequiredToken, let host = h["host"] {
                error(
                    host.value, "http.host",
                    "\(http.host) is not a loopback address, so http.token_file is required (or listen on 127.0.0.1)")
            }
        }
        return http
    }

    /// `shifts:` named schedules, referenced by workshops.
    mutating func shifts(_ entry: Entry?) -> [String: Schedule] {
        var shifts: [String: Schedule] = [:]
        if let node = entry?.value, node.mapping == nil { error(node, "shifts", "expected a mapping of shift names") }
        guard let m = entry?.value.mapping else { return shifts }
        for (k, v) in m {
            guard let n = k.string else { continue }
            if let sched = schedule(v, "shifts.\(n)") { shifts[n] = sched }
        }
        var seen = Set<String>()
        for (k, _) in m {
            if let n = k.string, !seen.insert(n).inserted { error(k, "shifts.\(n)", "duplicate key") }
        }
        return shifts
    }
}
