import Logging
import SentraCore
import SentraWire

/// Evaluates alert rules against what the ingest pipeline accepted (docs/alerts.md).
///
/// Owned by the ingest thread: every method, including `tick`, `reload`, `snapshot` and
/// `restore`, must be called from that one thread. Per reading it does work only for the
/// rules that match that device (precomputed at init and reload).
///
/// Time: readings carry event time (`for` and hold durations are measured in it); `tick(now:)`
/// carries the daemon's clock, which also stamps when a device was heard (so call `tick`
/// about once a second; a device's receipt time has that resolution).
///
/// The engine keeps a slot per rule and subject (a device, or a craftsman for `below_usual`)
/// and hands each input to the rules of the slots it concerns. Each rule kind is a struct of
/// its parameters (`ThresholdRule`, `AbsentRule`, `StalledRule`, `BelowUsualRule`,
/// `CounterResetRule`, one file each) that updates its slot's state and returns a
/// `SlotVerdict`, which the engine carries out: it names the alert, renders its summary
/// (`SummaryTemplate`) and emits the lines. The slot states, their persistence, restore and
/// reload are in AlertState.swift.
public final class AlertEngine: IngestObserver {
    public struct Settings: Sendable {
        /// `below_usual` evaluates an hour once its workshop's event clock is this far past it,
        /// so readings of the hour still in flight from other devices count.
        public var hourGraceMillis: Int64 = 120_000
        /// At most this many missed hours are evaluated after a gap in the data.
        public var maxCatchUpHours = 24
        public init() {}
    }

    /// One rule (index into `rules`) on one subject (a device, or for `below_usual` a
    /// craftsman, by registry index) and what the engine remembers of it.
    struct Slot {
        var rule: Int
        var subject: Int
        var state: AlertSlotState
    }

    /// The event time last seen from a device (or workshop) and the daemon's clock then.
    private struct DeviceClock {
        var eventTs: Int64
        var wall: Int64
    }

    private(set) var registry: Registry
    private(set) var rules: [RuleSpec]
    private let emit: (AlertEvent) -> Void
    private let usualRates: (any UsualRateProvider)?
    let orderOutlooks: (any OrderOutlookProvider)?
    private let settings: Settings
    private let logger: Logger
    private let startedAt: Int64
    private(set) var wallNow: Int64

    var slots: [Slot] = []
    /// Per rule, its kind and parameters as plain values: what the hot path switches on.
    private(set) var evaluators: [RuleEvaluator] = []
    var calendar: RuleCalendar
    private var deviceSlots: [[Int]] = []
    private var craftsmanSlots: [[Int]] = []
    private(set) var absentSlots: [Int] = []
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
    /// The slots' states as last returned by `changedRecords()`, to hand out only what changed.
    var handedOut: [AlertSlotState] = []
    /// The slot set changed (start, reload): the next `changedRecords()` says so.
    var rebuilt = true
    /// Orders seen (`order_behind`): id, workshop, `{eta}`/`{due}` texts; the subjects of
    /// order slots are indices into these. Kept across reloads.
    var orderIDs: [String] = []
    var orderWorkshop: [String] = []
    var orderIndex: [String: Int] = [:]
    var orderText: [Int: (eta: String, due: String)] = [:]
    var orderSlots: [Int] = []
    var hasOrderRules = false
    var lastOrderCheck: Int64?

    /// - Parameters:
    ///   - startedAt: the daemon's start on its own clock (ms); silence is measured from the
    ///     later of it and the last reading.
    ///   - emit: receives every event, in order; the daemon appends it to the `AlertLog`.
    public init(
        registry: Registry, rules: [RuleSpec], calendar: LocalCalendar, startedAt: Int64,
        usualRates: (any UsualRateProvider)? = nil, orderOutlooks: (any OrderOutlookProvider)? = nil, settings: Settings = .init(),
        logger: Logger = Logger(label: "sentra.alerts"), emit: @escaping (AlertEvent) -> Void
    ) {
        self.registry = registry
        self.rules = rules
        self.calendar = RuleCalendar(calendar, workshops: registry.workshops)
        self.startedAt = startedAt
        self.wallNow = startedAt
        self.usualRates = usualRates
        self.orderOutlooks = orderOutlooks
        self.settings = settings
        self.logger = logger
        self.emit = emit
        build(carrying: [:])
    }

    /// Ids of the alerts firing now (for status pages and tests).
    public var firing: [FiringAlert] { slots.compactMap(\.state.firing) }

    /// The alerts firing now with their rules' names (for the daemon's HTTP face).
    public var firingByRule: [(rule: String, alert: FiringAlert)] {
        slots.compactMap { s in s.state.firing.map { (rules[s.rule].name, $0) } }
    }

    // MARK: - Structure

    /// The key of rule `ri` on `subject`: what persistence and reloads know its slot by.
    func key(rule ri: Int, subject: Int) -> AlertSlotKey {
        let name =
            evaluators[ri].isAboutOrders
            ? "order/\(orderIDs[subject])"
            : evaluators[ri].isAboutCraftsmen
                ? "craftsman/\(registry.craftsmen[subject].id)" : registry.devices[subject].key.description
        return AlertSlotKey(rule: rules[ri].name, type: evaluators[ri].typeName, subject: name)
    }

    func key(of s: Slot) -> AlertSlotKey { key(rule: s.rule, subject: s.subject) }

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

    /// Swaps in a registry and rules, keeping the devices' and workshops' event clocks, and
    /// takes over `carried` states by key.
    func replaceConfiguration(registry newRegistry: Registry, rules newRules: [RuleSpec], carrying carried: [AlertSlotKey: AlertSlotState])
    {
        var oldClocks: [DeviceKey: DeviceClock] = [:]
        for (i, d) in registry.devices.enumerated() { if let c = deviceClock[i] { oldClocks[d.key] = c } }
        var oldWorkshopClocks: [String: DeviceClock] = [:]
        for (i, w) in registry.workshops.enumerated() { if let c = workshopClock[i] { oldWorkshopClocks[w.id] = c } }
        registry = newRegistry
        rules = newRules
        deviceClock = newRegistry.devices.map { oldClocks[$0.key] }
        workshopClock = newRegistry.workshops.map { oldWorkshopClocks[$0.id] }
        build(carrying: carried)
    }

    /// (Re)builds the per-device rule lists, taking over `carried` states by key.
    private func build(carrying carried: [AlertSlotKey: AlertSlotState]) {
        let r = registry
        slots = []
        handedOut = []
        rebuilt = true
        evaluators = rules.map(RuleEvaluator.init)
        calendar.workshops = r.workshops
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
        orderSlots = []
        hasOrderRules = evaluators.contains(where: \.isAboutOrders)

        for (ri, rule) in rules.enumerated() {
            func add(_ subject: Int) -> Int {
                slots.append(Slot(rule: ri, subject: subject, state: carried[key(rule: ri, subject: subject)] ?? AlertSlotState()))
                return slots.count - 1
            }
            let evaluator = evaluators[ri]
            if evaluator.isAboutOrders {
                for oi in orderIDs.indices { orderSlots.append(add(oi)) }
                continue
            }
            if evaluator.isAboutCraftsmen {
                for (ci, c) in r.craftsmen.enumerated() {
                    if let p = rule.scope.workshop, !p.matches(c.workshop) { continue }
                    if let p = rule.scope.craftsman, !p.matches(c.id) { continue }
                    let s = add(ci)
                    craftsmanSlots[ci].append(s)
                    if let w = r.workshopIndex(c.workshop) { workshopUsualSlots[w].append(s) }
                }
                continue
            }
            for (di, d) in r.devices.enumerated() where evaluator.watches(d) {
                guard matches(rule.scope, device: d, loom: deviceLoom[di]) else { continue }
                let s = add(di)
                deviceSlots[di].append(s)
                if case .absent = evaluator { absentSlots.append(s) }
                if case .threshold = evaluator, rule.window != .always { windowedSlots.append(s) }
            }
        }
        if workshopClock.count != r.workshops.count { workshopClock = Array(repeating: nil, count: r.workshops.count) }
        if deviceClock.count != r.devices.count { deviceClock = Array(repeating: nil, count: r.devices.count) }
        for w in r.workshops.indices { updateEvalDue(w) }
    }

    // MARK: - IngestObserver

    public func accepted(device di: Int, reading r: Reading, ts: Int64, receivedAt: Int64) {
        deviceClock[di] = DeviceClock(eventTs: ts, wall: wallNow)
        let w = deviceWorkshop[di]
        let advanced = picksAdvanced[di]
        picksAdvanced[di] = false
        for si in deviceSlots[di] {
            let verdict: SlotVerdict
            switch evaluators[slots[si].rule] {
            case .threshold(let rule):
                guard let x = r[rule.field] else { continue }
                verdict = rule.evaluate(x, at: ts, workshop: w, calendar: &calendar, slot: &slots[si].state)
            case .absent(let rule):
                verdict = rule.heard(receivedAt: receivedAt, at: ts, startedAt: startedAt, slot: &slots[si].state)
            case .stalled(let rule):
                verdict = rule.evaluate(
                    state: r.state, picks: r[.picks], at: ts, advanced: advanced, workshop: w, calendar: &calendar,
                    slot: &slots[si].state)
            case .belowUsual, .counterReset, .orderBehind:
                continue
            }
            carryOut(verdict, slot: si)
        }
        if w >= 0 {
            if (workshopClock[w]?.eventTs ?? .min) < ts { workshopClock[w] = DeviceClock(eventTs: ts, wall: wallNow) }
            if ts >= workshopEvalDue[w] { evaluateHours(workshop: w, clock: ts) }
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
            for si in craftsmanSlots[ci] { BelowUsualRule.count(amount, hour: hour, slot: &slots[si].state) }
        default:
            return
        }
    }

    public func counterEvent(device di: Int, field: Field, decision: CounterDecision, value: Double, ts: Int64) {
        guard case .reset = decision, lastResetTs[di] != ts else { return }
        lastResetTs[di] = ts
        for si in deviceSlots[di] {
            guard case .counterReset(let rule) = evaluators[slots[si].rule] else { continue }
            let verdicts = rule.reset(at: ts, value: value)
            carryOut(verdicts.fire, slot: si)
            carryOut(verdicts.thenResolve, slot: si)
        }
    }

    public func status(device di: Int, online: Bool, ts: Int64) {
        guard !online else { return }
        for si in deviceSlots[di] {
            switch evaluators[slots[si].rule] {
            case .threshold(let rule): carryOut(rule.offline(at: ts, slot: &slots[si].state), slot: si)
            case .stalled(let rule): rule.offline(slot: &slots[si].state)
            case .absent(let rule): rule.offline(at: ts, slot: &slots[si].state)
            case .belowUsual, .counterReset, .orderBehind: continue
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
            guard case .absent(let rule) = evaluators[slots[si].rule] else { continue }
            let w = deviceWorkshop[slots[si].subject]
            let verdict = rule.tick(now: wallNow, startedAt: startedAt, workshop: w, calendar: &calendar, slot: &slots[si].state)
            carryOut(verdict, slot: si)
        }
        for si in windowedSlots {
            guard case .threshold(let rule) = evaluators[slots[si].rule] else { continue }
            let di = slots[si].subject
            let t = estimatedEventTime(deviceClock[di])
            carryOut(rule.tick(at: t, workshop: deviceWorkshop[di], calendar: &calendar, slot: &slots[si].state), slot: si)
        }
        for w in registry.workshops.indices where !workshopUsualSlots[w].isEmpty {
            guard let c = workshopClock[w] else { continue }
            let t = estimatedEventTime(c)
            if t >= workshopEvalDue[w] { evaluateHours(workshop: w, clock: t) }
        }
        evaluateOrders()
    }

    /// The device's event time now: its last reading's time plus the daemon's time since.
    /// Live, that is the clock; in an accelerated replay it follows the replayed day.
    private func estimatedEventTime(_ c: DeviceClock?) -> Int64 {
        guard let c else { return wallNow }
        return c.eventTs + max(0, wallNow - c.wall)
    }

    /// When the workshop's event clock makes an hour of one of its `below_usual` slots due.
    func updateEvalDue(_ w: Int) {
        var due = Int64.max
        for si in workshopUsualSlots[w] { due = min(due, BelowUsualRule.dueAt(slot: slots[si].state, settings: settings)) }
        workshopEvalDue[w] = due
    }

    /// Evaluates every finished hour of the workshop's `below_usual` slots up to `clock`.
    private func evaluateHours(workshop w: Int, clock: Int64) {
        for si in workshopUsualSlots[w] {
            guard case .belowUsual(let rule) = evaluators[slots[si].rule],
                var hour = BelowUsualRule.firstDueHour(clock: clock, settings: settings, calendar: &calendar, slot: &slots[si].state)
            else { continue }
            let craftsman = registry.craftsmen[slots[si].subject]
            while BelowUsualRule.isDue(hour: hour, clock: clock, settings: settings) {
                let verdict = rule.evaluate(
                    hour: hour, craftsman: craftsman, workshop: w, usualRates: usualRates, calendar: &calendar, slot: &slots[si].state)
                carryOut(verdict, slot: si)
                hour += 3600
            }
            BelowUsualRule.evaluated(upTo: hour, slot: &slots[si].state)
        }
        updateEvalDue(w)
    }

    // MARK: - Emitting

    /// Does what a rule decided for slot `si`: resolves, then fires.
    @inline(__always)
    func carryOut(_ verdict: SlotVerdict, slot si: Int) {
        if let r = verdict.resolve { resolve(si, r) }
        if let f = verdict.fire { fire(si, f) }
    }

    /// The labels of slot `si`'s alerts at event time `ts`: its device's workshop and id, and
    /// a loom's id and craftsman at that time (or a meter's craftsman); a craftsman's slot has
    /// his workshop and id.
    private func labels(slot si: Int, ts: Int64) -> [String: String] {
        let subject = slots[si].subject
        if evaluators[slots[si].rule].isAboutOrders { return ["workshop": orderWorkshop[subject], "order": orderIDs[subject]] }
        if evaluators[slots[si].rule].isAboutCraftsmen {
            let c = registry.craftsmen[subject]
            return ["workshop": c.workshop, "craftsman": c.id]
        }
        let d = registry.devices[subject]
        var l = ["workshop": d.workshop, "device": d.id]
        if let loom = deviceLoom[subject] {
            l["loom"] = loom.id
            l["craftsman"] = loom.craftsman(at: ts)
        } else if let c = d.craftsman {
            l["craftsman"] = c
        }
        return l
    }

    private func fire(_ si: Int, _ f: Firing) {
        let ri = slots[si].rule
        let rule = rules[ri]
        let labels = labels(slot: si, ts: f.ts)
        let text = evaluators[ri].isAboutOrders ? orderText[slots[si].subject] : nil
        let summary = SummaryTemplate.render(
            rule.summary, labels: labels, value: f.value, limit: f.limit, forMillis: evaluators[ri].forMillis,
            extra: text.map { ["eta": $0.eta, "due": $0.due] } ?? [:])
        let ev = AlertEvent(
            ts: f.ts, rule: rule.name, status: .firing, severity: rule.severity, labels: labels, value: f.value,
            summary: summary, started: f.started)
        slots[si].state.firing = FiringAlert(
            id: ev.id, labels: labels, started: f.started, value: f.value, summary: summary, severity: rule.severity)
        slots[si].state.onset = nil
        slots[si].state.clearSince = nil
        emit(ev)
    }

    private func resolve(_ si: Int, _ r: Resolution) {
        guard let f = slots[si].state.firing else { return }
        slots[si].state.firing = nil
        slots[si].state.onset = nil
        slots[si].state.clearSince = nil
        emitResolved(rule: rules[slots[si].rule].name, firing: f, ts: r.ts, value: r.value, note: r.note?.text)
    }

    /// The `resolved` line of an alert written as `f`: its id, labels and start again.
    func emitResolved(rule: String, firing f: FiringAlert, ts: Int64, value: Double?, note: String?) {
        let summary = note.map { "Resolved (\($0)): \(f.summary)" } ?? "Resolved: \(f.summary)"
        emit(
            AlertEvent(
                ts: ts, id: f.id, rule: rule, status: .resolved, severity: f.severity, labels: f.labels, value: value,
                summary: summary, started: f.started))
    }
}
