import Foundation
import SentraAlertLog
import SentraCore
import SentraStore
import SentraWire

/// The answers of `/api/v1/...` (docs/http.md), as the Codable values of `SentraWire`;
/// `SentraHTTP` only encodes them.
extension DaemonView {
    /// `GET /api/v1/sentra`: workshops, craftsmen, looms and devices with their current state;
    /// nil while the daemon is still loading its state. `view=summary` leaves out devices and
    /// id lists, counts each workshop's looms instead and lists only the looms not running,
    /// at most `summaryLoomLimit` of them (`SentraAnswer`); `workshop=` keeps that workshop's part, every one of its looms in
    /// either view. A workshop the sentra does not have is `APIError.notFound`.
    public func sentraAnswer(_ q: SentraQuery = SentraQuery()) throws(APIError) -> SentraAnswer? {
        guard let snap = live.snapshot else { return nil }
        let now = clock()
        var cal = calendar
        let local = cal.local(atMillis: now)
        let reg = snap.registry
        if let w = q.workshop, !reg.workshops.contains(where: { $0.id == w }) {
            throw .notFound(APIQueryError(parameter: "workshop", message: "this sentra has no workshop '\(w)'"))
        }
        let summary = q.view == .summary
        let inView = { (workshop: String) in q.workshop.map { $0 == workshop } ?? true }
        let groups = RegistryGroups(reg)
        let firing = firing(snap)
        let looms = reg.looms.filter { inView($0.workshop) }.map { loom($0, device: groups.loomDevice[$0.id], snapshot: snap) }
        var counts: [String: SentraAnswer.LoomCounts] = [:]
        if summary { for l in looms { counts[l.workshop, default: .init()].add(l) } }
        return SentraAnswer(
            name: name, timeZone: timeZone.identifier, now: rfc3339(now), today: local.date,
            workshops: reg.workshops.filter { inView($0.id) }.map { w in
                let health = WorkshopHealth(workshop: w.id, meters: groups.devicesOf[w.id] ?? [], snapshot: snap, firing: firing)
                return SentraAnswer.Workshop(
                    id: w.id, name: w.name, inShift: w.shift.contains(local), craftsmen: summary ? nil : groups.craftsmenOf[w.id] ?? [],
                    looms: summary ? nil : groups.loomsOfWorkshop[w.id] ?? [], loomCounts: summary ? counts[w.id] ?? .init() : nil,
                    power: health.power, water: health.water, alerts: health.alerts)
            },
            craftsmen: reg.craftsmen.filter { inView($0.workshop) }.map { c in
                SentraAnswer.Craftsman(
                    id: c.id, name: c.name, workshop: c.workshop, looms: summary ? nil : groups.loomsOfCraftsman[c.id] ?? [])
            },
            looms: summary && q.workshop == nil ? Self.exceptions(looms) : looms,
            devices: summary ? nil : reg.devices.indices.filter { inView(reg.devices[$0].workshop) }.map { device($0, snapshot: snap) })
    }

    /// The most looms a summary lists: off shift every loom of a large sentra is stopped or
    /// silent, and a list of them all would be the whole answer again. About 140 bytes each.
    public static let summaryLoomLimit = 100

    /// The looms not running that a summary lists: faults first, then stopped, offline and
    /// unknown ones, in the registry's order within each, at most `summaryLoomLimit`.
    public static func exceptions(_ looms: [SentraAnswer.Loom]) -> [SentraAnswer.Loom] {
        let rank = { (l: SentraAnswer.Loom) -> Int in
            guard l.online else { return l.lastHeard == nil ? 3 : 2 }
            switch l.state {
            case .fault: return 0
            case .stop: return 1
            default: return 3
            }
        }
        let notRunning = looms.enumerated().filter { !$0.element.isRunning }
        let ordered = notRunning.sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }
        return ordered.prefix(summaryLoomLimit).sorted { $0.offset < $1.offset }.map(\.element)
    }

    func loom(_ l: Loom, device i: Int?, snapshot snap: LiveSnapshot) -> SentraAnswer.Loom {
        let d = i.map { snap.devices[$0] }
        return SentraAnswer.Loom(
            id: l.id, workshop: l.workshop, craftsman: RegistryGroups.craftsman(of: l), device: i.map { snap.registry.devices[$0].id },
            state: d.flatMap { $0.online ? $0.state.map(LoomStateName.init) : nil } ?? .unknown, since: rfc3339(d?.stateSince),
            online: d?.online == true, lastHeard: rfc3339(d?.lastHeard))
    }

    func device(_ i: Int, snapshot snap: LiveSnapshot) -> SentraAnswer.Device {
        let dev = snap.registry.devices[i]
        let d = snap.devices[i]
        var values: [String: Double] = [:]
        for f in LiveDevice.gaugeFields { if let v = d[f] { values[f.wireName] = WireJSON.rounded(v) } }
        return SentraAnswer.Device(
            id: dev.id, workshop: dev.workshop, kind: dev.kind, loom: dev.loom, craftsman: dev.craftsman, online: d.online,
            lastHeard: rfc3339(d.lastHeard), state: d.state.map(LoomStateName.init), values: values)
    }

    /// `GET /api/v1/production`: `sentractl report --format json` for the query's days (today
    /// by default). Reads the state database: call it off Swift's cooperative threads.
    /// `craftsman=` keeps his row, his looms and his workshop's rows only; one the report does
    /// not have is `APIError.notFound`.
    public func productionAnswer(_ query: ProductionQuery) throws -> ReportDocument {
        let cal = calendar
        let days = try query.days ?? today()
        guard let registry = live.snapshot?.registry else { throw APIError.notReady }
        var doc = try store.report(registry: registry, calendar: cal, days: days).document(by: query.by)
        guard let id = query.craftsman else { return doc }
        guard let row = doc.craftsmen.first(where: { $0.craftsman == id }) else { throw APIError.unknownCraftsman(id) }
        doc.craftsmen = [row]
        doc.unattributed = doc.unattributed.filter { $0.workshop == row.workshop }
        doc.looms = doc.looms?.filter { $0.craftsman == id }
        doc.workshops = doc.workshops?.filter { $0.workshop == row.workshop }
        return doc
    }

    /// Today in the sentra's time zone, as a range of one day.
    func today() throws -> DayRange {
        var cal = calendar
        let date = cal.date(atMillis: clock())
        guard let day = DayRange(clockDay: date) else { throw APIError.clock(date) }
        return day
    }

    /// `GET /api/v1/production/usual`: each craftsman's pieces per hour on the query's day
    /// (today by default) against the median of his last `usualDays` working days (days he
    /// made anything). `craftsman=` keeps his row only; one the sentra does not have is
    /// `APIError.notFound`. The view is the caller's (`UsualSummaryAnswer`). Reads the state
    /// database: call it off Swift's cooperative threads.
    public func usualAnswer(_ query: UsualQuery) throws -> UsualAnswer {
        let now = clock()
        var cal = calendar
        let today = cal.date(atMillis: now)
        let day = try (query.day ?? self.today()).from
        guard let registry = live.snapshot?.registry else { throw APIError.notReady }
        let offset = cal.offset(atMillis: cal.startOfDay(day) ?? now)
        let onDay = try store.piecesByHour(from: day, to: day, utcOffset: offset)
        let workingDays = try store.workingDayHours(before: day, days: usualDays, utcOffset: offset)
        // How far into `day` the comparison runs: now for today, the whole day for a past one.
        let hoursIntoDay: Double = day < today ? 24 : day > today ? 0 : Double(cal.local(atMillis: now).minuteOfDay) / 60
        var craftsmen = registry.craftsmen
        if let id = query.craftsman {
            craftsmen = craftsmen.filter { $0.id == id }
            guard !craftsmen.isEmpty else { throw APIError.unknownCraftsman(id) }
        }
        let rows = craftsmen.map { c in
            let hours = onDay[c.id]?[day] ?? [Double](repeating: 0, count: 24)
            let usual = CraftsmanUsual(workingDays: workingDays[c.id] ?? [], hoursIntoDay: hoursIntoDay)
            return UsualRow(
                craftsman: c.id, name: c.name, workshop: c.workshop, piecesToday: WireJSON.rounded(hours.reduce(0, +)),
                hours: hours.map { WireJSON.rounded($0) }, usualSoFar: usual.soFar.map { WireJSON.rounded($0) },
                usualDay: usual.day.map { WireJSON.rounded($0) },
                usualHours: usual.hours?.map { WireJSON.rounded($0) }, days: usual.days)
        }
        return UsualAnswer(date: day, days: usualDays, asOf: rfc3339(now), craftsmen: rows)
    }

    /// `GET /api/v1/alerts`: the alerts firing now, most severe first, and the last `recent`
    /// alert-log lines. Reads the alert log: call it off Swift's cooperative threads.
    public func alertsAnswer(recent: Int = 50) -> AlertsAnswer {
        let firing = firing(live.snapshot).sorted { ($0.alert.severity, $1.alert.started) > ($1.alert.severity, $0.alert.started) }
        return AlertsAnswer(
            firing: firing.map { f in
                AlertsAnswer.Firing(
                    id: f.alert.id, rule: f.rule, severity: f.alert.severity, labels: f.alert.labels,
                    value: f.alert.value.map { WireJSON.rounded($0) },
                    summary: f.alert.summary, started: rfc3339(f.alert.started))
            },
            recent: recentLines(recent))
    }

    /// The last `n` lines of the alert log, oldest first.
    func recentLines(_ n: Int) -> [AlertLine] {
        let last = alertLog.lastSeq
        guard last > 0, n > 0 else { return [] }
        var follower = AlertLogFollower(path: alertLog.path, after: max(0, last - Int64(n)))
        return follower.poll(maxLines: n).filter { $0.seq <= last }.compactMap { try? WireJSON.decode(AlertLine.self, from: $0.text) }
    }

    /// `GET /api/v1/status`: the daemon's health on one screen (`sentractl status`).
    public func statusAnswer() -> StatusAnswer {
        let s = status.snapshot
        let now = clock()
        let snap = live.snapshot
        return StatusAnswer(
            name: name, version: version, now: rfc3339(now), started: rfc3339(s.startedAt),
            uptimeSeconds: max(0, (now - s.startedAt) / 1000), configFile: s.configFile,
            mqtt: .init(broker: s.broker, connected: s.connected, subscribed: s.subscribed, reconnects: s.reconnects),
            readings: ReadingCounts(s.stats), queue: .init(depth: s.queueDepth),
            journal: .init(usedBytes: s.journalBytes, capacityBytes: s.journalCapacity),
            commits: .init(
                count: s.commits, failures: s.commitFailures,
                lastSeconds: s.commits > 0 ? WireJSON.rounded(s.lastCommitMillis / 1000) : nil,
                last: s.lastCommitAt > 0 ? rfc3339(s.lastCommitAt) : nil),
            reloads: .init(count: s.reloads, failures: s.reloadFailures),
            plugins: (plugins?.health ?? []).map { h in
                .init(
                    name: h.name, up: h.up, consecutiveFailures: h.consecutiveFailures, failures: h.failures, delivered: h.delivered,
                    ackedSeq: h.ackedSeq, lastError: h.lastError)
            },
            alertLogSeq: alertLog.lastSeq, alertsFiring: firing(snap).count, lastError: s.lastError,
            registry: .init(snap?.registry))
    }
}

/// The registry grouped once, so a sentra of thousands of looms costs a pass, not a pass per
/// workshop.
struct RegistryGroups {
    var loomDevice: [String: Int] = [:]
    var devicesOf: [String: [Int]] = [:]
    var loomsOfWorkshop: [String: [String]] = [:]
    var loomsOfCraftsman: [String: [String]] = [:]
    var craftsmenOf: [String: [String]] = [:]

    init(_ reg: Registry) {
        for (i, d) in reg.devices.enumerated() {
            if let l = d.loom { loomDevice[l] = i }
            devicesOf[d.workshop, default: []].append(i)
        }
        for l in reg.looms {
            loomsOfWorkshop[l.workshop, default: []].append(l.id)
            if let c = Self.craftsman(of: l) { loomsOfCraftsman[c, default: []].append(l.id) }
        }
        for c in reg.craftsmen { craftsmenOf[c.workshop, default: []].append(c.id) }
    }

    /// A loom's craftsman now; nil for a loom never assigned.
    static func craftsman(of l: Loom) -> String? { l.assignments.isEmpty ? nil : l.currentCraftsman }
}

/// Why an API request could not be answered.
public enum APIError: Error, CustomStringConvertible {
    case notReady
    /// The clock gives a day that is not one (never with a working clock).
    case clock(String)
    /// A query names something the sentra does not have: the API's 404, with the parameter.
    case notFound(APIQueryError)

    /// A craftsman the answer does not have.
    static func unknownCraftsman(_ id: String) -> APIError {
        .notFound(APIQueryError(parameter: "craftsman", message: "this sentra has no craftsman '\(id)'"))
    }

    public var description: String {
        switch self {
        case .notReady: "the daemon is still loading its state"
        case .clock(let d): "the clock's day '\(d)' is not a date"
        case .notFound(let e): e.message
        }
    }
}
