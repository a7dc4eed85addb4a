/// How urgent an alert is (docs/alerts.md).
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case info, warning, critical
    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A shell-style pattern (`*` and `?`) over ids; `nil` matches everything.
public struct IDPattern: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) { self.text = text }

    public func matches(_ id: String) -> Bool { Self.glob(Array(text.utf8)[...], Array(id.utf8)[...]) }

    private static func glob(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>) -> Bool {
        var pi = p.startIndex, si = s.startIndex
        var star: Int? = nil, mark = s.startIndex
        while si < s.endIndex {
            if pi < p.endIndex && (p[pi] == UInt8(ascii: "?") || p[pi] == s[si]) {
                pi += 1
                si += 1
            } else if pi < p.endIndex && p[pi] == UInt8(ascii: "*") {
                star = pi
                pi += 1
                mark = si
            } else if let st = star {
                pi = st + 1
                mark += 1
                si = mark
            } else {
                return false
            }
        }
        while pi < p.endIndex && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.endIndex
    }
    public var description: String { text }
}

/// Which devices, looms or craftsmen a rule watches. Every given pattern must match.
public struct RuleScope: Sendable, Equatable, Hashable {
    public var workshop: IDPattern?
    public var kind: DeviceKind?
    public var device: IDPattern?
    public var loom: IDPattern?
    public var craftsman: IDPattern?
    public init(
        workshop: IDPattern? = nil, kind: DeviceKind? = nil, device: IDPattern? = nil, loom: IDPattern? = nil, craftsman: IDPattern? = nil
    ) {
        self.workshop = workshop
        self.kind = kind
        self.device = device
        self.loom = loom
        self.craftsman = craftsman
    }
}

/// When a rule applies, in its workshop's schedule.
public enum RuleWindow: String, Sendable, Equatable, Hashable {
    case always, shift, dyeing
}

/// What a rule tests.
public enum RuleCondition: Sendable, Equatable, Hashable {
    /// A field beyond a limit for a while (`ThresholdCondition`).
    case threshold(ThresholdCondition)
    /// No reading for `forMillis` (wall clock).
    case absent(forMillis: Int64)
    /// A loom's picks not advancing for `forMillis` while not reported stopped.
    case stalled(forMillis: Int64)
    /// A craftsman's pieces in an hour below his usual (`BelowUsualCondition`).
    case belowUsual(BelowUsualCondition)
    /// A board rebooted (a confirmed counter reset): firing and resolved at once.
    case counterReset
    /// An open order expected to finish after its due date (evaluated on the daemon's clock).
    case orderBehind

    public static func threshold(
        field: Field, below: Bool, limit: Double, resolveAt: Double, forMillis: Int64, keepFiringMillis: Int64, offlineFires: Bool
    ) -> RuleCondition {
        .threshold(
            ThresholdCondition(
                field: field, below: below, limit: limit, resolveAt: resolveAt, forMillis: forMillis,
                keepFiringMillis: keepFiringMillis, offlineFires: offlineFires))
    }

    public static func belowUsual(fraction: Double, days: Int) -> RuleCondition {
        .belowUsual(BelowUsualCondition(fraction: fraction, days: days))
    }
}

/// `type: threshold`: `field` below (or above) `limit` for `forMillis`; resolves once back past
/// `resolveAt`, after `keepFiringMillis` if set. `offlineFires`: the device's `offline` status
/// fires it at once (a meter dying with its supply).
public struct ThresholdCondition: Sendable, Equatable, Hashable {
    public var field: Field
    public var below: Bool
    public var limit: Double
    public var resolveAt: Double
    public var forMillis: Int64
    public var keepFiringMillis: Int64
    public var offlineFires: Bool
    public init(
        field: Field, below: Bool, limit: Double, resolveAt: Double, forMillis: Int64, keepFiringMillis: Int64, offlineFires: Bool
    ) {
        self.field = field
        self.below = below
        self.limit = limit
        self.resolveAt = resolveAt
        self.forMillis = forMillis
        self.keepFiringMillis = keepFiringMillis
        self.offlineFires = offlineFires
    }
}

/// `type: below_usual`: a craftsman's pieces in an in-shift hour below `fraction` of his
/// usual, the median of that hour over his last `days` working days.
public struct BelowUsualCondition: Sendable, Equatable, Hashable {
    public var fraction: Double
    public var days: Int
    public init(fraction: Double, days: Int) {
        self.fraction = fraction
        self.days = days
    }
}

/// One alert rule as configured.
public struct RuleSpec: Sendable, Equatable, Hashable {
    public var name: String
    public var severity: Severity
    public var scope: RuleScope
    public var window: RuleWindow
    public var condition: RuleCondition
    /// `{workshop}`, `{device}`, `{loom}`, `{craftsman}`, `{value}`, `{limit}`, `{for}` are filled in.
    public var summary: String
    public init(name: String, severity: Severity, scope: RuleScope, window: RuleWindow, condition: RuleCondition, summary: String) {
        self.name = name
        self.severity = severity
        self.scope = scope
        self.window = window
        self.condition = condition
        self.summary = summary
    }
}

/// An alert sink as configured: a built-in one by name, or an external program.
public struct PluginSpec: Sendable, Equatable {
    public var name: String
    /// A built-in sink's name (`journald`, `mqtt`, `alertmanager`, `webhook`), or nil for a program.
    public var builtin: String?
    /// The program and its arguments, for an external plugin.
    public var command: [String]
    public var options: [String: String]
    public var timeoutMillis: Int64
    public var minSeverity: Severity
    public init(name: String, builtin: String?, command: [String], options: [String: String], timeoutMillis: Int64, minSeverity: Severity) {
        self.name = name
        self.builtin = builtin
        self.command = command
        self.options = options
        self.timeoutMillis = timeoutMillis
        self.minSeverity = minSeverity
    }
}
