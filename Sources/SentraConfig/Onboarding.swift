import Foundation
import SentraCore

/// What an unknown topic looks like, and the configuration that would claim it: for
/// `sentractl devices unknown` (docs/devices.md, "Adding a device").
public struct DeviceGuess: Sendable, Equatable, Codable {
    /// `tasmota`, `shelly-gen2`, `shelly-gen1`, `esphome` or `native`.
    public var profile: String
    /// The device-side name (Tasmota topic, Shelly prefix or id, ESPHome node); for `native`,
    /// the device id of its topic.
    public var topic: String
    /// What it measures, when the topic or payload says: `power`, `water` or `loom`.
    public var kind: String?
    /// Shelly gen2's component, Shelly gen1's `relay`/`emeter` and channel, ESPHome's sensor.
    public var detail: String?
    /// The workshop of a native topic.
    public var workshop: String?

    public init(profile: String, topic: String, kind: String? = nil, detail: String? = nil, workshop: String? = nil) {
        self.profile = profile
        self.topic = topic
        self.kind = kind
        self.detail = detail
        self.workshop = workshop
    }
}

public enum Onboarding {
    /// The profile a topic (and its payload) looks like, if any. A Home Assistant discovery
    /// message is read for the state topic it announces.
    public static func guess(topic: String, sample: [UInt8], topicPrefix: String = DeviceKey.defaultTopicPrefix) -> DeviceGuess? {
        if UnknownTopic.isDiscovery(topic) { return discovery(sample, topicPrefix: topicPrefix) }
        let l = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let text = String(decoding: sample, as: UTF8.self)
        if l.first == topicPrefix, l.count >= 4, let kind = DeviceKind(rawValue: l[2]) {
            return DeviceGuess(profile: "native", topic: l[3], kind: kind.rawValue, workshop: l[1])
        }
        switch (l.count, l.first, l.last) {
        case (3, "tele", "SENSOR"):
            let kind = text.contains("\"ENERGY\"") ? "power" : text.contains("\"COUNTER\"") ? "water" : nil
            return DeviceGuess(profile: "tasmota", topic: l[1], kind: kind, detail: text.contains("\"COUNTER\"") ? "C1" : nil)
        case (3, "tele", _): return DeviceGuess(profile: "tasmota", topic: l[1])
        case (_, "shellies", _) where l.count >= 3:
            if l.count >= 5 && (l[2] == "relay" || l[2] == "emeter") {
                return DeviceGuess(profile: "shelly-gen1", topic: l[1], kind: "power", detail: "\(l[2]) \(l[3])")
            }
            return DeviceGuess(profile: "shelly-gen1", topic: l[1], kind: "power")
        case (3, _, "rpc") where l[1] == "events":
            let component = ["switch:", "pm1:", "em1:"].lazy.compactMap { componentIn(text, $0) }.first
            return DeviceGuess(profile: "shelly-gen2", topic: l[0], kind: "power", detail: component)
        case (3, _, _) where l[1] == "status" && l[2].contains(":"):
            return DeviceGuess(profile: "shelly-gen2", topic: l[0], kind: "power", detail: l[2])
        case (2, _, "online"): return DeviceGuess(profile: "shelly-gen2", topic: l[0], kind: "power")
        case (4, _, "state") where l[1] == "sensor" || l[1] == "binary_sensor":
            let loomish = ["picks", "pieces", "running"].contains(l[2])
            return DeviceGuess(profile: "esphome", topic: l[0], kind: loomish ? "loom" : nil, detail: "\(l[1]) \(l[2])")
        case (2, _, "status"): return DeviceGuess(profile: "esphome", topic: l[0])
        default: return nil
        }
    }

    /// `switch:0` (or the first such component) in a Shelly notification's text.
    private static func componentIn(_ text: String, _ prefix: String) -> String? {
        guard let r = text.range(of: "\"\(prefix)") else { return nil }
        let digits = text[r.upperBound...].prefix { $0.isNumber }
        return digits.isEmpty ? nil : prefix + digits
    }

    /// A discovery message: its state topic (`stat_t`/`state_topic`, `~` expanded) guessed.
    private static func discovery(_ sample: [UInt8], topicPrefix: String) -> DeviceGuess? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(sample)) as? [String: Any] else { return nil }
        let base = object["~"] as? String ?? ""
        guard var state = (object["stat_t"] ?? object["state_topic"]) as? String else { return nil }
        if state.hasPrefix("~") { state = base + state.dropFirst() } else if state.hasSuffix("~") { state = state.dropLast() + base }
        guard var g = guess(topic: state, sample: [], topicPrefix: topicPrefix) else { return nil }
        let unit = (object["unit_of_meas"] ?? object["unit_of_measurement"]) as? String
        if g.kind == nil, let unit {
            g.kind = ["kWh", "Wh", "W", "V", "A"].contains(unit) ? "power" : ["L", "m³", "L/min"].contains(unit) ? "water" : nil
        }
        return g
    }

    /// A `devices:` entry to paste, for the guessed device and the sensors seen on its topics.
    public static func snippet(_ g: DeviceGuess, sensors: [String] = []) -> String {
        let id = suggestedID(g.topic)
        let kind = g.kind ?? "power"
        var lines = [
            "  - id: \(id)                    # an id of your choice: a-z 0-9 _ -",
            "    workshop: \(g.workshop ?? "WORKSHOP")                # the workshop it is in",
            "    kind: \(kind)\(g.kind == nil ? "                   # power, water or loom: check" : "")",
        ]
        if kind == "loom" { lines.append("    loom: LOOM                       # the loom it counts") }
        guard g.profile != "native" else { return lines.joined(separator: "\n") }
        lines.append("    profile: \(g.profile)")
        lines.append("    topic: \(yamlScalar(g.topic))")
        switch g.profile {
        case "tasmota" where kind != "power":
            lines.append("    counters:")
            lines.append(
                "      C1: { field: \(kind == "loom" ? "picks" : "l"), pulses_per_unit: \(kind == "loom" ? 1 : 450) }   # pulses per unit: check"
            )
        case "shelly-gen2":
            if let c = g.detail, c != "switch:0" { lines.append("    component: \"\(c)\"") }
        case "shelly-gen1":
            if let d = g.detail {
                let parts = d.split(separator: " ")
                if parts.first == "emeter" { lines.append("    meter: emeter") }
                if parts.count == 2, parts[1] != "0" { lines.append("    channel: \(parts[1])") }
            }
        case "esphome" where kind != "loom" || !Set(sensors).isSubset(of: ["picks", "pieces"]):
            let known = Field.fields(of: DeviceKind(rawValue: kind) ?? .power).map(\.wireName)
            lines.append("    sensors:                         # field: ESPHome sensor name")
            for s in sensors.isEmpty ? ["SENSOR"] : sensors {
                lines.append("      \(known.contains(s) ? s : "FIELD"): \(s)")
            }
        default: break
        }
        return lines.joined(separator: "\n")
    }

    /// The device-side name as a Sentra id: lower case, other characters as `-`.
    public static func suggestedID(_ topic: String) -> String {
        var s = String(
            topic.lowercased().map { c -> Character in c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") ? c : "-" })
        while let f = s.first, !(f.isLetter || f.isNumber) { s.removeFirst() }
        return s.isEmpty ? "device-1" : String(s.prefix(63))
    }

    private static func yamlScalar(_ s: String) -> String {
        s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
            ? s : "\"\(s.replacingOccurrences(of: "\"", with: "\\\""))\""
    }
}
