/// The built-in profiles: what Tasmota, Shelly (gen1 and gen2) and ESPHome publish as they
/// ship, as `ForeignMapping`s (docs/devices.md has each device's documentation).
public enum ForeignProfiles {
    public static let names = ["tasmota", "shelly-gen2", "shelly-gen1", "esphome"]

    /// A pulse counter's channel mapped to a field: `value = pulses ÷ pulsesPerUnit`.
    public struct Pulse: Sendable, Equatable {
        public var channel: String
        public var field: Field
        public var pulsesPerUnit: Double
        public init(channel: String, field: Field, pulsesPerUnit: Double) {
            self.channel = channel
            self.field = field
            self.pulsesPerUnit = pulsesPerUnit
        }
    }

    /// Tasmota: `tele/<topic>/SENSOR` every `TelePeriod`, `tele/<topic>/LWT` `Online`/`Offline`.
    /// `ENERGY` (kWh, V, A, W) for a power meter; `COUNTER.C<n>` pulses for the others.
    public static func tasmota(topic: String, kind: DeviceKind, counters: [Pulse]) -> ForeignMapping {
        var values: [ForeignValue] = []
        if kind == .power {
            values += [
                ForeignValue(path: path("ENERGY", "Total"), target: .field(.kwh, scale: 1)),
                ForeignValue(path: path("ENERGY", "Voltage"), target: .field(.v, scale: 1)),
                ForeignValue(path: path("ENERGY", "Current"), target: .field(.a, scale: 1)),
                ForeignValue(path: path("ENERGY", "Power"), target: .field(.w, scale: 1)),
            ]
        }
        for c in counters {
            values.append(ForeignValue(path: path("COUNTER", c.channel), target: .field(c.field, scale: 1 / c.pulsesPerUnit)))
        }
        let sensor = ForeignMessage(
            topic: pattern("tele", nil, "SENSOR"), format: .json, values: values,
            time: ForeignTime(path: path("Time"), format: .iso8601))
        return ForeignMapping(
            profile: "tasmota", deviceTopic: topic, messages: [sensor],
            status: ForeignStatus(topic: pattern("tele", nil, "LWT"), online: ["Online"], offline: ["Offline"]),
            restoresOlderTotal: true)
    }

    /// Shelly gen2 (Plus, Pro): `<prefix>/events/rpc` `NotifyStatus` notifications (partial,
    /// `params.ts` in seconds), `<prefix>/status/<component>` (no time), `<prefix>/online`.
    /// `component` is `switch:N`, `pm1:N` or `em1:N` (energy then from `em1data:N`).
    public static func shellyGen2(prefix: String, component: String) -> ForeignMapping {
        var parts: [(component: String, values: [(String, Field, Double)])] = []
        if component.hasPrefix("em1:") {
            let n = component.dropFirst("em1:".count)
            parts.append((component, [("act_power", .w, 1), ("voltage", .v, 1), ("current", .a, 1)]))
            parts.append(("em1data:\(n)", [("total_act_energy", .kwh, 0.001)]))
        } else {
            parts.append((component, [("aenergy.total", .kwh, 0.001), ("apower", .w, 1), ("voltage", .v, 1), ("current", .a, 1)]))
        }
        let rpcValues = parts.flatMap { part in
            part.values.map { name, f, scale in
                ForeignValue(path: JSONPath([.key("params"), .key(part.component)] + steps(name)), target: .field(f, scale: scale))
            }
        }
        var messages = [
            ForeignMessage(
                topic: pattern(nil, "events", "rpc"), format: .json, values: rpcValues,
                time: ForeignTime(path: path("params", "ts"), format: .unixSeconds),
                condition: (path("method"), "NotifyStatus"))
        ]
        for part in parts {
            messages.append(
                ForeignMessage(
                    topic: pattern(nil, "status", part.component), format: .json,
                    values: part.values.map { name, f, scale in ForeignValue(path: JSONPath(steps(name)), target: .field(f, scale: scale)) }
                ))
        }
        return ForeignMapping(
            profile: "shelly-gen2", deviceTopic: prefix, messages: messages,
            status: ForeignStatus(topic: pattern(nil, "online"), online: ["true"], offline: ["false"]), partial: true)
    }

    /// Shelly gen1: one plain value a topic under `shellies/<id>/`: a relay's `power` (W) and
    /// `energy` (watt-minutes), or an energy meter's `power`, `voltage`, `current` and `total` (Wh).
    public static func shellyGen1(id: String, channel: Int, emeter: Bool) -> ForeignMapping {
        let base = emeter ? "emeter" : "relay"
        let values: [(String, Field, Double)] =
            emeter
            ? [("total", .kwh, 0.001), ("power", .w, 1), ("voltage", .v, 1), ("current", .a, 1)]
            : [("energy", .kwh, 1.0 / 60_000), ("power", .w, 1)]
        let messages = values.map { name, f, scale in
            ForeignMessage(
                topic: TopicPattern(levels: [.literal("shellies"), .device, .literal(base), .literal(String(channel)), .literal(name)]),
                format: .plain, values: [ForeignValue(target: .field(f, scale: scale))])
        }
        return ForeignMapping(
            profile: "shelly-gen1", deviceTopic: id, messages: messages,
            status: ForeignStatus(
                topic: TopicPattern(levels: [.literal("shellies"), .device, .literal("online")]), online: ["true"], offline: ["false"]),
            partial: true)
    }

    /// ESPHome: `<node>/sensor/<name>/state` (one number), `<node>/binary_sensor/<name>/state`
    /// (`ON`/`OFF` → `state` run/stop), `<node>/status` `online`/`offline`.
    public static func esphome(
        node: String, sensors: [(name: String, field: Field, scale: Double)], binarySensor: String?
    )
        -> ForeignMapping
    {
        var messages = sensors.map { s in
            ForeignMessage(
                topic: TopicPattern(levels: [.device, .literal("sensor"), .literal(s.name), .literal("state")]), format: .plain,
                values: [ForeignValue(target: .field(s.field, scale: s.scale))])
        }
        if let b = binarySensor {
            messages.append(
                ForeignMessage(
                    topic: TopicPattern(levels: [.device, .literal("binary_sensor"), .literal(b), .literal("state")]), format: .plain,
                    values: [ForeignValue(target: .state(["ON": .run, "OFF": .stop]))]))
        }
        return ForeignMapping(
            profile: "esphome", deviceTopic: node, messages: messages,
            status: ForeignStatus(topic: TopicPattern(levels: [.device, .literal("status")]), online: ["online"], offline: ["offline"]),
            partial: true)
    }

    /// The MQTT filters a profile's devices publish on, so the daemon's session also receives
    /// devices not yet configured (for `sentractl devices unknown`).
    public static func filters(profile: String) -> [String] {
        switch profile {
        case "tasmota": ["tele/+/SENSOR", "tele/+/LWT"]
        case "shelly-gen2": ["+/events/rpc", "+/online", "+/status/+"]
        case "shelly-gen1": ["shellies/#"]
        case "esphome": ["+/sensor/+/state", "+/binary_sensor/+/state", "+/status"]
        default: []
        }
    }

    // `pattern("tele", nil, "SENSOR")`: nil is `{device}`.
    private static func pattern(_ levels: String?...) -> TopicPattern {
        TopicPattern(levels: levels.map { $0.map { .literal($0) } ?? .device })
    }
    private static func path(_ keys: String...) -> JSONPath { JSONPath(keys.map { .key($0) }) }
    private static func steps(_ dotted: String) -> [JSONPath.Step] { dotted.split(separator: ".").map { .key(String($0)) } }
}
