import Foundation
import SentraCore
import Yams

extension Configuration {
    /// Reads and validates `path`. Throws `ConfigurationErrors` naming every problem.
    public static func load(path: String) throws -> Configuration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationErrors([
                ConfigurationError(file: path, line: 0, key: "-", message: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses YAML text; `file` names it in errors.
    public static func parse(yaml: String, file: String) throws -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationErrors([yamlError(error, file: file)])
        } catch {
            throw ConfigurationErrors([ConfigurationError(file: file, line: 0, key: "-", message: "not valid YAML: \(error)")])
        }
        var r = Reader(file: file)
        let config = r.configuration(root)
        if !r.errors.isEmpty || config == nil { throw ConfigurationErrors(r.errors) }
        return config!
    }
}

/// libyaml's own words and position, without the whole document Yams attaches.
func yamlError(_ error: YamlError, file: String) -> ConfigurationError {
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
        .composer(let context, let problem, let mark, _):
        let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        return ConfigurationError(file: file, line: mark.line, key: "-", message: "not valid YAML: \(what) (column \(mark.column))")
    case .duplicatedKeysInMapping(let duplicates, let context):
        return ConfigurationError(
            file: file, line: context.mark.line, key: duplicates.joined(separator: ", "),
            message: "key appears more than once (first here)")
    case .reader(let problem, let offset, _, _):
        return ConfigurationError(file: file, line: 0, key: "-", message: "not readable as UTF-8 text: \(problem) at byte \(offset ?? 0)")
    default:
        return ConfigurationError(file: file, line: 0, key: "-", message: "not valid YAML: \(error)")
    }
}

/// Walks the YAML tree, collecting every problem instead of stopping at the first.
struct Reader {
    let file: String
    var errors: [ConfigurationError] = []

    mutating func error(_ node: Node?, _ key: String, _ message: String) {
        errors.append(ConfigurationError(file: file, line: node?.mark?.line ?? 0, key: key, message: message))
    }

    /// A mapping's entries by key, reporting duplicates and keys not in `allowed`.
    mutating func mapping(_ node: Node?, _ path: String, allowed: [String]) -> [String: (key: Node, value: Node)]? {
        guard let node else { return nil }
        guard let m = node.mapping else {
            error(node, path, "expected a mapping")
            return nil
        }
        var out: [String: (key: Node, value: Node)] = [:]
        for (k, v) in m {
            guard let name = k.string else {
                error(k, path, "keys must be strings")
                continue
            }
            let full = path.isEmpty ? name : "\(path).\(name)"
            if out[name] != nil {
                error(k, full, "duplicate key")
                continue
            }
            if !allowed.contains(name) {
                error(k, full, "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
                continue
            }
            out[name] = (k, v)
        }
        return out
    }

    /// A string value; a missing required one is reported at the line of `parent`, the
    /// mapping it should have been in.
    mutating func string(_ e: (key: Node, value: Node)?, _ path: String, required: Bool = false, in parent: Node? = nil) -> String? {
        guard let e else {
            if required { error(parent, path, "missing (required)") }
            return nil
        }
        guard let s = e.value.scalar?.string, !s.isEmpty else {
            error(e.value, path, "expected a non-empty string")
            return nil
        }
        return s
    }

    mutating func int(_ e: (key: Node, value: Node)?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let e else { return nil }
        guard let v = e.value.int, range.contains(v) else {
            error(e.value, path, "expected an integer in \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return v
    }

    mutating func bool(_ e: (key: Node, value: Node)?, _ path: String) -> Bool? {
        guard let e else { return nil }
        guard let v = e.value.bool else {
            error(e.value, path, "expected true or false")
            return nil
        }
        return v
    }

    mutating func double(_ e: (key: Node, value: Node)?, _ path: String) -> Double? {
        guard let e else { return nil }
        guard let v = e.value.float ?? e.value.int.map(Double.init), v.isFinite else {
            error(e.value, path, "expected a number")
            return nil
        }
        return v
    }

    mutating func duration(_ e: (key: Node, value: Node)?, _ path: String) -> Int64? {
        guard let e else { return nil }
        guard let s = e.value.scalar?.string, let ms = Reader.parseDuration(s) else {
            error(e.value, path, "expected a duration like 30s, 5m, 2h or 7d")
            return nil
        }
        return ms
    }

    /// `90s`, `5m`, `1h30m`, `7d`, `250ms`, or a bare number of seconds.
    static func parseDuration(_ s: String) -> Int64? {
        if let secs = Double(s), secs >= 0 { return Int64(secs * 1000) }
        var total: Int64 = 0
        var number = ""
        var chars = Array(s.trimmingCharacters(in: .whitespaces))
        guard !chars.isEmpty else { return nil }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isNumber || c == "." {
                number.append(c)
                i += 1
                continue
            }
            guard let n = Double(number) else { return nil }
            number = ""
            let unit: Double
            if c == "m" && i + 1 < chars.count && chars[i + 1] == "s" {
                unit = 1
                i += 1
            } else {
                switch c {
                case "s": unit = 1000
                case "m": unit = 60_000
                case "h": unit = 3_600_000
                case "d": unit = 86_400_000
                default: return nil
                }
            }
            total += Int64(n * unit)
            i += 1
        }
        chars.removeAll()
        return number.isEmpty ? total : nil
    }

    mutating func id(_ e: (key: Node, value: Node)?, _ path: String, in parent: Node) -> String? {
        guard let s = string(e, path, required: true, in: parent) else { return nil }
        guard DeviceTopic.isValidID(s) else {
            error(e?.value, path, "'\(s)' is not a valid id (1 to 63 of a-z 0-9 _ -, starting with a letter or digit)")
            return nil
        }
        return s
    }

    mutating func sequence(_ e: (key: Node, value: Node)?, _ path: String) -> [Node] {
        guard let e else { return [] }
        guard let seq = e.value.sequence else {
            error(e.value, path, "expected a list")
            return []
        }
        return Array(seq)
    }

    // MARK: The document

    mutating func configuration(_ root: Node?) -> Configuration? {
        guard let root else {
            error(nil, "-", "the file is empty")
            return nil
        }
        guard
            let top = mapping(
                root, "",
                allowed: [
                    "sentra", "broker", "state_dir", "runtime_dir", "log_dir", "ingest", "retention", "alert_log", "http",
                    "shifts", "workshops", "craftsmen", "looms", "devices", "rules", "plugins",
                ])
        else { return nil }

        var name = "sentra"
        var timeZone = "Asia/Jakarta"
        if let s = mapping(top["sentra"]?.value, "sentra", allowed: ["name", "timezone"]) {
            name = string(s["name"], "sentra.name") ?? name
            if let tz = string(s["timezone"], "sentra.timezone") {
                if TimeZone(identifier: tz) == nil {
                    error(s["timezone"]?.value, "sentra.timezone", "unknown time zone '\(tz)'")
                } else {
                    timeZone = tz
                }
            }
        }
        var calendar = LocalCalendar(identifier: timeZone)!

        var broker = Configuration.Broker()
        if let b = mapping(
            top["broker"]?.value, "broker",
            allowed: [
                "host", "port", "client_id", "keepalive", "username", "password_file", "ca_file", "cert_file", "key_file",
                "reconnect_min", "reconnect_max",
            ])
        {
            broker.host = string(b["host"], "broker.host") ?? broker.host
            broker.port = int(b["port"], "broker.port", range: 1...65535) ?? broker.port
            broker.clientID = string(b["client_id"], "broker.client_id") ?? broker.clientID
            broker.keepAliveSeconds = int(b["keepalive"], "broker.keepalive", range: 5...3600) ?? broker.keepAliveSeconds
            broker.username = string(b["username"], "broker.username")
            broker.passwordFile = string(b["password_file"], "broker.password_file")
            broker.caFile = string(b["ca_file"], "broker.ca_file")
            broker.certFile = string(b["cert_file"], "broker.cert_file")
            broker.keyFile = string(b["key_file"], "broker.key_file")
            if (broker.certFile == nil) != (broker.keyFile == nil) {
                error(b["cert_file"]?.key ?? b["key_file"]?.key, "broker.cert_file", "cert_file and key_file go together")
            }
            if let v = duration(b["reconnect_min"], "broker.reconnect_min") { broker.reconnectMinSeconds = max(1, Int(v / 1000)) }
            if let v = duration(b["reconnect_max"], "broker.reconnect_max") { broker.reconnectMaxSeconds = max(1, Int(v / 1000)) }
        }

        let stateDir = string(top["state_dir"], "state_dir") ?? "/var/lib/sentra"
        let runtimeDir = string(top["runtime_dir"], "runtime_dir")
        let logDir = string(top["log_dir"], "log_dir") ?? "/var/log/sentra"

        var ingest = IngestSettings()
        var journalBytes = 32 << 20
        var commitMillis: Int64 = 1000
        if let i = mapping(
            top["ingest"]?.value, "ingest",
            allowed: [
                "max_age", "max_future", "staleness", "journal_bytes", "queue_capacity", "commit_interval", "voltage_low", "voltage_high",
                "no_power_below", "plausible_per_minute", "max_object_bytes", "max_batch_bytes",
            ])
        {
            ingest.limits.maxAgeMillis = duration(i["max_age"], "ingest.max_age") ?? ingest.limits.maxAgeMillis
            ingest.limits.maxFutureMillis = duration(i["max_future"], "ingest.max_future") ?? ingest.limits.maxFutureMillis
            ingest.stalenessMillis = duration(i["staleness"], "ingest.staleness") ?? ingest.stalenessMillis
            journalBytes = int(i["journal_bytes"], "ingest.journal_bytes", range: 1 << 20...1 << 36) ?? journalBytes
            // Before the receive journal this bounded an in-memory queue; still accepted, ignored.
            _ = int(i["queue_capacity"], "ingest.queue_capacity", range: 16...10_000_000)
            commitMillis = duration(i["commit_interval"], "ingest.commit_interval") ?? commitMillis
            ingest.voltageLow = double(i["voltage_low"], "ingest.voltage_low") ?? ingest.voltageLow
            ingest.voltageHigh = double(i["voltage_high"], "ingest.voltage_high") ?? ingest.voltageHigh
            ingest.noPowerBelow = double(i["no_power_below"], "ingest.no_power_below") ?? ingest.noPowerBelow
            ingest.limits.maxObjectBytes =
                int(i["max_object_bytes"], "ingest.max_object_bytes", range: 64...1 << 20) ?? ingest.limits.maxObjectBytes
            ingest.limits.maxBatchBytes =
                int(i["max_batch_bytes"], "ingest.max_batch_bytes", range: 64...16 << 20) ?? ingest.limits.maxBatchBytes
            let counters = Field.allCases.filter(\.isCounter).map(\.wireName)
            if let p = mapping(i["plausible_per_minute"]?.value, "ingest.plausible_per_minute", allowed: counters) {
                for (k, e) in p {
                    if let v = double(e, "ingest.plausible_per_minute.\(k)"), let f = Field(wireName: k) {
                        if v <= 0 {
                            error(e.value, "ingest.plausible_per_minute.\(k)", "must be positive")
                        } else {
                            ingest.rates.perMinute[f] = v
                        }
                    }
                }
            }
            if ingest.voltageLow >= ingest.voltageHigh {
                error(i["voltage_low"]?.value, "ingest.voltage_low", "must be below voltage_high")
            }
        }

        var retentionDays = 400
        if let r = mapping(top["retention"]?.value, "retention", allowed: ["hourly_days"]) {
            retentionDays = int(r["hourly_days"], "retention.hourly_days", range: 1...100_000) ?? retentionDays
        }
        var alertLog = Configuration.AlertLog()
        if let a = mapping(top["alert_log"]?.value, "alert_log", allowed: ["max_file_bytes", "max_kept_bytes"]) {
            alertLog.maxFileBytes = Int64(
                int(a["max_file_bytes"], "alert_log.max_file_bytes", range: 1024...Int.max) ?? Int(alertLog.maxFileBytes))
            alertLog.maxKeptBytes = Int64(
                int(a["max_kept_bytes"], "alert_log.max_kept_bytes", range: 1024...Int.max) ?? Int(alertLog.maxKeptBytes))
        }
        var http = Configuration.HTTP()
        if let h = mapping(top["http"]?.value, "http", allowed: ["enabled", "host", "port", "token_file"]) {
            http.enabled = bool(h["enabled"], "http.enabled") ?? http.enabled
            http.host = string(h["host"], "http.host") ?? http.host
            http.port = int(h["port"], "http.port", range: 1...65535) ?? http.port
            http.tokenFile = string(h["token_file"], "http.token_file")
            if http.lacksRequiredToken, let host = h["host"] {
                error(
                    host.value, "http.host",
                    "\(http.host) is not a loopback address, so http.token_file is required (or listen on 127.0.0.1)")
            }
        }

        // Named schedules, referenced by workshops.
        var shifts: [String: Schedule] = [:]
        if let node = top["shifts"]?.value, node.mapping == nil { error(node, "shifts", "expected a mapping of shift names") }
        if let m = top["shifts"]?.value.mapping {
            for (k, v) in m {
                guard let n = k.string else { continue }
                if let sched = schedule(v, "shifts.\(n)") { shifts[n] = sched }
            }
            var seen = Set<String>()
            for (k, _) in m {
                if let n = k.string, !seen.insert(n).inserted { error(k, "shifts.\(n)", "duplicate key") }
            }
        }

        // Registry.
        var workshops: [Workshop] = []
        var workshopLine: [String: Int] = [:]
        for (i, n) in sequence(top["workshops"], "workshops").enumerated() {
            let p = "workshops[\(i)]"
            guard let w = mapping(n, p, allowed: ["id", "name", "shift", "dyeing"]) else { continue }
            guard let id = self.id(w["id"], "\(p).id", in: n) else { continue }
            if let line = workshopLine[id] {
                error(w["id"]?.value, "\(p).id", "duplicate workshop id '\(id)' (first at line \(line))")
                continue
            }
            workshopLine[id] = w["id"]?.value.mark?.line ?? 0
            var shift = Schedule.always
            if let s = w["shift"] { shift = scheduleRef(s.value, "\(p).shift", shifts) ?? shift }
            var dyeing: Schedule?
            if let s = w["dyeing"] { dyeing = scheduleRef(s.value, "\(p).dyeing", shifts) }
            workshops.append(Workshop(id: id, name: string(w["name"], "\(p).name") ?? id, shift: shift, dyeing: dyeing))
        }
        if top["workshops"] == nil { error(nil, "workshops", "missing (required): at least one workshop") }

        var craftsmen: [Craftsman] = []
        var craftsmanLine: [String: Int] = [:]
        for (i, n) in sequence(top["craftsmen"], "craftsmen").enumerated() {
            let p = "craftsmen[\(i)]"
            guard let c = mapping(n, p, allowed: ["id", "name", "workshop"]) else { continue }
            guard let id = self.id(c["id"], "\(p).id", in: n) else { continue }
            if let line = craftsmanLine[id] {
                error(c["id"]?.value, "\(p).id", "duplicate craftsman id '\(id)' (first at line \(line))")
                continue
            }
            craftsmanLine[id] = c["id"]?.value.mark?.line ?? 0
            guard let ws = string(c["workshop"], "\(p).workshop", required: true, in: n) else { continue }
            if workshopLine[ws] == nil { error(c["workshop"]?.value, "\(p).workshop", "unknown workshop '\(ws)'") }
            craftsmen.append(Craftsman(id: id, name: string(c["name"], "\(p).name") ?? id, workshop: ws))
        }
        let craftsmanWorkshop = Dictionary(craftsmen.map { ($0.id, $0.workshop) }, uniquingKeysWith: { a, _ in a })

        var looms: [Loom] = []
        var loomLine: [String: Int] = [:]
        for (i, n) in sequence(top["looms"], "looms").enumerated() {
            let p = "looms[\(i)]"
            guard let l = mapping(n, p, allowed: ["id", "workshop", "craftsman", "reassigned"]) else { continue }
            guard let id = self.id(l["id"], "\(p).id", in: n) else { continue }
            if let line = loomLine[id] {
                error(l["id"]?.value, "\(p).id", "duplicate loom id '\(id)' (first at line \(line))")
                continue
            }
            loomLine[id] = l["id"]?.value.mark?.line ?? 0
            guard let ws = string(l["workshop"], "\(p).workshop", required: true, in: n) else { continue }
            if workshopLine[ws] == nil { error(l["workshop"]?.value, "\(p).workshop", "unknown workshop '\(ws)'") }
            guard let c = l["craftsman"] else {
                error(n, "\(p).craftsman", "missing (required): every loom is assigned to a craftsman")
                continue
            }
            guard let cid = string(c, "\(p).craftsman") else { continue }
            if craftsmanWorkshop[cid] == nil { error(c.value, "\(p).craftsman", "unknown craftsman '\(cid)'") }
            var assignments = [Assignment(craftsman: cid, since: .min)]
            for (j, r) in sequence(l["reassigned"], "\(p).reassigned").enumerated() {
                let rp = "\(p).reassigned[\(j)]"
                guard let m = mapping(r, rp, allowed: ["craftsman", "since"]) else { continue }
                guard let rc = string(m["craftsman"], "\(rp).craftsman", required: true, in: r) else { continue }
                if craftsmanWorkshop[rc] == nil { error(m["craftsman"]?.value, "\(rp).craftsman", "unknown craftsman '\(rc)'") }
                guard let since = string(m["since"], "\(rp).since", required: true, in: r) else { continue }
                guard let ms = sinceMillis(since, &calendar) else {
                    error(m["since"]?.value, "\(rp).since", "expected a date YYYY-MM-DD or YYYY-MM-DDTHH:MM in the sentra's time zone")
                    continue
                }
                assignments.append(Assignment(craftsman: rc, since: ms))
            }
            looms.append(Loom(id: id, workshop: ws, assignments: assignments))
        }

        var devices: [Device] = []
        var deviceLine: [String: Int] = [:]
        for (i, n) in sequence(top["devices"], "devices").enumerated() {
            let p = "devices[\(i)]"
            guard let d = mapping(n, p, allowed: ["id", "workshop", "kind", "loom", "craftsman"]) else { continue }
            guard let id = self.id(d["id"], "\(p).id", in: n) else { continue }
            guard let ws = string(d["workshop"], "\(p).workshop", required: true, in: n) else { continue }
            if workshopLine[ws] == nil { error(d["workshop"]?.value, "\(p).workshop", "unknown workshop '\(ws)'") }
            guard let kindName = string(d["kind"], "\(p).kind", required: true, in: n) else { continue }
            guard let kind = DeviceKind(rawValue: kindName) else {
                error(d["kind"]?.value, "\(p).kind", "unknown kind '\(kindName)' (power, water or loom)")
                continue
            }
            let key = "\(ws)/\(kind.rawValue)/\(id)"
            if let line = deviceLine[key] {
                error(
                    d["id"]?.value, "\(p).id",
                    "duplicate device '\(id)' of kind \(kind.rawValue) in workshop '\(ws)' (first at line \(line))")
                continue
            }
            deviceLine[key] = d["id"]?.value.mark?.line ?? 0
            var binding = Binding.workshop
            if let l = d["loom"] {
                guard kind == .loom else {
                    error(l.key, "\(p).loom", "only a loom counter is bound to a loom")
                    continue
                }
                if let lid = string(l, "\(p).loom") {
                    if let loom = looms.first(where: { $0.id == lid }) {
                        if loom.workshop != ws {
                            error(l.value, "\(p).loom", "loom '\(lid)' is in workshop '\(loom.workshop)', not '\(ws)'")
                        }
                    } else {
                        error(l.value, "\(p).loom", "unknown loom '\(lid)'")
                    }
                    binding = .loom(lid)
                }
            } else if let c = d["craftsman"] {
                guard kind != .loom else {
                    error(c.key, "\(p).craftsman", "a loom counter is bound to a loom, not a craftsman")
                    continue
                }
                if let cid = string(c, "\(p).craftsman") {
                    if craftsmanWorkshop[cid] == nil { error(c.value, "\(p).craftsman", "unknown craftsman '\(cid)'") }
                    binding = .craftsman(cid)
                }
            } else if kind == .loom {
                error(n, "\(p).loom", "missing (required): a loom counter names its loom")
                continue
            }
            devices.append(Device(id: id, workshop: ws, kind: kind, binding: binding))
        }
        var boundLooms: [String: String] = [:]
        for d in devices {
            if let l = d.loom {
                if let other = boundLooms[l] {
                    error(nil, "devices", "loom '\(l)' has two counter boards: '\(other)' and '\(d.id)'")
                }
                boundLooms[l] = d.id
            }
        }

        let registry = Registry(name: name, workshops: workshops, craftsmen: craftsmen, looms: looms, devices: devices)
        var rules: [RuleSpec] = []
        var ruleNames = Set<String>()
        for (i, n) in sequence(top["rules"], "rules").enumerated() {
            if let r = rule(n, "rules[\(i)]") {
                if !ruleNames.insert(r.name).inserted {
                    error(n, "rules[\(i)].name", "duplicate rule name '\(r.name)'")
                } else {
                    rules.append(r)
                }
            }
        }
        var plugins: [PluginSpec] = []
        for (i, n) in sequence(top["plugins"], "plugins").enumerated() {
            if let pl = plugin(n, "plugins[\(i)]") {
                if plugins.contains(where: { $0.name == pl.name }) {
                    error(n, "plugins[\(i)].name", "duplicate plugin name '\(pl.name)'")
                } else {
                    plugins.append(pl)
                }
            }
        }
        guard errors.isEmpty else { return nil }
        return Configuration(
            file: file, name: name, timeZone: timeZone, broker: broker, stateDirectory: stateDir, runtimeDirectory: runtimeDir,
            logDirectory: logDir,
            ingest: ingest, journalBytes: journalBytes, commitIntervalMillis: commitMillis,
            hourlyRetentionDays: retentionDays, alertLog: alertLog, http: http, registry: registry, rules: rules,
            plugins: plugins)
    }

    func sinceMillis(_ s: String, _ calendar: inout LocalCalendar) -> Int64? {
        let date = String(s.prefix(10))
        guard let start = calendar.startOfDay(date) else { return nil }
        if s.count == 10 { return start }
        let rest = s.dropFirst(10)
        guard rest.first == "T" || rest.first == " ", let m = Reader.minuteOfDay(String(rest.dropFirst())) else { return nil }
        return start + Int64(m) * 60_000
    }

    static func minuteOfDay(_ s: String) -> Int? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0...59).contains(m), h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }

    mutating func scheduleRef(_ node: Node, _ path: String, _ named: [String: Schedule]) -> Schedule? {
        if let s = node.scalar?.string {
            guard let sched = named[s] else {
                error(node, path, "unknown shift '\(s)' (define it under shifts:)")
                return nil
            }
            return sched
        }
        return schedule(node, path)
    }

    static let weekdays = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

    mutating func schedule(_ node: Node, _ path: String) -> Schedule? {
        guard let m = mapping(node, path, allowed: ["days", "hours", "breaks", "holidays"]) else { return nil }
        var days = Set(1...7)
        if let d = m["days"] {
            days = []
            for n in sequence(d, "\(path).days") {
                guard let s = n.string?.lowercased(), let w = Reader.weekdays[String(s.prefix(3))] else {
                    error(n, "\(path).days", "expected weekday names like mon, tue, … sun")
                    continue
                }
                days.insert(w)
            }
        }
        func windows(_ key: String) -> [DayWindow] {
            var out: [DayWindow] = []
            for n in sequence(m[key], "\(path).\(key)") {
                let parts = (n.string ?? "").split(separator: "-").map { String($0).trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let a = Reader.minuteOfDay(parts[0]), let b = Reader.minuteOfDay(parts[1]), a != b else {
                    error(n, "\(path).\(key)", "expected a time range like 07:00-16:00")
                    continue
                }
                out.append(DayWindow(startMinute: a, endMinute: b > a ? b : b + 1440))
            }
            return out
        }
        let hours = windows("hours")
        if m["hours"] == nil { error(node, "\(path).hours", "missing (required): the hours of the shift") }
        let breaks = windows("breaks")
        var holidays = Set<String>()
        for n in sequence(m["holidays"], "\(path).holidays") {
            guard let s = n.string, LocalCalendar.daysSinceEpoch(s) != nil else {
                error(n, "\(path).holidays", "expected a date YYYY-MM-DD")
                continue
            }
            holidays.insert(s)
        }
        return Schedule(days: days, windows: hours, breaks: breaks, holidays: holidays)
    }

    mutating func rule(_ node: Node, _ p: String) -> RuleSpec? {
        guard
            let m = mapping(
                node, p,
                allowed: [
                    "name", "type", "severity", "match", "during", "summary", "field", "below", "above", "resolve_at", "for",
                    "keep_firing_for", "offline", "fraction", "days",
                ])
        else { return nil }
        guard let name = string(m["name"], "\(p).name", required: true, in: node) else { return nil }
        let severityName = string(m["severity"], "\(p).severity") ?? "warning"
        guard let severity = Severity(rawValue: severityName) else {
            error(m["severity"]?.value, "\(p).severity", "expected info, warning or critical")
            return nil
        }
        var scope = RuleScope()
        if let s = mapping(m["match"]?.value, "\(p).match", allowed: ["workshop", "kind", "device", "loom", "craftsman"]) {
            scope.workshop = string(s["workshop"], "\(p).match.workshop").map(IDPattern.init)
            scope.device = string(s["device"], "\(p).match.device").map(IDPattern.init)
            scope.loom = string(s["loom"], "\(p).match.loom").map(IDPattern.init)
            scope.craftsman = string(s["craftsman"], "\(p).match.craftsman").map(IDPattern.init)
            if let k = string(s["kind"], "\(p).match.kind") {
                scope.kind = DeviceKind(rawValue: k)
                if scope.kind == nil { error(s["kind"]?.value, "\(p).match.kind", "unknown kind '\(k)'") }
            }
        }
        var window = RuleWindow.always
        if let w = string(m["during"], "\(p).during") {
            guard let rw = RuleWindow(rawValue: w) else {
                error(m["during"]?.value, "\(p).during", "expected always, shift or dyeing")
                return nil
            }
            window = rw
        }
        guard let type = string(m["type"], "\(p).type", required: true, in: node) else { return nil }
        let forMillis = duration(m["for"], "\(p).for") ?? 0
        let condition: RuleCondition
        var defaultSummary: String
        switch type {
        case "threshold":
            guard let fieldName = string(m["field"], "\(p).field", required: true, in: node) else { return nil }
            guard let field = Field(wireName: fieldName) else {
                error(m["field"]?.value, "\(p).field", "unknown field '\(fieldName)'")
                return nil
            }
            let below = double(m["below"], "\(p).below")
            let above = double(m["above"], "\(p).above")
            guard (below == nil) != (above == nil) else {
                error(node, "\(p).below", "a threshold rule has exactly one of below: or above:")
                return nil
            }
            let limit = below ?? above!
            let resolveAt = double(m["resolve_at"], "\(p).resolve_at") ?? limit
            if let r = m["resolve_at"], (below != nil && resolveAt < limit) || (above != nil && resolveAt > limit) {
                error(r.value, "\(p).resolve_at", "the hysteresis band must lie on the healthy side of the limit")
            }
            if scope.kind == nil { scope.kind = field.kind }
            condition = .threshold(
                field: field, below: below != nil, limit: limit, resolveAt: resolveAt, forMillis: forMillis,
                keepFiringMillis: duration(m["keep_firing_for"], "\(p).keep_firing_for") ?? 0,
                offlineFires: m["offline"]?.value.bool ?? false)
            defaultSummary = "\(fieldName) {value} \(below != nil ? "below" : "above") {limit} for {for} at {workshop}/{device}"
        case "absent":
            condition = .absent(forMillis: forMillis > 0 ? forMillis : 300_000)
            defaultSummary = "No reading from {workshop}/{device} for {value} s"
        case "stalled":
            scope.kind = .loom
            condition = .stalled(forMillis: forMillis > 0 ? forMillis : 900_000)
            defaultSummary = "Loom {loom} of {craftsman} at {workshop} stalled for {for}"
        case "below_usual":
            let fraction = double(m["fraction"], "\(p).fraction") ?? 0.5
            if !(0 < fraction && fraction < 1) { error(m["fraction"]?.value, "\(p).fraction", "expected a fraction between 0 and 1") }
            condition = .belowUsual(fraction: fraction, days: int(m["days"], "\(p).days", range: 1...365) ?? 14)
            defaultSummary = "{craftsman} made {value} pieces this hour, below {limit} (usual rate)"
        case "counter_reset":
            condition = .counterReset
            defaultSummary = "Board {workshop}/{device} restarted (counter reset)"
        default:
            error(m["type"]?.value, "\(p).type", "unknown rule type '\(type)' (threshold, absent, stalled, below_usual, counter_reset)")
            return nil
        }
        return RuleSpec(
            name: name, severity: severity, scope: scope, window: window, condition: condition,
            summary: string(m["summary"], "\(p).summary") ?? defaultSummary)
    }

    mutating func plugin(_ node: Node, _ p: String) -> PluginSpec? {
        guard let m = mapping(node, p, allowed: ["name", "builtin", "command", "options", "timeout", "min_severity"]) else { return nil }
        guard let name = string(m["name"], "\(p).name", required: true, in: node) else { return nil }
        let builtin = string(m["builtin"], "\(p).builtin")
        var command: [String] = []
        if let c = m["command"] {
            if let s = c.value.scalar?.string { command = [s] } else { command = sequence(c, "\(p).command").compactMap(\.string) }
        }
        if (builtin == nil) == command.isEmpty {
            error(node, "\(p).command", "a plugin has exactly one of builtin: or command:")
            return nil
        }
        var options: [String: String] = [:]
        if let o = m["options"] {
            if let om = o.value.mapping {
                for (k, v) in om { if let ks = k.string { options[ks] = v.string ?? "" } }
            } else {
                error(o.value, "\(p).options", "expected a mapping")
            }
        }
        let sev = string(m["min_severity"], "\(p).min_severity").flatMap(Severity.init(rawValue:)) ?? .info
        return PluginSpec(
            name: name, builtin: builtin, command: command, options: options,
            timeoutMillis: duration(m["timeout"], "\(p).timeout") ?? 5000, minSeverity: sev)
    }
}
