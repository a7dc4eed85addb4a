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

/// Which slot a state belongs to: a rule, by name and condition type, on one subject. A
/// restart and a reload find a slot's state again by it.
public struct AlertSlotKey: Sendable, Hashable, CustomStringConvertible {
    public var rule: String
    /// The rule's condition type (`threshold`, `absent`, …): a state is not restored into a
    /// rule of another type that took over the name.
    public var type: String
    /// `workshop/kind/device` for device rules, `craftsman/<id>` for `below_usual`.
    public var subject: String

    public init(rule: String, type: String, subject: String) {
        self.rule = rule
        self.type = type
        self.subject = subject
    }

    /// `rule|type|subject`: the slot's row id in the state database (`alert_state`).
    public var description: String { "\(rule)|\(type)|\(subject)" }
}

/// One persisted slot: the daemon stores these (e.g. as JSON in SQLite, committed with its
/// counters) and hands them back to `AlertEngine.restore` at start.
public struct AlertStateRecord: Sendable, Codable, Equatable {
    public var key: AlertSlotKey
    public var state: AlertSlotState

    public init(key: AlertSlotKey, state: AlertSlotState) {
        self.key = key
        self.state = state
    }

    // Stored flat, `{"rule":…,"type":…,"subject":…,"state":…}`, as databases already hold it.
    private enum CodingKeys: String, CodingKey { case rule, type, subject, state }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = AlertSlotKey(
            rule: try c.decode(String.self, forKey: .rule), type: try c.decode(String.self, forKey: .type),
            subject: try c.decode(String.self, forKey: .subject))
        state = try c.decode(AlertSlotState.self, forKey: .state)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key.rule, forKey: .rule)
        try c.encode(key.type, forKey: .type)
        try c.encode(key.subject, forKey: .subject)
        try c.encode(state, forKey: .state)
    }
}

// MARK: - Persistence, restart and reload

extension AlertEngine {
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
            out.append(AlertStateRecord(key: key(of: slots[i]), state: slots[i].state))
        }
        return (out, replace)
    }

    /// Whether slot `i` changed in a way worth persisting. An `absent` slot's `lastHeard` moves
    /// with every reading but means nothing after a restart (silence is measured from the
    /// later of the last reading and the daemon's start), so it alone is no change.
    private func persistedChange(_ i: Int) -> Bool {
        guard case .absent = evaluators[slots[i].rule] else { return slots[i].state != handedOut[i] }
        var a = slots[i].state
        var b = handedOut[i]
        a.lastHeard = nil
        b.lastHeard = nil
        return a != b
    }

    /// Every slot with something to remember.
    public func snapshot() -> [AlertStateRecord] {
        slots.compactMap { s in s.state.isEmpty ? nil : AlertStateRecord(key: key(of: s), state: s.state) }
    }

    /// Takes back what `snapshot` gave before a restart, before any reading is ingested.
    /// A firing alert whose rule or device no longer exists is resolved, saying so.
    public func restore(_ records: [AlertStateRecord]) {
        for rec in records where rec.key.subject.hasPrefix("order/") {
            guard let ri = rules.firstIndex(where: { $0.name == rec.key.rule }), evaluators[ri].isAboutOrders else { continue }
            ensureOrder(String(rec.key.subject.dropFirst(6)), workshop: rec.state.firing?.labels["workshop"] ?? "")
        }
        var index: [AlertSlotKey: Int] = [:]
        for (i, s) in slots.enumerated() { index[key(of: s)] = i }
        for rec in records {
            if let i = index[rec.key] {
                slots[i].state = rec.state
            } else if let f = rec.state.firing {
                let rule = rec.key.rule
                let why = rules.contains { $0.name == rule } ? "its subject is no longer configured" : "rule \(rule) was removed"
                emitResolved(rule: rule, firing: f, ts: wallNow, value: nil, note: why)
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
            if let order = e.labels["order"], let ri = rules.firstIndex(where: { $0.name == e.rule }), evaluators[ri].isAboutOrders {
                ensureOrder(order, workshop: e.labels["workshop"] ?? "")
            }
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
            guard rules[slots[i].rule].name == rule else { return false }
            if evaluators[slots[i].rule].isAboutOrders { return orderIDs[slots[i].subject] == labels["order"] }
            if evaluators[slots[i].rule].isAboutCraftsmen { return registry.craftsmen[slots[i].subject].id == labels["craftsman"] }
            let d = registry.devices[slots[i].subject]
            return d.workshop == labels["workshop"] && d.id == labels["device"]
        }
    }

    /// Swaps in a new configuration (SIGHUP). A rule whose definition did not change keeps
    /// its state on every device that remains; firing alerts of removed or changed rules,
    /// and of removed devices, are resolved, saying so in the summary. A new `calendar` (the
    /// sentra's time zone changed) applies to every window and hour from now on.
    public func reload(registry newRegistry: Registry, rules newRules: [RuleSpec], calendar newCalendar: LocalCalendar? = nil) {
        if let c = newCalendar { calendar = RuleCalendar(c, workshops: registry.workshops) }
        let newByName = Dictionary(newRules.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var carried: [AlertSlotKey: AlertSlotState] = [:]
        var old: [(rule: RuleSpec, key: AlertSlotKey, state: AlertSlotState)] = []
        for s in slots where !s.state.isEmpty {
            let rule = rules[s.rule]
            let key = key(of: s)
            old.append((rule, key, s.state))
            if newByName[rule.name] == rule { carried[key] = s.state }
        }
        replaceConfiguration(registry: newRegistry, rules: newRules, carrying: carried)

        let kept = Set(slots.map(key(of:)))
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
}
