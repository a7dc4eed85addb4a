import Foundation
import SentraCore
import Yams

/// The `rules:` and `plugins:` sections.
extension Reader {
    /// `rules:` alert rules, names unique.
    mutating func rules(_ entry: Entry?) -> [RuleSpec] {
        var rules: [RuleSpec] = []
        var names = Set<String>()
        for (i, n) in sequence(entry, "rules").enumerated() {
            guard let r = rule(n, "rules[\(i)]") else { continue }
            if !names.insert(r.name).inserted {
                error(n, "rules[\(i)].name", "duplicate rule name '\(r.name)'")
            } else {
                rules.append(r)
            }
        }
        return rules
    }

    static let ruleKeys = [
        "name", "type", "severity", "match", "during", "summary", "field", "below", "above", "resolve_at", "for",
        "keep_firing_for", "offline", "fraction", "days",
    ]

    /// One rule: name, severity, what it matches, when it applies, and its condition.
    mutating func rule(_ node: Node, _ p: String) -> RuleSpec? {
        guard let m = mapping(node, p, allowed: Self.ruleKeys) else { return nil }
        guard let name = string(m["name"], "\(p).name", required: true, in: node) else { return nil }
        let severityName = string(m["severity"], "\(p).severity") ?? "warning"
        guard let severity = Severity(rawValue: severityName) else {
            error(m["severity"]?.value, "\(p).severity", "expected info, warning or critical")
            return nil
        }
        var scope = ruleScope(m["match"], "\(p).match")
        var window = RuleWindow.always
        if let w = string(m["during"], "\(p).during") {
            guard let rw = RuleWindow(rawValue: w) else {
                error(m["during"]?.value, "\(p).during", "expected always, shift or dyeing")
                return nil
            }
            window = rw
        }
        guard let type = string(m["type"], "\(p).type", required: true, in: node) else { return nil }
        guard let (condition, defaultSummary) = ruleCondition(type, m, node, p, scope: &scope) else { return nil }
        return RuleSpec(
            name: name, severity: severity, scope: scope, window: window, condition: condition,
            summary: string(m["summary"], "\(p).summary") ?? defaultSummary)
    }

    /// A rule's `match:` which devices, looms or craftsmen it watches.
    mutating func ruleScope(_ entry: Entry?, _ p: String) -> RuleScope {
        var scope = RuleScope()
        guard let s = mapping(entry?.value, p, allowed: ["workshop", "kind", "device", "loom", "craftsman"]) else { return scope }
        scope.workshop = string(s["workshop"], "\(p).workshop").map(IDPattern.init)
        scope.device = string(s["device"], "\(p).device").map(IDPattern.init)
        scope.loom = string(s["loom"], "\(p).loom").map(IDPattern.init)
        scope.craftsman = string(s["craftsman"], "\(p).craftsman").map(IDPattern.init)
        if let k = string(s["kind"], "\(p).kind") {
            scope.kind = DeviceKind(rawValue: k)
            if scope.kind == nil { error(s["kind"]?.value, "\(p).kind", "unknown kind '\(k)'") }
        }
        return scope
    }

    /// A rule's condition by its `type:`, and the summary it has unless it names one.
    mutating func ruleCondition(
        _ type: String, _ m: [String: Entry], _ node: Node, _ p: String, scope: inout RuleScope
    ) -> (RuleCondition, String)? {
        let forMillis = duration(m["for"], "\(p).for", range: ConfigurationLimits.ruleDuration) ?? 0
        switch type {
        case "threshold":
            return thresholdCondition(m, node, p, forMillis: forMillis, scope: &scope)
        case "absent":
            return (.absent(forMillis: forMillis > 0 ? forMillis : 300_000), "No reading from {workshop}/{device} for {value} s")
        case "stalled":
            scope.kind = .loom
            return (
                .stalled(forMillis: forMillis > 0 ? forMillis : 900_000), "Loom {loom} of {craftsman} at {workshop} stalled for {for}"
            )
        case "below_usual":
            let fraction = double(m["fraction"], "\(p).fraction", range: 0...1) ?? 0.5
            if !(0 < fraction && fraction < 1) { error(m["fraction"]?.value, "\(p).fraction", "expected a fraction between 0 and 1") }
            return (
                .belowUsual(fraction: fraction, days: int(m["days"], "\(p).days", range: ConfigurationLimits.usualDays) ?? 14),
                "{craftsman} made {value} pieces this hour, below {limit} (usual rate)"
            )
        case "counter_reset":
            return (.counterReset, "Board {workshop}/{device} restarted (counter reset)")
        case "order_behind":
            return (.orderBehind, "Order {order} is behind: {value} pieces left, expected done {eta}, due {due}")
        default:
            error(
                m["type"]?.value, "\(p).type",
                "unknown rule type '\(type)' (threshold, absent, stalled, below_usual, counter_reset, order_behind)")
            return nil
        }
    }

    /// `type: threshold`: a field below or above a limit, with hysteresis and durations.
    mutating func thresholdCondition(
        _ m: [String: Entry], _ node: Node, _ p: String, forMillis: Int64, scope: inout RuleScope
    ) -> (RuleCondition, String)? {
        guard let fieldName = string(m["field"], "\(p).field", required: true, in: node) else { return nil }
        guard let field = Field(wireName: fieldName) else {
            error(m["field"]?.value, "\(p).field", "unknown field '\(fieldName)'")
            return nil
        }
        let below = double(m["below"], "\(p).below", range: ConfigurationLimits.threshold)
        let above = double(m["above"], "\(p).above", range: ConfigurationLimits.threshold)
        guard (below == nil) != (above == nil) else {
            error(node, "\(p).below", "a threshold rule has exactly one of below: or above:")
            return nil
        }
        guard let limit = below ?? above else { return nil }
        let resolveAt = double(m["resolve_at"], "\(p).resolve_at", range: ConfigurationLimits.threshold) ?? limit
        if let r = m["resolve_at"], (below != nil && resolveAt < limit) || (above != nil && resolveAt > limit) {
            error(r.value, "\(p).resolve_at", "the hysteresis band must lie on the healthy side of the limit")
        }
        if scope.kind == nil { scope.kind = field.kind }
        let condition = RuleCondition.threshold(
            field: field, below: below != nil, limit: limit, resolveAt: resolveAt, forMillis: forMillis,
            keepFiringMillis: duration(m["keep_firing_for"], "\(p).keep_firing_for", range: ConfigurationLimits.ruleDuration) ?? 0,
            offlineFires: bool(m["offline"], "\(p).offline") ?? false)
        return (condition, "\(fieldName) {value} \(below != nil ? "below" : "above") {limit} for {for} at {workshop}/{device}")
    }

    /// `plugins:` alert plugins, names unique.
    mutating func plugins(_ entry: Entry?) -> [PluginSpec] {
        var plugins: [PluginSpec] = []
        for (i, n) in sequence(entry, "plugins").enumerated() {
            guard let pl = plugin(n, "plugins[\(i)]") else { continue }
            if plugins.contains(where: { $0.name == pl.name }) {
                error(n, "plugins[\(i)].name", "duplicate plugin name '\(pl.name)'")
            } else {
                plugins.append(pl)
            }
        }
        return plugins
    }

    /// One plugin: built in or a program, its options, timeout and minimum severity.
    mutating func plugin(_ node: Node, _ p: String) -> PluginSpec? {
        guard let m = mapping(node, p, allowed: ["name", "builtin", "command", "options", "timeout", "min_severity"]) else { return nil }
        guard let name = string(m["name"], "\(p).name", required: true, in: node) else { return nil }
        // The name makes a file under state_dir/plugins: an id, never a path.
        guard DeviceTopic.isValidID(name) else {
            error(
                m["name"]?.value, "\(p).name",
                "'\(name)' is not a valid plugin name (1 to 63 of a-z 0-9 _ -, starting with a letter or digit)")
            return nil
        }
        let builtin = string(m["builtin"], "\(p).builtin")
        var command: [String] = []
        if let c = m["command"] {
            if let s = c.value.scalar?.string {
                command = [s]
            } else {
                for item in sequence(c, "\(p).command") {
                    guard let s = item.scalar?.string else {
                        error(item, "\(p).command", "expected the program and its arguments as strings")
                        return nil
                    }
                    command.append(s)
                }
            }
            if command.first?.isEmpty == true {
                error(c.value, "\(p).command", "the program's name is empty")
                return nil
            }
        }
        if (builtin == nil) == command.isEmpty {
            error(node, "\(p).command", "a plugin has exactly one of builtin: or command:")
            return nil
        }
        var options: [String: String] = [:]
        if let o = m["options"] {
            if let om = o.value.mapping {
                for (k, v) in om {
                    guard let ks = k.string, let vs = v.scalar?.string else {
                        error(v, "\(p).options", "expected option names and values as strings")
                        continue
                    }
                    options[ks] = vs
                }
            } else {
                error(o.value, "\(p).options", "expected a mapping")
            }
        }
        var sev = Severity.info
        if let s = string(m["min_severity"], "\(p).min_severity") {
            guard let v = Severity(rawValue: s) else {
                error(m["min_severity"]?.value, "\(p).min_severity", "expected info, warning or critical")
                return nil
            }
            sev = v
        }
        return PluginSpec(
            name: name, builtin: builtin, command: command, options: options,
            timeoutMillis: duration(m["timeout"], "\(p).timeout", range: ConfigurationLimits.pluginTimeout) ?? 5000, minSeverity: sev)
    }
}
