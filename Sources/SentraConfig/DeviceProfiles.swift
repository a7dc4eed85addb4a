import SentraCore
import Yams

/// Off-the-shelf devices in the configuration (docs/configuration.md, "Off-the-shelf devices"):
/// a device's `profile` and its device-side keys, and the `mappings:` section.
extension Reader {
    /// Keys a device may carry besides its identity and binding.
    static let profileKeys = ["profile", "topic", "counters", "component", "channel", "meter", "sensors", "binary_sensor"]
    /// Which profile each device-side key belongs to.
    static let keyProfile = [
        "counters": "tasmota", "component": "shelly-gen2", "channel": "shelly-gen1", "meter": "shelly-gen1",
        "sensors": "esphome", "binary_sensor": "esphome",
    ]

    // Long: one case per profile, each naming its own keys' mistakes.
    /// The device's mapping: nil for the native protocol (or after an error, reported).
    mutating func deviceMapping(
        _ d: [String: Entry], _ node: Node, _ p: String, id: String, kind: DeviceKind, mappings: [String: ForeignMapping]
    ) -> ForeignMapping? {
        let profile = string(d["profile"], "\(p).profile") ?? "native"
        for (key, owner) in Self.keyProfile where d[key] != nil && owner != profile {
            error(d[key]?.key, "\(p).\(key)", "only for profile \(owner), not \(profile)")
        }
        if profile == "native" {
            if d["topic"] != nil {
                error(
                    d["topic"]?.key, "\(p).topic",
                    "only for an off-the-shelf profile: a native device's topic is sentra/<workshop>/<kind>/<id>")
            }
            return nil
        }
        let topic = deviceTopic(d["topic"], "\(p).topic") ?? id
        switch profile {
        case "tasmota":
            let counters = pulseChannels(d["counters"], "\(p).counters")
            if kind != .power && counters.isEmpty {
                error(
                    node, "\(p).counters",
                    "missing (required): a Tasmota \(kind.rawValue) device reads a counter, e.g. C1: { field: \(kind == .water ? "l" : "picks"), pulses_per_unit: \(kind == .water ? 450 : 1) }"
                )
            }
            for c in counters where c.field.kind != kind {
                error(d["counters"]?.value, "\(p).counters", "field '\(c.field.wireName)' is not a field of a \(kind.rawValue) device")
            }
            return ForeignProfiles.tasmota(topic: topic, kind: kind, counters: counters)
        case "shelly-gen2":
            guard kind == .power else { return wrongKind(d, p, profile, kind) }
            let component = string(d["component"], "\(p).component") ?? "switch:0"
            let ok = ["switch:", "pm1:", "em1:"].contains {
                component.hasPrefix($0) && Int(component.dropFirst($0.count)).map { (0...15).contains($0) } == true
            }
            if !ok { error(d["component"]?.value, "\(p).component", "expected switch:N, pm1:N or em1:N with N in 0...15") }
            return ForeignProfiles.shellyGen2(prefix: topic, component: component)
        case "shelly-gen1":
            guard kind == .power else { return wrongKind(d, p, profile, kind) }
            let channel = int(d["channel"], "\(p).channel", range: 0...15) ?? 0
            let meter = string(d["meter"], "\(p).meter") ?? "relay"
            if meter != "relay" && meter != "emeter" { error(d["meter"]?.value, "\(p).meter", "expected relay or emeter") }
            return ForeignProfiles.shellyGen1(id: topic, channel: channel, emeter: meter == "emeter")
        case "esphome":
            return esphome(d, node, p, node: topic, kind: kind)
        default:
            guard var m = mappings[profile] else {
                let names = (["native"] + ForeignProfiles.names + mappings.keys.sorted()).joined(separator: ", ")
                error(d["profile"]?.value, "\(p).profile", "unknown profile '\(profile)' (expected one of: \(names))")
                return nil
            }
            for v in m.messages.flatMap(\.values) {
                if case .field(let f, _) = v.target, f.kind != kind {
                    error(
                        d["profile"]?.value, "\(p).profile",
                        "mapping '\(profile)' maps '\(f.wireName)', not a field of a \(kind.rawValue) device")
                }
                if case .state = v.target, kind != .loom {
                    error(d["profile"]?.value, "\(p).profile", "mapping '\(profile)' maps state, which only a loom has")
                }
            }
            m.deviceTopic = topic
            return m
        }
    }

    private mutating func wrongKind(_ d: [String: Entry], _ p: String, _ profile: String, _ kind: DeviceKind) -> ForeignMapping? {
        error(d["profile"]?.value, "\(p).profile", "profile \(profile) reads power meters, not a \(kind.rawValue) device")
        return nil
    }

    /// A device-side name: one MQTT topic level (no `/`, `+`, `#`), at most 128 bytes.
    mutating func deviceTopic(_ e: Entry?, _ path: String) -> String? {
        guard let s = string(e, path) else { return nil }
        guard s.utf8.count <= 128, !s.contains(where: { "/+#".contains($0) || $0.asciiValue.map { $0 < 0x20 } == true }) else {
            error(e?.value, path, "'\(s)' is not one topic level (at most 128 bytes, no /, + or #)")
            return nil
        }
        return s
    }

    /// Tasmota's `counters:` `C1: { field: l, pulses_per_unit: 450 }`.
    private mutating func pulseChannels(_ e: Entry?, _ path: String) -> [ForeignProfiles.Pulse] {
        guard let e, let m = mapping(e.value, path, allowed: (1...8).map { "C\($0)" }) else { return [] }
        var out: [ForeignProfiles.Pulse] = []
        for (channel, entry) in m.sorted(by: { $0.key < $1.key }) {
            let p = "\(path).\(channel)"
            guard let c = mapping(entry.value, p, allowed: ["field", "pulses_per_unit"]) else { continue }
            guard let f = counterField(c["field"], "\(p).field", in: entry.value) else { continue }
            let per = double(c["pulses_per_unit"], "\(p).pulses_per_unit", range: 1e-6...1e9) ?? 1
            out.append(.init(channel: channel, field: f, pulsesPerUnit: per))
        }
        return out
    }

    /// ESPHome: `sensors:` field → sensor object id, and a `binary_sensor` for a loom's state.
    private mutating func esphome(_ d: [String: Entry], _ n: Node, _ p: String, node: String, kind: DeviceKind) -> ForeignMapping? {
        var sensors: [(name: String, field: Field, scale: Double)] = []
        if let e = d["sensors"], let m = mapping(e.value, "\(p).sensors", allowed: Field.fields(of: kind).map(\.wireName)) {
            for (name, entry) in m.sorted(by: { $0.key < $1.key }) {
                guard let f = Field(wireName: name) else { continue }
                let sp = "\(p).sensors.\(name)"
                if entry.value.scalar != nil {
                    if let s = deviceTopic(entry, sp) { sensors.append((s, f, 1)) }
                    continue
                }
                guard let s = mapping(entry.value, sp, allowed: ["name", "scale", "pulses_per_unit"]) else { continue }
                guard let sensor = deviceTopic(s["name"], "\(sp).name") else {
                    if s["name"] == nil { error(entry.value, "\(sp).name", "missing (required)") }
                    continue
                }
                sensors.append((sensor, f, scale(s, sp)))
            }
        } else if kind == .loom {
            sensors = [("picks", .picks, 1), ("pieces", .pieces, 1)]
        } else {
            error(n, "\(p).sensors", "missing (required): which ESPHome sensors carry this \(kind.rawValue) device's values")
        }
        var binary = string(d["binary_sensor"], "\(p).binary_sensor")
        if binary != nil && kind != .loom {
            error(d["binary_sensor"]?.key, "\(p).binary_sensor", "only a loom has a running state")
            binary = nil
        }
        if kind == .loom && binary == nil { binary = "running" }
        return ForeignProfiles.esphome(node: node, sensors: sensors, binarySensor: binary)
    }

    /// `scale:` or `pulses_per_unit:` (one of them), as a factor.
    mutating func scale(_ m: [String: Entry], _ path: String) -> Double {
        if m["scale"] != nil && m["pulses_per_unit"] != nil {
            error(m["scale"]?.key, "\(path).scale", "give scale or pulses_per_unit, not both")
        }
        if let per = double(m["pulses_per_unit"], "\(path).pulses_per_unit", range: 1e-6...1e9) { return 1 / per }
        let s = double(m["scale"], "\(path).scale", range: -1e9...1e9) ?? 1
        if s == 0 { error(m["scale"]?.value, "\(path).scale", "0 would erase every value") }
        return s == 0 ? 1 : s
    }

    /// A cumulative counter's name (`l`, `kwh`, `picks`, …).
    private mutating func counterField(_ e: Entry?, _ path: String, in parent: Node) -> Field? {
        guard let name = string(e, path, required: true, in: parent) else { return nil }
        guard let f = Field(wireName: name), f.isCounter else {
            error(e?.value, path, "'\(name)' is not a counter (kwh, l, picks, pieces, skeins, run_s)")
            return nil
        }
        return f
    }

    /// No two devices read the same device-side topic.
    mutating func checkDeviceTopics(_ devices: [Device], lines: [Int]) {
        var seen: [String: String] = [:]
        for (i, d) in devices.enumerated() {
            guard let m = d.mapping else { continue }
            for t in m.messages.compactMap({ $0.topic.exactTopic(device: m.deviceTopic) }) {
                if let other = seen[t] {
                    errors.append(
                        ConfigurationError(
                            file: file, line: i < lines.count ? lines[i] : 0, key: "devices",
                            message: "devices '\(other)' and '\(d.id)' both read \(t)"))
                    break
                }
                seen[t] = d.id
            }
        }
    }
}
