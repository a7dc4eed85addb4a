import Foundation
import SentraCore

/// Off-the-shelf devices for `sentra-bench pipeline`: a synthetic sentra whose devices all use
/// one profile, and a stream of that profile's messages as the devices publish them.
enum ProfileSynthetic {
    static let profiles = ["tasmota", "shelly-gen2", "shelly-gen1", "esphome"]

    /// `devices` devices of `profile`: power meters for Tasmota and Shelly, loom boards for ESPHome.
    static func registry(profile: String, devices n: Int) -> Registry {
        let ws = [Workshop(id: "ws-0", name: "ws-0", shift: .always)]
        let cs = [Craftsman(id: "c-0", name: "c-0", workshop: "ws-0")]
        let looms = (0..<n).map { Loom(id: "loom-\($0)", workshop: "ws-0", assignments: [Assignment(craftsman: "c-0", since: .min)]) }
        let ds = (0..<n).map { i -> Device in
            switch profile {
            case "tasmota":
                Device(
                    id: "pm-\(i)", workshop: "ws-0", kind: .power, binding: .workshop,
                    mapping: ForeignProfiles.tasmota(topic: "tasmota_\(i)", kind: .power, counters: []))
            case "shelly-gen2":
                Device(
                    id: "pm-\(i)", workshop: "ws-0", kind: .power, binding: .workshop,
                    mapping: ForeignProfiles.shellyGen2(prefix: "shellyplus1pm-\(i)", component: "switch:0"))
            case "shelly-gen1":
                Device(
                    id: "pm-\(i)", workshop: "ws-0", kind: .power, binding: .workshop,
                    mapping: ForeignProfiles.shellyGen1(id: "shelly1pm-\(i)", channel: 0, emeter: false))
            default:
                Device(
                    id: "loom-\(i)", workshop: "ws-0", kind: .loom, binding: .loom("loom-\(i)"),
                    mapping: ForeignProfiles.esphome(
                        node: "loom-\(i)", sensors: [("picks", .picks, 1), ("pieces", .pieces, 1)], binarySensor: "running"))
            }
        }
        return Registry(name: profile, workshops: ws, craftsmen: cs, looms: profile == "esphome" ? looms : [], devices: ds)
    }

    /// `count` messages round-robin over the devices, every device every `period` ms from
    /// `start`: Tasmota's full `tele/…/SENSOR`, Shelly gen2's `NotifyStatus` with power and
    /// energy, Shelly gen1's `relay/0/energy`, ESPHome's `picks` and `pieces` in turn.
    static func messages(
        profile: String, registry r: Registry, count: Int, start: Int64, period: Int64 = 10_000
    )
        -> [(topic: String, payload: [UInt8])]
    {
        var out: [(String, [UInt8])] = []
        out.reserveCapacity(count)
        var calendar = LocalCalendar(identifier: "Asia/Jakarta")!
        let n = r.devices.count
        for i in 0..<count {
            let d = i % n
            let round = Int64(i / n)
            let ts = start + round * period + Int64(d)
            let name = r.devices[d].mapping?.deviceTopic ?? ""
            switch profile {
            case "tasmota":
                let local = ts / 1000 + calendar.offset(atMillis: ts)
                let time = LocalCalendar.civilDate(daysSinceEpoch: floorDiv(local, 86_400)) + "T" + clock(floorMod(local, 86_400))
                let payload =
                    #"{"Time":"\#(time)","ENERGY":{"TotalStartTime":"2025-01-01T00:00:00","Total":\#(String(format: "%.3f", Double(round) * 0.002)),"Yesterday":1.234,"Today":0.567,"Period":2,"Power":700,"ApparentPower":720,"ReactivePower":90,"Factor":0.97,"Voltage":\#(215 + round % 10),"Current":3.2}}"#
                out.append(("tele/\(name)/SENSOR", Array(payload.utf8)))
            case "shelly-gen2":
                let payload =
                    #"{"src":"\#(name)","dst":"\#(name)/events","method":"NotifyStatus","params":{"ts":\#(String(format: "%.2f", Double(ts) / 1000)),"switch:0":{"id":0,"apower":700.1,"voltage":\#(215 + round % 10).3,"current":3.21,"aenergy":{"total":\#(String(format: "%.3f", Double(round) * 2)),"by_minute":[11.6,11.7,11.6],"minute_ts":\#(ts / 1000)}}}}"#
                out.append(("\(name)/events/rpc", Array(payload.utf8)))
            case "shelly-gen1":
                out.append(("shellies/\(name)/relay/0/energy", Array("\(round * 120)".utf8)))
            default:
                let pieces = round % 2 == 1
                out.append(
                    ("\(name)/sensor/\(pieces ? "pieces" : "picks")/state", Array((pieces ? "\(round / 600)" : "\(round * 7)").utf8)))
            }
        }
        return out
    }

    private static func clock(_ s: Int64) -> String {
        String(format: "%02d:%02d:%02d", Int(s / 3600), Int(s / 60 % 60), Int(s % 60))
    }
}
