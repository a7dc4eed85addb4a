import Foundation
import SentraCore

/// How an off-the-shelf device of the configuration publishes, read from its mapping: which
/// format, its device-side name, and which of its values carry which field at which scale.
/// The simulator writes each format as the device's own documentation shows it:
/// - Tasmota: https://tasmota.github.io/docs/MQTT/ (`tele/<topic>/SENSOR`, `tele/<topic>/LWT`),
///   https://tasmota.github.io/docs/Commands/#management (`SaveData`: totals saved to flash
///   every 3600 s by default), https://tasmota.github.io/docs/Counter/ (`COUNTER.C<n>`).
/// - Shelly gen2: https://shelly-api-docs.shelly.cloud/gen2/General/Notifications (`NotifyStatus`
///   carries what changed, `params.ts` in seconds), https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt
///   (`<prefix>/events/rpc`, `<prefix>/online`, `<prefix>/status/<component>`),
///   https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch#status (`aenergy.total` Wh).
/// - Shelly gen1: https://shelly-api-docs.shelly.cloud/gen1/#shelly-plug-plugs-mqtt (`relay/<n>/power` W,
///   `relay/<n>/energy` watt-minutes), https://shelly-api-docs.shelly.cloud/gen1/#shelly-em-mqtt (`emeter/<n>/total` Wh).
/// - ESPHome: https://esphome.io/components/mqtt.html (`<node>/sensor/<name>/state`, one value a
///   message; `<node>/binary_sensor/<name>/state` `ON`/`OFF`; `<node>/status` `online`/`offline`).
struct ForeignSpec {
    enum Format: String {
        case tasmota
        case shellyGen2 = "shelly-gen2"
        case shellyGen1 = "shelly-gen1"
        case esphome
    }
    /// One value the device writes: its name (a Tasmota counter channel, an ESPHome sensor),
    /// the field it carries and the field's units per unit written.
    struct Value {
        var name: String
        var field: Field
        var scale: Double
    }

    var format: Format
    /// The device-side name: Tasmota topic, Shelly prefix or id, ESPHome node.
    var name: String
    /// Tasmota `COUNTER.C<n>` channels; ESPHome sensors.
    var values: [Value] = []
    /// Shelly gen2 component (`switch:0`, `pm1:0`, `em1:0`).
    var component = "switch:0"
    /// Shelly gen1: relay or emeter channel.
    var channel = "0"
    var emeter = false
    /// ESPHome: the binary sensor carrying the loom's state.
    var binarySensor: String?

    /// Readings that carry no device time: the daemon stamps them with its receive time.
    var timeless: Bool { format == .esphome || format == .shellyGen1 }

    var statusTopic: String {
        switch format {
        case .tasmota: "tele/\(name)/LWT"
        case .shellyGen2: "\(name)/online"
        case .shellyGen1: "shellies/\(name)/online"
        case .esphome: "\(name)/status"
        }
    }
    var onlineWord: [UInt8] {
        switch format {
        case .tasmota: Array("Online".utf8)
        case .shellyGen2, .shellyGen1: Array("true".utf8)
        case .esphome: Array("online".utf8)
        }
    }
    var offlineWord: [UInt8] {
        switch format {
        case .tasmota: Array("Offline".utf8)
        case .shellyGen2, .shellyGen1: Array("false".utf8)
        case .esphome: Array("offline".utf8)
        }
    }

    /// The device's format from its mapping; nil for a device speaking the device protocol. A
    /// generic mapping (`mappings:`) is not simulated.
    static func of(_ d: Device) throws(SimulationError) -> ForeignSpec? {
        guard let m = d.mapping else { return nil }
        guard let format = Format(rawValue: m.profile) else {
            throw SimulationError(
                "device '\(d.id)' uses the mapping '\(m.profile)': the simulator publishes only the built-in profiles "
                    + "(\(ForeignProfiles.names.joined(separator: ", "))); leave it out with --leave-out \(d.id)")
        }
        var spec = ForeignSpec(format: format, name: m.deviceTopic)
        switch format {
        case .tasmota:
            for v in m.messages.flatMap(\.values) {
                guard case .field(let f, let scale) = v.target, v.path.steps.first == .key("COUNTER"),
                    case .key(let channel) = v.path.steps.last
                else { continue }
                spec.values.append(Value(name: channel, field: f, scale: scale))
            }
        case .shellyGen2:
            for v in m.messages.first?.values ?? [] where v.path.steps.count > 1 {
                if case .key(let c) = v.path.steps[1], !c.hasPrefix("em1data:") {
                    spec.component = c
                    break
                }
            }
        case .shellyGen1:
            if let levels = m.messages.first?.topic.levels, levels.count == 5, case .literal(let base) = levels[2],
                case .literal(let n) = levels[3]
            {
                spec.emeter = base == "emeter"
                spec.channel = n
            }
        case .esphome:
            for message in m.messages {
                guard message.topic.levels.count == 4, case .literal(let kind) = message.topic.levels[1],
                    case .literal(let name) = message.topic.levels[2], let v = message.values.first
                else { continue }
                switch v.target {
                case .field(let f, let scale) where kind == "sensor": spec.values.append(Value(name: name, field: f, scale: scale))
                case .state where kind == "binary_sensor": spec.binarySensor = name
                default: break
                }
            }
        }
        try spec.check(device: d.id)
        return spec
    }

    /// A counter of whole things (picks, pulses per pick) must be written in whole units.
    private func check(device: String) throws(SimulationError) {
        for v in values where SimCounter(v.field).map({ $0 != .kwh && $0 != .litres }) == true {
            let perUnit = 1 / v.scale
            guard perUnit >= 1, abs(perUnit - perUnit.rounded()) < 1e-9 else {
                throw SimulationError(
                    "device '\(device)': \(v.name) counts \(v.field.wireName) at a scale of \(v.scale); the simulator needs a whole number of units per count"
                )
            }
        }
    }
}

extension SimCounter {
    /// The counter a cumulative field is summed in; nil for a gauge.
    init?(_ f: Field) {
        switch f {
        case .picks: self = .picks
        case .pieces: self = .pieces
        case .skeins: self = .skeins
        case .runS: self = .runS
        case .kwh: self = .kwh
        case .l: self = .litres
        default: return nil
        }
    }

    /// The truth's units (Wh, tenths of a litre, whole counts) in one unit of the field.
    var truthUnitsPerFieldUnit: Double {
        switch self {
        case .kwh: 1000
        case .litres: 10
        default: 1
        }
    }
}

/// What an off-the-shelf device remembers between its messages.
struct ForeignLive {
    /// ESPHome: the loom state last published on the binary sensor (it publishes changes).
    var publishedState: LoomState?
    /// Shelly gen2: what the last notifications carried, so the next carries only changes.
    var apowerTenths: Int64?
    var decivolts: Int64?
    var energyMinute: Int64 = .min
    var statusSlot: Int64 = .min
    var eventSlot: Int64 = .min
    /// Tasmota: the totals last saved to flash, and when.
    var saved: SavedTotals?
    var savedAt: Int64 = .min
}

/// A device's totals as its model holds them, to restore after a power cut.
struct SavedTotals {
    var energyWh = 0.0
    var decilitres = 0.0
    var picks: Int64 = 0
    var pieces: Int64 = 0
    var skeins: Int64 = 0
    var runS: Int64 = 0
}
