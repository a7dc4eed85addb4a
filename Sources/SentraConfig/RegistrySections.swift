import Foundation
import SentraCore
import Yams

/// The registry's sections: workshops, craftsmen, looms and devices, each checked against the
/// ones before it (a craftsman's workshop, a loom's craftsman, a device's loom).
extension Reader {
    /// The line each id was first defined at, for "duplicate … (first at line N)".
    typealias FirstLines = [String: Int]

    mutating func registry(
        _ top: [String: Entry], name: String, shifts: [String: Schedule], calendar: inout LocalCalendar, topicPrefix: String
    ) -> Registry {
        let (workshops, workshopLine) = self.workshops(top["workshops"], shifts: shifts)
        if top["workshops"] == nil { error(nil, "workshops", "missing (required): at least one workshop") }
        let craftsmen = self.craftsmen(top["craftsmen"], workshops: workshopLine)
        let craftsmanWorkshop = Dictionary(craftsmen.map { ($0.id, $0.workshop) }, uniquingKeysWith: { a, _ in a })
        let looms = self.looms(top["looms"], workshops: workshopLine, craftsmen: craftsmanWorkshop, calendar: &calendar)
        let mappings = self.mappings(top["mappings"])
        let devices = self.devices(
            top["devices"], workshops: workshopLine, craftsmen: craftsmanWorkshop, looms: looms, mappings: mappings)
        return Registry(
            name: name, workshops: workshops, craftsmen: craftsmen, looms: looms, devices: devices, topicPrefix: topicPrefix)
    }

    /// The first line of a duplicate id, reported; or nil after recording this one's line.
    private mutating func isDuplicate(_ id: String, _ e: Entry?, _ path: String, what: String, in lines: inout FirstLines) -> Bool {
        if let line = lines[id] {
            error(e?.value, path, "duplicate \(what) id '\(id)' (first at line \(line))")
            return true
        }
        lines[id] = e?.value.mark?.line ?? 0
        return false
    }

    /// `workshops:` each with its shift and dyeing hours.
    mutating func workshops(_ entry: Entry?, shifts: [String: Schedule]) -> ([Workshop], FirstLines) {
        var workshops: [Workshop] = []
        var lines: FirstLines = [:]
        for (i, n) in sequence(entry, "workshops").enumerated() {
            let p = "workshops[\(i)]"
            guard let w = mapping(n, p, allowed: ["id", "name", "shift", "dyeing"]) else { continue }
            guard let id = self.id(w["id"], "\(p).id", in: n) else { continue }
            if isDuplicate(id, w["id"], "\(p).id", what: "workshop", in: &lines) { continue }
            var shift = Schedule.always
            if let s = w["shift"] { shift = scheduleRef(s.value, "\(p).shift", shifts) ?? shift }
            var dyeing: Schedule?
            if let s = w["dyeing"] { dyeing = scheduleRef(s.value, "\(p).dyeing", shifts) }
            workshops.append(Workshop(id: id, name: string(w["name"], "\(p).name") ?? id, shift: shift, dyeing: dyeing))
        }
        return (workshops, lines)
    }

    /// `craftsmen:` each in a known workshop.
    mutating func craftsmen(_ entry: Entry?, workshops: FirstLines) -> [Craftsman] {
        var craftsmen: [Craftsman] = []
        var lines: FirstLines = [:]
        for (i, n) in sequence(entry, "craftsmen").enumerated() {
            let p = "craftsmen[\(i)]"
            guard let c = mapping(n, p, allowed: ["id", "name", "workshop"]) else { continue }
            guard let id = self.id(c["id"], "\(p).id", in: n) else { continue }
            if isDuplicate(id, c["id"], "\(p).id", what: "craftsman", in: &lines) { continue }
            guard let ws = string(c["workshop"], "\(p).workshop", required: true, in: n) else { continue }
            if workshops[ws] == nil { error(c["workshop"]?.value, "\(p).workshop", "unknown workshop '\(ws)'") }
            craftsmen.append(Craftsman(id: id, name: string(c["name"], "\(p).name") ?? id, workshop: ws))
        }
        return craftsmen
    }

    /// `looms:` each assigned to a craftsman, perhaps reassigned since a date.
    mutating func looms(
        _ entry: Entry?, workshops: FirstLines, craftsmen: [String: String], calendar: inout LocalCalendar
    ) -> [Loom] {
        var looms: [Loom] = []
        var lines: FirstLines = [:]
        for (i, n) in sequence(entry, "looms").enumerated() {
            let p = "looms[\(i)]"
            guard let l = mapping(n, p, allowed: ["id", "workshop", "craftsman", "reassigned"]) else { continue }
            guard let id = self.id(l["id"], "\(p).id", in: n) else { continue }
            if isDuplicate(id, l["id"], "\(p).id", what: "loom", in: &lines) { continue }
            guard let ws = string(l["workshop"], "\(p).workshop", required: true, in: n) else { continue }
            if workshops[ws] == nil { error(l["workshop"]?.value, "\(p).workshop", "unknown workshop '\(ws)'") }
            guard let c = l["craftsman"] else {
                error(n, "\(p).craftsman", "missing (required): every loom is assigned to a craftsman")
                continue
            }
            guard let cid = string(c, "\(p).craftsman") else { continue }
            if craftsmen[cid] == nil { error(c.value, "\(p).craftsman", "unknown craftsman '\(cid)'") }
            let later = reassignments(l["reassigned"], "\(p).reassigned", craftsmen: craftsmen, calendar: &calendar)
            looms.append(Loom(id: id, workshop: ws, assignments: [Assignment(craftsman: cid, since: .min)] + later))
        }
        return looms
    }

    /// A loom's `reassigned:` list: to whom, since when.
    mutating func reassignments(
        _ entry: Entry?, _ path: String, craftsmen: [String: String], calendar: inout LocalCalendar
    ) -> [Assignment] {
        var out: [Assignment] = []
        for (j, r) in sequence(entry, path).enumerated() {
            let rp = "\(path)[\(j)]"
            guard let m = mapping(r, rp, allowed: ["craftsman", "since"]) else { continue }
            guard let rc = string(m["craftsman"], "\(rp).craftsman", required: true, in: r) else { continue }
            if craftsmen[rc] == nil { error(m["craftsman"]?.value, "\(rp).craftsman", "unknown craftsman '\(rc)'") }
            guard let since = string(m["since"], "\(rp).since", required: true, in: r) else { continue }
            guard let ms = sinceMillis(since, &calendar) else {
                error(m["since"]?.value, "\(rp).since", "expected a date YYYY-MM-DD or YYYY-MM-DDTHH:MM in the sentra's time zone")
                continue
            }
            out.append(Assignment(craftsman: rc, since: ms))
        }
        return out
    }

    /// `devices:` each a power meter, water meter or loom counter, bound to its workshop, a
    /// craftsman or a loom; a loom has at most one counter board.
    mutating func devices(
        _ entry: Entry?, workshops: FirstLines, craftsmen: [String: String], looms: [Loom], mappings: [String: ForeignMapping]
    ) -> [Device] {
        var devices: [Device] = []
        var deviceLines: [Int] = []
        var lines: [DeviceKey: Int] = [:]
        for (i, n) in sequence(entry, "devices").enumerated() {
            let p = "devices[\(i)]"
            guard let d = mapping(n, p, allowed: ["id", "workshop", "kind", "loom", "craftsman"] + Self.profileKeys) else { continue }
            guard let id = self.id(d["id"], "\(p).id", in: n) else { continue }
            guard let ws = string(d["workshop"], "\(p).workshop", required: true, in: n) else { continue }
            if workshops[ws] == nil { error(d["workshop"]?.value, "\(p).workshop", "unknown workshop '\(ws)'") }
            guard let kindName = string(d["kind"], "\(p).kind", required: true, in: n) else { continue }
            guard let kind = DeviceKind(rawValue: kindName) else {
                error(d["kind"]?.value, "\(p).kind", "unknown kind '\(kindName)' (power, water or loom)")
                continue
            }
            let key = DeviceKey(workshop: ws, kind: kind, id: id)
            if let line = lines[key] {
                error(
                    d["id"]?.value, "\(p).id",
                    "duplicate device '\(id)' of kind \(kind.rawValue) in workshop '\(ws)' (first at line \(line))")
                continue
            }
            lines[key] = d["id"]?.value.mark?.line ?? 0
            guard let binding = binding(d, n, p, kind: kind, workshop: ws, craftsmen: craftsmen, looms: looms) else { continue }
            let source = deviceMapping(d, n, p, id: id, kind: kind, mappings: mappings)
            devices.append(Device(id: id, workshop: ws, kind: kind, binding: binding, mapping: source))
            deviceLines.append(n.mark?.line ?? 0)
        }
        checkOneBoardPerLoom(devices)
        checkDeviceTopics(devices, lines: deviceLines)
        return devices
    }

    /// What a device counts for: a loom (loom counters), a craftsman, or its workshop.
    mutating func binding(
        _ d: [String: Entry], _ node: Node, _ p: String, kind: DeviceKind, workshop ws: String, craftsmen: [String: String],
        looms: [Loom]
    ) -> Binding? {
        if let l = d["loom"] {
            guard kind == .loom else {
                error(l.key, "\(p).loom", "only a loom counter is bound to a loom")
                return nil
            }
            guard let lid = string(l, "\(p).loom") else { return .workshop }
            if let loom = looms.first(where: { $0.id == lid }) {
                if loom.workshop != ws { error(l.value, "\(p).loom", "loom '\(lid)' is in workshop '\(loom.workshop)', not '\(ws)'") }
            } else {
                error(l.value, "\(p).loom", "unknown loom '\(lid)'")
            }
            return .loom(lid)
        }
        if let c = d["craftsman"] {
            guard kind != .loom else {
                error(c.key, "\(p).craftsman", "a loom counter is bound to a loom, not a craftsman")
                return nil
            }
            guard let cid = string(c, "\(p).craftsman") else { return .workshop }
            if craftsmen[cid] == nil { error(c.value, "\(p).craftsman", "unknown craftsman '\(cid)'") }
            return .craftsman(cid)
        }
        if kind == .loom {
            error(node, "\(p).loom", "missing (required): a loom counter names its loom")
            return nil
        }
        return .workshop
    }

    mutating func checkOneBoardPerLoom(_ devices: [Device]) {
        var boundLooms: [String: String] = [:]
        for d in devices {
            guard let l = d.loom else { continue }
            if let other = boundLooms[l] { error(nil, "devices", "loom '\(l)' has two counter boards: '\(other)' and '\(d.id)'") }
            boundLooms[l] = d.id
        }
    }

    // MARK: Dates and schedules

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

    /// A schedule: weekdays, hours, breaks and holidays.
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
        let hours = windows(m["hours"], "\(path).hours")
        if m["hours"] == nil { error(node, "\(path).hours", "missing (required): the hours of the shift") }
        let breaks = windows(m["breaks"], "\(path).breaks")
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

    /// Time ranges like `07:00-16:00`; one ending before it starts runs past midnight.
    mutating func windows(_ entry: Entry?, _ path: String) -> [DayWindow] {
        var out: [DayWindow] = []
        for n in sequence(entry, path) {
            let parts = (n.string ?? "").split(separator: "-").map { String($0).trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let a = Reader.minuteOfDay(parts[0]), let b = Reader.minuteOfDay(parts[1]), a != b else {
                error(n, path, "expected a time range like 07:00-16:00")
                continue
            }
            out.append(DayWindow(startMinute: a, endMinute: b > a ? b : b + 1440))
        }
        return out
    }
}
