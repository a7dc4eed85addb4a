import Foundation
import SentraCore
import SentraStore
import SentraReadModel
import SentraAlertLog
import SentraAlerts
import SentraPlugins
import SentraWire

/// The JSON of `/api/v1/...` (docs/http.md). Built as text, like the reports, so field order
/// is stable and numbers print as `sentractl` prints them.
extension DaemonView {
    /// `GET /api/v1/sentra`: workshops, craftsmen, looms and devices with their current state.
    public func sentraJSON() -> String {
        let now = clock()
        guard let snap = live.snapshot else { return JSONText.object([("name", JSONText.string(name)), ("ready", "false")]) }
        let reg = snap.registry
        var cal = calendar
        let local = cal.local(atMillis: now)
        let firing = firing(snap)
        let str = JSONText.string
        let list = { (xs: [String]) in JSONText.array(xs.map(str)) }

        // Grouped once, so a sentra of thousands of looms costs a pass, not a pass per workshop.
        var loomDevice: [String: Int] = [:]
        var devicesOf: [String: [Int]] = [:]
        for (i, d) in reg.devices.enumerated() {
            if let l = d.loom { loomDevice[l] = i }
            devicesOf[d.workshop, default: []].append(i)
        }
        let craftsmanOf = { (l: Loom) -> String? in l.assignments.isEmpty ? nil : l.currentCraftsman }
        var loomsOfWorkshop: [String: [String]] = [:]
        var loomsOfCraftsman: [String: [String]] = [:]
        for l in reg.looms {
            loomsOfWorkshop[l.workshop, default: []].append(l.id)
            if let c = craftsmanOf(l) { loomsOfCraftsman[c, default: []].append(l.id) }
        }
        var craftsmenOf: [String: [String]] = [:]
        for c in reg.craftsmen { craftsmenOf[c.workshop, default: []].append(c.id) }

        let workshops = reg.workshops.map { w -> String in
            let meters = devicesOf[w.id] ?? []
            let alerts = firing.filter { $0.alert.labels["workshop"] == w.id }
            /// A workshop's meters of one kind: status, values combined over its meters, alerts.
            func health(_ kind: DeviceKind, _ values: [(key: String, field: Field, combine: ([Double]) -> Double?)]) -> String {
                let ds = meters.filter { reg.devices[$0].kind == kind }
                let ids = Set(ds.map { reg.devices[$0].id })
                let onMeters = alerts.filter { $0.alert.labels["device"].map(ids.contains) ?? false }
                let state: String
                if ds.isEmpty {
                    state = "none"
                } else if !onMeters.isEmpty {
                    state = "alert"
                } else if ds.allSatisfy({ !snap.devices[$0].online || snap.devices[$0].lastHeard == nil }) {
                    state = "offline"
                } else {
                    state = "ok"
                }
                var pairs = [("status", str(state))]
                for (key, field, combine) in values {
                    pairs.append(
                        (key, JSONText.optionalNumber(combine(ds.compactMap { snap.devices[$0].online ? snap.devices[$0][field] : nil }))))
                }
                pairs.append(("devices", list(ds.map { reg.devices[$0].id })))
                pairs.append(("alerts", list(Array(Set(onMeters.map(\.rule))).sorted())))
                return JSONText.object(pairs)
            }
            let sum = { (xs: [Double]) in xs.isEmpty ? nil : xs.reduce(0, +) }
            let minimum = { (xs: [Double]) in xs.min() }
            return JSONText.object([
                ("id", str(w.id)), ("name", str(w.name)), ("in_shift", w.shift.contains(local) ? "true" : "false"),
                ("craftsmen", list(craftsmenOf[w.id] ?? [])), ("looms", list(loomsOfWorkshop[w.id] ?? [])),
                ("power", health(.power, [("voltage", .v, minimum), ("watts", .w, sum)])),
                ("water", health(.water, [("flow_lpm", .lpm, sum), ("tank_percent", .level, minimum)])),
                ("alerts", list(Array(Set(alerts.map(\.rule))).sorted())),
            ])
        }
        let craftsmen = reg.craftsmen.map { c in
            JSONText.object([
                ("id", str(c.id)), ("name", str(c.name)), ("workshop", str(c.workshop)),
                ("looms", list(loomsOfCraftsman[c.id] ?? [])),
            ])
        }
        let looms = reg.looms.map { l -> String in
            let i = loomDevice[l.id]
            let d = i.map { snap.devices[$0] }
            let state = d.flatMap { $0.online ? $0.state?.name : nil } ?? "unknown"
            return JSONText.object([
                ("id", str(l.id)), ("workshop", str(l.workshop)), ("craftsman", JSONText.optionalString(craftsmanOf(l))),
                ("device", JSONText.optionalString(i.map { reg.devices[$0].id })), ("state", str(state)),
                ("since", time(d?.stateSince)), ("online", d?.online == true ? "true" : "false"), ("last_heard", time(d?.lastHeard)),
            ])
        }
        let devices = reg.devices.enumerated().map { i, dev -> String in
            let d = snap.devices[i]
            let values = LiveDevice.gaugeFields.compactMap { f in d[f].map { (f.wireName, JSONText.optionalNumber($0)) } }
            return JSONText.object([
                ("id", str(dev.id)), ("workshop", str(dev.workshop)), ("kind", str(dev.kind.rawValue)),
                ("loom", JSONText.optionalString(dev.loom)), ("craftsman", JSONText.optionalString(dev.craftsman)),
                ("online", d.online ? "true" : "false"), ("last_heard", time(d.lastHeard)),
                ("state", JSONText.optionalString(d.state?.name)), ("values", JSONText.object(values)),
            ])
        }
        return JSONText.object([
            ("name", str(name)), ("time_zone", str(timeZone.identifier)), ("now", time(now)), ("today", str(local.date)),
            ("workshops", JSONText.array(workshops, pretty: true)), ("craftsmen", JSONText.array(craftsmen, pretty: true)),
            ("looms", JSONText.array(looms, pretty: true)), ("devices", JSONText.array(devices, pretty: true)),
        ]) + "\n"
    }

    /// `GET /api/v1/production`: `sentractl report --format json` for `from`...`to` (today by default).
    public func productionJSON(from: String?, to: String?, by grouping: ReportGrouping = .craftsman) throws -> String {
        var cal = calendar
        let today = cal.date(atMillis: clock())
        let (a, b) = (from ?? to ?? today, to ?? from ?? today)
        for d in [a, b] where LocalCalendar.daysSinceEpoch(d) == nil { throw ReportError.badDate(d) }
        guard let registry = live.snapshot?.registry else { throw APIError.notReady }
        return try store.report(registry: registry, calendar: cal, from: a, to: b).json(by: grouping)
    }

    /// `GET /api/v1/production/usual`: each craftsman's pieces per hour on `date` against the
    /// median of his last `usualDays` working days (days he made anything).
    public func usualJSON(date: String?) throws -> String {
        let now = clock()
        var cal = calendar
        let today = cal.date(atMillis: now)
        let day = date ?? today
        guard LocalCalendar.daysSinceEpoch(day) != nil else { throw ReportError.badDate(day) }
        guard let registry = live.snapshot?.registry else { throw APIError.notReady }
        let offset = cal.offset(atMillis: cal.startOfDay(day) ?? now)
        let onDay = try store.piecesByHour(from: day, to: day, utcOffset: offset)
        let workingDays = try store.workingDayHours(before: day, days: usualDays, utcOffset: offset)
        // How far into `day` the comparison runs: now for today, the whole day for a past one.
        let local = cal.local(atMillis: now)
        let fractionOfDay: Double =
            day < today ? 24 : day > today ? 0 : Double(local.minuteOfDay) / 60
        let rows = registry.craftsmen.map { c -> String in
            let todayHours = onDay[c.id]?[day] ?? [Double](repeating: 0, count: 24)
            let past = workingDays[c.id] ?? []
            var pairs: [(String, String)] = [
                ("craftsman", JSONText.string(c.id)), ("name", JSONText.string(c.name)), ("workshop", JSONText.string(c.workshop)),
                ("pieces_today", JSONText.optionalNumber(todayHours.reduce(0, +))),
            ]
            if past.isEmpty {
                pairs += [("usual_so_far", "null"), ("usual_day", "null")]
            } else {
                let soFar = past.map { hours in Self.partialSum(hours, upTo: fractionOfDay) }
                pairs += [
                    ("usual_so_far", JSONText.optionalNumber(UsualRates.median(soFar))),
                    ("usual_day", JSONText.optionalNumber(UsualRates.median(past.map { $0.reduce(0, +) }))),
                ]
            }
            pairs.append(("hours", JSONText.array(todayHours.map { JSONText.optionalNumber($0) })))
            pairs.append(
                (
                    "usual_hours",
                    past.isEmpty
                        ? "null"
                        : JSONText.array((0..<24).map { h in JSONText.optionalNumber(UsualRates.median(past.map { $0[h] })) })
                ))
            pairs.append(("days", String(past.count)))
            return JSONText.object(pairs)
        }
        return JSONText.object([
            ("date", JSONText.string(day)), ("days", String(usualDays)), ("as_of", time(now)),
            ("craftsmen", JSONText.array(rows, pretty: true)),
        ]) + "\n"
    }

    /// Pieces of whole hours before `hours` plus the started hour pro rata.
    static func partialSum(_ perHour: [Double], upTo hours: Double) -> Double {
        let whole = Int(hours.rounded(.down))
        var s = perHour.prefix(whole).reduce(0, +)
        if whole < perHour.count { s += perHour[whole] * (hours - Double(whole)) }
        return s
    }

    /// `GET /api/v1/alerts`: the alerts firing now and the last `recent` alert-log events.
    public func alertsJSON(recent: Int = 50) -> String {
        let firing = firing(live.snapshot).sorted { ($0.alert.severity, $1.alert.started) > ($1.alert.severity, $0.alert.started) }
        let items = firing.map { f in
            JSONText.object([
                ("id", JSONText.string(f.alert.id)), ("rule", JSONText.string(f.rule)),
                ("severity", JSONText.string(f.alert.severity.rawValue)),
                ("labels", JSONText.object(f.alert.labels.sorted { $0.key < $1.key }.map { ($0.key, JSONText.string($0.value)) })),
                ("value", JSONText.optionalNumber(f.alert.value)), ("summary", JSONText.string(f.alert.summary)),
                ("started", time(f.alert.started)),
            ])
        }
        return JSONText.object([
            ("firing", JSONText.array(items, pretty: true)), ("recent", JSONText.array(recentLines(recent), pretty: true)),
        ]) + "\n"
    }

    /// The last `n` lines of the alert log (each already a JSON object), oldest first.
    func recentLines(_ n: Int) -> [String] {
        let last = alertLog.lastSeq
        guard last > 0, n > 0 else { return [] }
        var follower = AlertLogFollower(path: alertLog.path, after: max(0, last - Int64(n)))
        return follower.poll(maxLines: n).filter { $0.seq <= last }.map {
            $0.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// `GET /api/v1/status`: the daemon's health on one screen (`sentractl status`).
    public func statusJSON() -> String {
        let s = status.snapshot
        let now = clock()
        let snap = live.snapshot
        let reasons = RejectReason.allCases.map { ($0.name, String(s.stats[$0])) }
        let plugins = (self.plugins?.health ?? []).map { h in
            JSONText.object([
                ("name", JSONText.string(h.name)), ("up", h.up ? "true" : "false"),
                ("consecutive_failures", String(h.consecutiveFailures)), ("failures", String(h.failures)),
                ("delivered", String(h.delivered)), ("acked_seq", h.ackedSeq.map { String($0) } ?? "null"),
                ("last_error", JSONText.optionalString(h.lastError)),
            ])
        }
        return JSONText.object([
            ("name", JSONText.string(name)), ("version", JSONText.string(version)), ("now", time(now)),
            ("started", time(s.startedAt)), ("uptime_seconds", String(max(0, (now - s.startedAt) / 1000))),
            ("config_file", JSONText.string(s.configFile)),
            (
                "mqtt",
                JSONText.object([
                    ("broker", JSONText.string(s.broker)), ("connected", s.connected ? "true" : "false"),
                    ("subscribed", s.subscribed ? "true" : "false"), ("reconnects", String(s.reconnects)),
                ])
            ),
            (
                "readings",
                JSONText.object([
                    ("accepted", String(s.stats.accepted)), ("rejected_total", String(s.stats.totalRejected)),
                    ("rejected", JSONText.object(reasons)),
                    ("counter_events", JSONText.object([("glitch", String(s.stats.glitches)), ("reset", String(s.stats.resets))])),
                    ("status_messages", String(s.stats.statusMessages)),
                ])
            ),
            ("queue", JSONText.object([("depth", String(s.queueDepth))])),
            ("journal", JSONText.object([("used_bytes", String(s.journalBytes)), ("capacity_bytes", String(s.journalCapacity))])),
            (
                "commits",
                JSONText.object([
                    ("count", String(s.commits)), ("failures", String(s.commitFailures)),
                    ("last_seconds", JSONText.optionalNumber(s.commits > 0 ? s.lastCommitMillis / 1000 : nil)),
                    ("last", time(s.lastCommitAt > 0 ? s.lastCommitAt : nil)),
                ])
            ),
            ("reloads", JSONText.object([("count", String(s.reloads)), ("failures", String(s.reloadFailures))])),
            ("plugins", JSONText.array(plugins, pretty: true)), ("alert_log_seq", String(alertLog.lastSeq)),
            ("alerts_firing", String(firing(snap).count)), ("last_error", JSONText.optionalString(s.lastError)),
            (
                "registry",
                JSONText.object([
                    ("workshops", String(snap?.registry.workshops.count ?? 0)), ("craftsmen", String(snap?.registry.craftsmen.count ?? 0)),
                    ("looms", String(snap?.registry.looms.count ?? 0)), ("devices", String(snap?.registry.devices.count ?? 0)),
                ])
            ),
        ]) + "\n"
    }
}

/// Why an API request could not be answered.
public enum APIError: Error, CustomStringConvertible {
    case notReady
    public var description: String {
        switch self {
        case .notReady: "the daemon is still loading its state"
        }
    }
}
