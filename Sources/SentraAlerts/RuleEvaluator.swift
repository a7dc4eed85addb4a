import SentraCore

/// A configured rule as the engine evaluates it: its kind, with the condition's parameters and
/// its window as a named struct. The engine switches on it per slot: no existential, no
/// allocation, no lookup.
enum RuleEvaluator: Sendable, Equatable {
    case threshold(ThresholdRule)
    case absent(AbsentRule)
    case stalled(StalledRule)
    case belowUsual(BelowUsualRule)
    case counterReset(CounterResetRule)
    case orderBehind(OrderBehindRule)

    init(_ rule: RuleSpec) {
        switch rule.condition {
        case .threshold(let c):
            self = .threshold(
                ThresholdRule(
                    field: c.field, below: c.below, limit: c.limit, resolveAt: c.resolveAt, forMillis: c.forMillis,
                    keepFiringMillis: c.keepFiringMillis, offlineFires: c.offlineFires, window: rule.window))
        case .absent(let forMillis):
            self = .absent(AbsentRule(forMillis: forMillis, window: rule.window))
        case .stalled(let forMillis):
            self = .stalled(StalledRule(forMillis: forMillis, window: rule.window))
        case .belowUsual(let c):
            self = .belowUsual(BelowUsualRule(fraction: c.fraction, days: c.days, window: rule.window))
        case .counterReset:
            self = .counterReset(CounterResetRule())
        case .orderBehind:
            self = .orderBehind(OrderBehindRule(window: rule.window))
        }
    }

    /// The condition's type as configured (`type:`); part of each slot's key.
    var typeName: String {
        switch self {
        case .threshold: "threshold"
        case .absent: "absent"
        case .stalled: "stalled"
        case .belowUsual: "below_usual"
        case .counterReset: "counter_reset"
        case .orderBehind: "order_behind"
        }
    }

    /// `{for}` in the rule's summary: its duration, 0 for the kinds without one.
    var forMillis: Int64 {
        switch self {
        case .threshold(let r): r.forMillis
        case .absent(let r): r.forMillis
        case .stalled(let r): r.forMillis
        case .belowUsual, .counterReset, .orderBehind: 0
        }
    }

    /// The rule's slots are craftsmen (`below_usual`), not devices.
    var isAboutCraftsmen: Bool {
        if case .belowUsual = self { return true }
        return false
    }

    /// The rule's slots are open orders (`order_behind`), made as orders appear.
    var isAboutOrders: Bool {
        if case .orderBehind = self { return true }
        return false
    }

    /// Whether the rule watches device `d` at all, before its scope's patterns are matched:
    /// `stalled` watches looms, a threshold the kind of device that reports its field.
    func watches(_ d: Device) -> Bool {
        switch self {
        case .threshold(let r): r.field.kind == d.kind
        case .stalled: d.kind == .loom
        case .absent, .counterReset: true
        case .belowUsual, .orderBehind: false
        }
    }
}

/// An alert to fire: its line's `ts`, when its condition began, and what the summary shows.
struct Firing: Sendable, Equatable {
    var ts: Int64
    var started: Int64
    var value: Double?
    var limit: Double?
}

/// The end of the alert firing on a slot (nothing, when none is).
struct Resolution: Sendable, Equatable {
    var ts: Int64
    var value: Double?
    /// Why, when not because the condition cleared: `Resolved (<note>): <summary>`.
    var note: ResolveNote?
}

/// Why an alert resolved other than by its condition clearing; the text is made only when an
/// alert does resolve.
enum ResolveNote: Sendable, Equatable {
    /// A threshold's window ended: "dyeing hours ended".
    case hoursEnded(RuleWindow)
    /// `below_usual` evaluated an hour outside its window: "shift ended".
    case windowEnded(RuleWindow)
    /// A loom reported stopping or a fault (`LoomState` raw value): "loom reported stop".
    case loomReported(UInt8)
    /// `order_behind`: the order was closed or is gone.
    case orderClosed

    var text: String {
        switch self {
        case .hoursEnded(let w): "\(w.rawValue) hours ended"
        case .windowEnded(let w): "\(w.rawValue) ended"
        case .loomReported(let s): "loom reported \(LoomState(rawValue: s)?.name ?? "?")"
        case .orderClosed: "order closed"
        }
    }
}

/// What a rule decided on one input for its slot, for the engine to carry out: first resolve
/// the alert firing (nothing when none is), then fire one. A rule changes the rest of its
/// slot's state itself.
struct SlotVerdict: Sendable, Equatable {
    var resolve: Resolution?
    var fire: Firing?

    static var none: SlotVerdict { SlotVerdict() }
    static func resolve(at ts: Int64, value: Double?, note: ResolveNote? = nil) -> SlotVerdict {
        SlotVerdict(resolve: Resolution(ts: ts, value: value, note: note))
    }
    static func fire(at ts: Int64, started: Int64, value: Double?, limit: Double?) -> SlotVerdict {
        SlotVerdict(fire: Firing(ts: ts, started: started, value: value, limit: limit))
    }
}

/// The sentra's local time and its workshops' schedules, as rules ask them: whether a rule's
/// window (shift, dyeing hours) is open at a moment. Caches the local time per minute, since
/// every windowed rule of a device asks at each of its readings.
struct RuleCalendar {
    private var calendar: LocalCalendar
    var workshops: [Workshop]
    private var cachedMinute: Int64 = .min
    private var cachedLocal: LocalTime?

    init(_ calendar: LocalCalendar, workshops: [Workshop]) {
        self.calendar = calendar
        self.workshops = workshops
    }

    /// Whether `window` is open in workshop `w` (registry index; -1 for none) at `ms`.
    mutating func isOpen(_ window: RuleWindow, workshop w: Int, at ms: Int64) -> Bool {
        guard window != .always else { return true }
        guard w >= 0 else { return false }
        let t = cachedLocal(ms)
        switch window {
        case .always: return true
        case .shift: return workshops[w].shift.contains(t)
        case .dyeing: return workshops[w].dyeing?.contains(t) ?? false
        }
    }

    /// The start (UTC seconds) of the local hour containing `ms`.
    mutating func hourStart(atMillis ms: Int64) -> Int64 { calendar.hourStart(atMillis: ms) }

    mutating func local(atMillis ms: Int64) -> LocalTime { calendar.local(atMillis: ms) }

    private mutating func cachedLocal(_ ms: Int64) -> LocalTime {
        let minute = floorDiv(ms, 60_000)
        if minute == cachedMinute, let l = cachedLocal { return l }
        let l = calendar.local(atMillis: ms)
        cachedMinute = minute
        cachedLocal = l
        return l
    }
}
