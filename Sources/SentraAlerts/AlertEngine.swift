import Foundation
import Logging
import SentraCore
import SentraWire

/// What the engine remembers about one rule on one device (or craftsman): the durable part
/// of an alert's lifecycle, persisted by the daemon with its counters.
public struct AlertSlotState: Sendable, Codable, Equatable {
    /// When the condition began (pending); event time, or the daemon's clock for silence.
    public var onset: Int64?
    /// Set while the alert is firing.
    public var firing: FiringAlert?
    /// `keep_firing_for`: when the value first came back past `resolve_at`.
    public var clearSince: Int64?
    /// When the rule's window (shift, dyeing hours) was last entered.
    public var windowSince: Int64?
    /// Silence: the daemon's clock when the device was last heard. Stalled: the event time
    /// the picks last advanced.
    public var lastHeard: Int64?
    /// Stalled: the loom's last reported state (`LoomState` raw value).
    public var loomState: UInt8?
    /// Below usual: pieces per local hour start (seconds since the epoch) not yet evaluated.
    public var hourCounts: [Int64: Double]?
    /// Below usual: the next local hour (start, seconds) to evaluate.
    public var nextHour: Int64?

    public init() {}
    var isEmpty: Bool { self == AlertSlotState() }
}

/// A firing alert as it was written, so its `resolved` line repeats its id and labels.
public struct FiringAlert: Sendable, Codable, Equatable {
    public var id: String
    public var labels: [String: String]
    public var started: Int64
    public var value: Double?
    public var summary: String
    public var severity: Severity
    public init(id: String, labels: [String: String], started: Int64, value: Double?, summary: String, severity: Severity) {
        self.id = id
        self.labels = labels
        self.started = started
        self.value = value
        self.summary = summary
        self.severity = severity
    }
}

/// One persisted slot: the daemon stores these (e.g. as JSON in SQLite, committed with its
/// counters) and hands them back to `AlertEngine.restore` at start.
public struct AlertStateRecord: Sendable, Codable, Equatable {
    public var rule: String
    /// The rule's condition type (`threshold`, `absent`, …): a state is not restored into a
    /// rule of another type that took over the name.
    public var type: String
    /// `workshop/kind/device` for device rules, `craftsman/<id>` for `below_usual`.
    public var subject: String
    public var state: AlertSlotState
    public init(rule: String, type: String, subject: String, state: AlertSlotState) {
        self.rule = rule
        self.type = type
        self.subject = subject
        self.state = state
    }
}

/// Evaluates alert rules against what the ingest pipeline accepted (docs/alerts.md).
///
/// Owned by the ingest thread: every method, including `tick`, `reload`, `snapshot` and
/// `restore`, must be called from that one thread. Per reading it does work only for the
/// rules that match that device (precomputed at init and reload).
///
/// Time: readings carry event time (`for` and hold durations are measured in it); `tick(now:)`
/// carries the daemon's clock, which also stamps when a device was heard (so call `tick`
/// about once a second; a device's receipt time has that resolution).
public final class AlertEngine: IngestObserver {
    public struct Settings: Sendable {
        /// `below_usual` evaluates an hour once its workshop's event clock is this far past it,
        /// so readings of the hour still in flight from other devices count.
        public var hourGraceMillis: Int64 = 120_000
        /// At most this many missed hours are evaluated after a gap in the data.
        public var maxCatchUpHours = 24
        public init() {}
    }

    private struct Slot {
        var rule: Int
        var subject: Int
        var state: AlertSlotState
    }

    private struct DeviceClock {
        var eventTs: Int64
        var wall: Int64
    }

    private var registry: Registry
    private var rules: [RuleSpec]
    private var calendar: LocalCalendar
    private let emit: (AlertEvent) -> Void
    private let usualRates: (any UsualRateProvider)?
    private let settings: Settings
    private let logger: Logger
    private let startedAt: Int64
    private var wallNow: Int64

    private var slots: [Slot] = []
    /// Per rule, copied out of `rules` so the hot path reads plain values, not `RuleSpec`s.
    private var conditions: [RuleCondition] = []
    private var windows: [RuleWindow] = []
    private var deviceSlots: [[Int]] = []
    private var craftsmanSlots: [[Int]] = []
    private var absentSlots: [Int] = []
    private var windowedSlots: [Int] = []
    private var workshopUsualSlots: [[Int]] = []
    private var workshopEvalDue: [Int64] = []
    private var workshopClock: [DeviceClock?] = []
    private var deviceClock: [DeviceClock?] = []
    private var deviceWorkshop: [Int] = []
    private var deviceLoom: [Loom?] = []
    private var craftsmanIndex: [String: Int] = [:]
    private var picksAdvanced: [Bool] = []
    private var lastResetTs: [Int64] = []
    private var cachedMinute: Int64 = .min
    private var cachedLocal: LocalTime?

    /// - Parameters:
    ///   - startedAt: the daemon's start on its own clock (ms); silence is measured from the
    ///     later of it and the last reading.
    ///   - emit: receives every event, in order; the daemon appends it to the `AlertLog`.
    public init(
        registry: Registry, rules: [RuleSpec], calendar: LocalCalendar, startedAt: Int64,
        usualRates: (any UsualRateProvider)? = nil, settings: Settings = .init(),
        logger: Logger = Logger(label: "sentra.alerts"), emit: @escaping (AlertEvent) -> Void
    ) {
        self.registry = registry
        self.rules = rules
        self.calendar = calendar
        self.startedAt = startedAt
        self.wallNow = startedAt
        self.usualRates = usualRates
        self.settings = settings
        self.logger = logger
        self.emit = emit
        build(carrying: [:])
    }

    // MARK: - Structure

    private static func typeName(_ c: RuleCondition) -> String {
        switch c {
        case .threshold: "threshold"
        case .absent: "absent"
        case .stalled: "stalled"
        case .belowUsual: "below_usual"
        case .counterReset: "counter_reset"
        }
    }

    private func subjectKey(rule: RuleSpec, subject: Int) -> String {
        if case .belowUsual = rule.condition { return "craftsman/\(registry.craftsmen[subject].id)" }
        return registry.devices[subject].key.description
    }

    private func matches(_ scope: RuleScope, device d: Device, loom: Loom?) -> Bool {
        if let p = scope.workshop, !p.matches(d.workshop) { return false }
        if let k = scope.kind, k != d.kind { return false }
        if let p = scope.device, !p.matches(d.id) { return false }
        if let p = scope.loom, !(d.loom.map(p.matches) ?? false) { return false }
        if let p = scope.craftsman {
            let names = loom.map { $0.assignments.map(\.craftsman) } ?? d.craftsman.map { [$0] } ?? []
            if !names.contains(where: p.matches) { return false }
        }
        return true
    }

    /// (Re)builds the per-device rule lists, taking over `carried` states by key.
    private func build(carrying carried: [String: AlertSlotState]) {
        let r = registry
        slots = []
        handedOut = []
        rebuilt = true
        conditions = rules.map(\.condition)
        windows = rules.map(\.window)
        deviceSlots = Array(repeating: [], count: r.devices.count)
        craftsmanSlots = Array(repeating: [], count: r.craftsmen.count)
        absentSlots = []
        windowedSlots = []
        workshopUsualSlots = Array(repeating: [], count: r.workshops.count)
        craftsmanIndex = Dictionary(r.craftsmen.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        deviceWorkshop = r.devices.map { r.workshopIndex($0.workshop) ?? -1 }
        deviceLoom = r.devices.map { d in d.loom.flatMap { r.loom($0) } }
        picksAdvanced = Array(repeating: false, count: r.devices.count)
        lastResetTs = Array(repeating: .min, count: r.devices.count)
        workshopEvalDue = Array(repeating: .min, count: r.workshops.count)

        for (ri, rule) in rules.enumerated() {
            func add(_ subject: Int) -> Int {
                var state = AlertSlotState()
                let key = "\(rule.name)|\(subjectKey(rule: rule, subject: subject))"
                if let c = carried[key] { state = c }
                slots.append(Slot(rule: ri, subject: subject, state: state))
                return slots.count - 1
            }
            if case .belowUsual = rule.condition {
                for (ci, c) in r.craftsmen.enumerated() {
                    if let p = rule.scope.workshop, !p.matches(c.workshop) { continue }
                    if let p = rule.scope.craftsman, !p.matches(c.id) { continue }
                    let s = add(ci)
                    craftsmanSlots[ci].append(s)
                    if let w = r.workshopIndex(c.workshop) { workshopUsualSlots[w].append(s) }
                }
                continue
            }
            for (di, d) in r.devices.enumerated() {
                if case .stalled = rule.condition, d.kind != .loom { continue }
                if case .threshold(let field, _, _, _, _, _, _) = rule.condition, field.kind != d.kind { continue }
                guard matches(rule.scope, device: d, loom: deviceLoom[di]) else { continue }
                let s = add(di)
                deviceSlots[di].append(s)
                if case .absent = rule.condition { absentSlots.append(s) }
                if case .threshold = rule.condition, rule.window != .always { windowedSlots.append(s) }
            }
        }
        if workshopClock.count != r.workshops.count { workshopClock = Array(repeating: nil, count: r.workshops.count) }
        if deviceClock.count != r.devices.count { deviceClock = Array(repeating: nil, count: r.devices.count) }
        for w in r.workshops.indices { updateEvalDue(w) }
    }

    // MARK: - Persistence and reload

    /// Every slot with something to remember.
    /// The slots' states as last returned by `changedRecords()`, to hand out only what changed.
    private var handedOut: [AlertSlotState] = []
    /// The slot set changed (start, reload): the next `changedRecords()` says so.
    private var rebuilt = true

    /// The records whose state changed since the last call (an empty state means: delete
    /// its row), and whether the whole set must replace what was persisted (after a start
    /// or reload, when slots came and went). Cheaper than `snapshot()` for a large sentra:
    /// the per-reading fields of every device change only for the devices heard.
    public func changedRecords() -> (records: [AlertStateRecord], replaceAll: Bool) {
        let replace = rebuilt
        rebuilt = false
        if handedOut.count != slots.count { handedOut = Array(repeating: AlertSlotState(), count: slots.count) }
        var out: [AlertStateRecord] = []
        for i in slots.indices where replace ? !slots[i].state.isEmpty : persistedChange(i) {
            handedOut[i] = slots[i].state
            let rule = rules[slots[i].rule]
            out.append(
                AlertStateRecord(
                    rule: rule.name, type: Self.typeName(rule.condition), subject: subjectKey(rule: rule, subject: slots[i].subject),
                    state: slots[i].state))
        }
        return (out, replace)
    }

    /// Whether slot `i` changed in a way worth persisting. An `absent` slot's `lastHeard` moves
    /// with every reading but means nothing after a restart (silence is measured from the
    /// later of the last reading and the daemon's start), so it alone is no change.
    private func persistedChange(_ i: Int) -> Bool {
        guard case .absent = conditions[slots[i].rule] else { return slots[i].state != handedOut[i] }
        var a = slots[i].state
        var b = handedOut[i]
        a.lastHeard = nil
        b.lastHeard = nil
        return a != b
    }

    public func snapshot() -> [AlertStateRecord] {
        slots.compactMap { s in
            guard !s.state.isEmpty else { return nil }
            let rule = rules[s.rule]
            return AlertStateRecord(
                rule: rule.name, type: Self.typeName(rule.condition), subject: subjectKey(rule: rule, subject: s.subject),
                state: s.state)
        }
    }

    /// Takes back what `snapshot` gave before a restart, before any reading is ingested.
    /// A firing alert whose rule or device no longer exists is resolved, saying so.
    public func restore(_ records: [AlertStateRecord]) {
        var index: [String: Int] = [:]
        for (i, s) in slots.enumerated() {
            let rule = rules[s.rule]
            index["\(rule.name)|\(Self.typeName(rule.condition))|\(subjectKey(rule: rule, subject: s.subject))"] = i
        }
        for rec in records {
            if let i = index["\(rec.rule)|\(rec.type)|\(rec.subject)"] {
                slots[i].state = rec.state
            } else if let f = rec.state.firing {
                let why = rules.contains { $0.name == rec.rule } ? "its subject is no longer configured" : "rule \(rec.rule) was removed"
                emitResolved(rule: rec.rule, firing: f, ts: wallNow, value: nil, note: why)
            }
        }
        for w in registry.workshops.indices { updateEvalDue(w) }
    }

    /// When each device (by registry index) was last heard on the daemon's clock, as the state
    /// database keeps it: silence values after a restart are measured from it.
    public func restoreHeard(_ heardAt: [Int64?]) {
        for si in absentSlots {
            let di = slots[si].subject
            guard di < heardAt.count, let h = heardAt[di] else { continue }
            slots[si].state.lastHeard = max(slots[si].state.lastHeard ?? h, h)
        }
    }

    /// Brings the slots up to date with alert-log lines written before a crash whose effect
    /// the committed states do not include and that the replay of the receive journal did not
    /// produce again (silence and other clock-driven events): a `firing` line makes its slot
    /// firing, a `resolved` line clears it. Lines of rules or subjects not configured (and the
    /// daemon's own alerts) change nothing.
    public func adopt(logged events: [AlertEvent]) {
        for e in events {
            guard let si = slotIndex(rule: e.rule, labels: e.labels) else { continue }
            switch e.status {
            case .firing:
                slots[si].state.firing = FiringAlert(
                    id: e.id, labels: e.labels, started: e.started, value: e.value, summary: e.summary, severity: e.severity)
                slots[si].state.onset = nil
                slots[si].state.clearSince = nil
            case .resolved:
                guard slots[si].state.firing?.id == e.id else { continue }
                slots[si].state.firing = nil
                slots[si].state.onset = nil
                slots[si].state.clearSince = nil
            }
        }
    }

    /// The slot of `rule` whose subject the labels name (a device by workshop and id, or a
    /// craftsman for rules about craftsmen).
    private func slotIndex(rule: String, labels: [String: String]) -> Int? {
        slots.indices.first { i in
            let r = rules[slots[i].rule]
            guard r.name == rule else { return false }
            if case .belowUsual = r.condition { return registry.craftsmen[slots[i].subject].id == labels["craftsman"] }
            let d = registry.devices[slots[i].subject]
            return d.workshop == labels["workshop"] && d.id == labels["device"]
        }
    }

    /// Swaps in a new configuration (SIGHUP). A rule whose definition did not change keeps
    /// its state on every device that remains; firing alerts of removed or changed rules,
    /// and of removed devices, are resolved, saying so in the summary.
    public func reload(registry newRegistry: Registry, rules newRules: [RuleSpec]) {
        let newByName = Dictionary(newRules.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var carried: [String: AlertSlotState] = [:]
        var old: [(rule: RuleSpec, key: String, state: AlertSlotState)] = []
        for s in slots where !s.state.isEmpty {
            let rule = rules[s.rule]
            let key = "\(rule.name)|\(subjectKey(rule: rule, subject: s.subject))"
            old.append((rule, key, s.state))
            if newByName[rule.name] == rule { carried[key] = s.state }
        }
        var oldClocks: [DeviceKey: DeviceClock] = [:]
        for (i, d) in registry.devices.enumerated() { if let c = deviceClock[i] { oldClocks[d.key] = c } }
        var oldWorkshopClocks: [String: DeviceClock] = [:]
        for (i, w) in registry.workshops.enumerated() { if let c = workshopClock[i] { oldWorkshopClocks[w.id] = c } }

        registry = newRegistry
        rules = newRules
        deviceClock = newRegistry.devices.map { oldClocks[$0.key] }
        workshopClock = newRegistry.workshops.map { oldWorkshopClocks[$0.id] }
        build(carrying: carried)

        let kept = Set(slots.map { "\(rules[$0.rule].name)|\(subjectKey(rule: rules[$0.rule], subject: $0.subject))" })
        for o in old {
            guard let f = o.state.firing, carried[o.key] == nil || !kept.contains(o.key) else { continue }
            let note: String
            if let n = newByName[o.rule.name] {
                note = n == o.rule ? "its subject was removed by a reload" : "rule \(o.rule.name) was changed by a reload"
            } else {
                note = "rule \(o.rule.name) was removed by a reload"
            }
            emitResolved(rule: o.rule.name, firing: f, ts: wallNow, value: nil, note: note)
        }
    }

    // MARK: - Emitting

    private func labels(device di: Int, ts: Int64) -> [String: String] {
        let d = registry.devices[di]
        var l = ["workshop": d.workshop, "device": d.id]
        if let loom = deviceLoom[di] {
            l["loom"] = loom.id
            l["craftsman"] = loom.craftsman(at: ts)
        } else if let c = d.craftsman {
            l["craftsman"] = c
        }
        return l
    }

    private func render(_ rule: RuleSpec, labels: [String: String], value: Double?, limit: Double?) -> String {
        let forMillis: Int64
        switch rule.condition {
        case .threshold(_, _, _, _, let f, _, _), .absent(let f), .stalled(let f): forMillis = f
        default: forMillis = 0
        }
        var out = ""
        var rest = Substring(rule.summary)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let key = rest[rest.index(after: open)..<close]
            switch key {
            case "value": out += value.map(NumberFormat.human) ?? "-"
            case "limit": out += limit.map(NumberFormat.human) ?? "-"
            case "for": out += NumberFormat.duration(millis: forMillis)
            case "workshop", "device", "loom", "craftsman", "component": out += labels[String(key)] ?? "-"
            default: out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    private func fire(_ si: Int, ts: Int64, started: Int64, value: Double?, labels: [String: String], limit: Double?) {
        let rule = rules[slots[si].rule]
        let summary = render(rule, labels: labels, value: value, limit: limit)
        let ev = AlertEvent(
            ts: ts, rule: rule.name, status: .firing, severity: rule.severity, labels: labels, value: value,
            summary: summary, started: started)
        slots[si].state.firing = FiringAlert(
            id: ev.id, labels: labels, started: started, value: value, summary: summary, severity: rule.severity)
        slots[si].state.onset = nil
        slots[si].state.clearSince = nil
        emit(ev)
    }

    private func resolve(_ si: Int, ts: Int64, value: Double?, note: String? = nil) {
        guard let f = slots[si].state.firing else { return }
        slots[si].state.firing = nil
        slots[si].state.onset = nil
        slots[si].state.clearSince = nil
        emitResolved(rule: rules[slots[si].rule].name, firing: f, ts: ts, value: value, note: note)
    }

    private func emitResolved(rule: String, firing f: FiringAlert, ts: Int64, value: Double?, note: String?) {
        let summary = note.map { "Resolved (\($0)): \(f.summary)" } ?? "Resolved: \(f.summary)"
        emit(
            AlertEvent(
                ts: ts, id: f.id, rule: rule, status: .resolved, severity: f.severity, labels: f.labels, value: value,
                summary: summary, started: f.started))
    }

    // MARK: - Windows and clocks

    private func local(_ ms: Int64) -> LocalTime {
        let minute = floorDiv(ms, 60_000)
        if minute == cachedMinute, let l = cachedLocal { return l }
        let l = calendar.local(atMillis: ms)
        cachedMinute = minute
        cachedLocal = l
        return l
    }

    private func inWindow(_ window: RuleWindow, workshop w: Int, at ms: Int64) -> Bool {
        guard window != .always else { return true }
        guard w >= 0 else { return false }
        let ws = registry.workshops[w]
        switch window {
        case .always: return true
        case .shift: return ws.shift.contains(local(ms))
        case .dyeing: return ws.dyeing?.contains(local(ms)) ?? false
        }
    }

    /// The device's event time now: its last reading's time plus the daemon's time since.
    /// Live, that is the clock; in an accelerated replay it follows the replayed day.
    private func estimatedEventTime(_ c: DeviceClock?) -> Int64 {
        guard let c else { return wallNow }
        return c.eventTs + max(0, wallNow - c.wall)
    }

    // MARK: - IngestObserver

    public func accepted(device di: Int, reading r: Reading, ts: Int64, receivedAt: Int64) {
        deviceClock[di] = DeviceClock(eventTs: ts, wall: wallNow)
        let w = deviceWorkshop[di]
        let advanced = picksAdvanced[di]
        picksAdvanced[di] = false
        for si in deviceSlots[di] {
            let ri = slots[si].rule
            switch conditions[ri] {
            case .threshold(let field, let below, let limit, let resolveAt, let forMillis, let keep, _):
                guard let x = r[field] else { continue }
                threshold(
                    si, window: windows[ri], device: di, workshop: w, x: x, ts: ts, below: below, limit: limit,
                    resolveAt: resolveAt, forMillis: forMillis, keep: keep)
            case .absent:
                // Heard: its silence lasted since the reading before (the daemon's clock).
                let heard = slots[si].state.lastHeard ?? startedAt
                slots[si].state.lastHeard = receivedAt
                slots[si].state.onset = nil
                if slots[si].state.firing != nil {
                    resolve(si, ts: ts, value: Double(max(0, receivedAt - heard) / 1000))
                }
            case .stalled(let forMillis):
                stalled(si, window: windows[ri], device: di, workshop: w, reading: r, ts: ts, advanced: advanced, forMillis: forMillis)
            case .belowUsual, .counterReset:
                continue
            }
        }
        if w >= 0 {
            if (workshopClock[w]?.eventTs ?? .min) < ts { workshopClock[w] = DeviceClock(eventTs: ts, wall: wallNow) }
            if ts >= workshopEvalDue[w] { evaluateHours(workshop: w, clock: ts) }
        }
    }

    private func threshold(
        _ si: Int, window: RuleWindow, device di: Int, workshop w: Int, x: Double, ts: Int64, below: Bool, limit: Double,
        resolveAt: Double, forMillis: Int64, keep: Int64
    ) {
        let bad = below ? x < limit : x > limit
        let healthy = below ? x >= resolveAt : x <= resolveAt
        let inWin = inWindow(window, workshop: w, at: ts)
        if slots[si].state.firing != nil {
            if !inWin {
                resolve(si, ts: ts, value: x, note: "\(window.rawValue) hours ended")
            } else if healthy {
                if keep <= 0 {
                    resolve(si, ts: ts, value: x)
                } else {
                    let since = slots[si].state.clearSince ?? ts
                    slots[si].state.clearSince = since
                    if ts - since >= keep { resolve(si, ts: ts, value: x) }
                }
            } else {
                slots[si].state.clearSince = nil
            }
        } else if bad && inWin {
            let onset = slots[si].state.onset ?? ts
            slots[si].state.onset = onset
            if ts - onset >= forMillis {
                fire(si, ts: ts, started: onset, value: x, labels: labels(device: di, ts: ts), limit: limit)
            }
        } else {
            slots[si].state.onset = nil
        }
    }

    private func stalled(
        _ si: Int, window: RuleWindow, device di: Int, workshop w: Int, reading r: Reading, ts: Int64, advanced: Bool,
        forMillis: Int64
    ) {
        var lastAdvance = slots[si].state.lastHeard
        var loomState = slots[si].state.loomState
        if let s = r.state {
            // A loom that starts running again starts its stall clock afresh.
            if s == .run && loomState != LoomState.run.rawValue { lastAdvance = ts }
            loomState = s.rawValue
        }
        if advanced { lastAdvance = ts }
        slots[si].state.loomState = loomState
        slots[si].state.lastHeard = lastAdvance
        let picks = r[.picks]
        if advanced { resolve(si, ts: ts, value: picks) }
        if let s = loomState, s != LoomState.run.rawValue {
            resolve(si, ts: ts, value: picks, note: "loom reported \(LoomState(rawValue: s)?.name ?? "?")")
            return
        }
        guard inWindow(window, workshop: w, at: ts) else {
            slots[si].state.windowSince = nil
            return
        }
        let windowSince = slots[si].state.windowSince ?? ts
        slots[si].state.windowSince = windowSince
        let since = lastAdvance ?? ts
        slots[si].state.lastHeard = since
        guard slots[si].state.firing == nil else { return }
        let onset = max(since, windowSince)
        if ts - onset >= forMillis {
            fire(si, ts: ts, started: onset, value: picks, labels: labels(device: di, ts: ts), limit: nil)
        }
    }

    public func increased(device di: Int, field: Field, by amount: Double, ts: Int64) {
        switch field {
        case .picks:
            picksAdvanced[di] = true
        case .pieces:
            let c: String? = deviceLoom[di]?.craftsman(at: ts) ?? registry.devices[di].craftsman
            guard let c, let ci = craftsmanIndex[c], !craftsmanSlots[ci].isEmpty else { return }
            let hour = calendar.hourStart(atMillis: ts)
            for si in craftsmanSlots[ci] {
                if let next = slots[si].state.nextHour, hour < next { continue }
                slots[si].state.hourCounts = slots[si].state.hourCounts ?? [:]
                slots[si].state.hourCounts![hour, default: 0] += amount
            }
        default:
            return
        }
    }

    public func counterEvent(device di: Int, field: Field, decision: CounterDecision, value: Double, ts: Int64) {
        guard case .reset = decision, lastResetTs[di] != ts else { return }
        lastResetTs[di] = ts
        for si in deviceSlots[di] {
            let rule = rules[slots[si].rule]
            guard case .counterReset = rule.condition else { continue }
            fire(si, ts: ts, started: ts, value: value, labels: labels(device: di, ts: ts), limit: nil)
            resolve(si, ts: ts, value: value)
        }
    }

    public func status(device di: Int, online: Bool, ts: Int64) {
        guard !online else { return }
        for si in deviceSlots[di] {
            let rule = rules[slots[si].rule]
            switch rule.condition {
            case .threshold(_, _, let limit, _, _, _, let offlineFires):
                slots[si].state.onset = nil
                slots[si].state.clearSince = nil
                if offlineFires && slots[si].state.firing == nil {
                    fire(si, ts: ts, started: ts, value: nil, labels: labels(device: di, ts: ts), limit: limit)
                }
            case .stalled:
                slots[si].state.windowSince = nil
                slots[si].state.loomState = nil
            case .absent:
                // An offline device is silent from this moment at the latest.
                let heard = slots[si].state.lastHeard ?? ts
                slots[si].state.lastHeard = min(heard, ts)
            default:
                continue
            }
        }
    }

    public func rejected(_ reason: RejectReason, topic: UnsafeRawBufferPointer, device: Int?) {}

    // MARK: - Wall clock

    /// Advances the daemon's clock: silence, the end of dyeing hours and shifts, and the end
    /// of each hour for `below_usual`. Call about once a second from the ingest thread.
    public func tick(now: Int64) {
        wallNow = max(wallNow, now)
        for si in absentSlots {
            let rule = rules[slots[si].rule]
            guard case .absent(let forMillis) = rule.condition else { continue }
            let di = slots[si].subject
            guard inWindow(rule.window, workshop: deviceWorkshop[di], at: wallNow) else {
                slots[si].state.windowSince = nil
                continue
            }
            var ref = max(slots[si].state.lastHeard ?? startedAt, startedAt)
            if rule.window != .always {
                let since = slots[si].state.windowSince ?? wallNow
                slots[si].state.windowSince = since
                ref = max(ref, since)
            }
            guard slots[si].state.firing == nil, wallNow - ref >= forMillis else { continue }
            // The value is the seconds since it was last heard, across restarts (the onset is
            // the later of that and the daemon's start).
            let heard = slots[si].state.lastHeard ?? startedAt
            fire(
                si, ts: wallNow, started: ref, value: Double((wallNow - heard) / 1000),
                labels: labels(device: di, ts: wallNow), limit: Double(forMillis / 1000))
        }
        for si in windowedSlots {
            let rule = rules[slots[si].rule]
            let di = slots[si].subject
            let t = estimatedEventTime(deviceClock[di])
            if !inWindow(rule.window, workshop: deviceWorkshop[di], at: t) {
                slots[si].state.onset = nil
                resolve(si, ts: t, value: nil, note: "\(rule.window.rawValue) hours ended")
            }
        }
        for w in registry.workshops.indices where !workshopUsualSlots[w].isEmpty {
            guard let c = workshopClock[w] else { continue }
            let t = estimatedEventTime(c)
            if t >= workshopEvalDue[w] { evaluateHours(workshop: w, clock: t) }
        }
    }

    private func updateEvalDue(_ w: Int) {
        var due = Int64.max
        for si in workshopUsualSlots[w] {
            if let n = slots[si].state.nextHour { due = min(due, (n + 3600) * 1000 + settings.hourGraceMillis) } else { due = .min }
        }
        workshopEvalDue[w] = due
    }

    /// Evaluates every finished hour of the workshop's `below_usual` slots up to `clock`.
    private func evaluateHours(workshop w: Int, clock: Int64) {
        for si in workshopUsualSlots[w] {
            guard case .belowUsual(let fraction, let days) = rules[slots[si].rule].condition else { continue }
            guard var next = slots[si].state.nextHour else {
                // First sight: the current hour is partial, so evaluation starts with the next one.
                slots[si].state.nextHour = calendar.hourStart(atMillis: clock) + 3600
                continue
            }
            // After a long gap only the last `maxCatchUpHours` finished hours are evaluated.
            let lastFinished = calendar.hourStart(atMillis: clock - settings.hourGraceMillis) - 3600
            let maxBack = Int64(settings.maxCatchUpHours - 1) * 3600
            if lastFinished - next > maxBack { next = lastFinished - maxBack }
            while (next + 3600) * 1000 + settings.hourGraceMillis <= clock {
                evaluateHour(si, hour: next, workshop: w, fraction: fraction, days: days)
                next += 3600
            }
            slots[si].state.nextHour = next
            if var counts = slots[si].state.hourCounts {
                counts = counts.filter { $0.key >= next }
                slots[si].state.hourCounts = counts.isEmpty ? nil : counts
            }
        }
        updateEvalDue(w)
    }

    private func evaluateHour(_ si: Int, hour: Int64, workshop w: Int, fraction: Double, days: Int) {
        let rule = rules[slots[si].rule]
        let end = (hour + 3600) * 1000
        let mid = hour * 1000 + 1_800_000
        guard inWindow(rule.window, workshop: w, at: mid) else {
            resolve(si, ts: end, value: nil, note: "\(rule.window.rawValue) ended")
            return
        }
        let c = registry.craftsmen[slots[si].subject]
        let count = slots[si].state.hourCounts?[hour] ?? 0
        let lt = calendar.local(atMillis: hour * 1000)
        guard
            let usual = usualRates?.usualPiecesPerHour(
                craftsman: c.id, hourOfDay: lt.minuteOfDay / 60, weekday: lt.weekday, beforeDate: lt.date, days: days),
            usual > 0
        else {
            resolve(si, ts: end, value: count)
            return
        }
        let limit = fraction * usual
        if count < limit {
            if slots[si].state.firing == nil {
                fire(si, ts: end, started: hour * 1000, value: count, labels: ["workshop": c.workshop, "craftsman": c.id], limit: limit)
            }
        } else {
            resolve(si, ts: end, value: count)
        }
    }

    /// Ids of the alerts firing now (for status pages and tests).
    public var firing: [FiringAlert] { slots.compactMap(\.state.firing) }

    /// The alerts firing now with their rules' names (for the daemon's HTTP face).
    public var firingByRule: [(rule: String, alert: FiringAlert)] {
        slots.compactMap { s in s.state.firing.map { (rules[s.rule].name, $0) } }
    }
}
