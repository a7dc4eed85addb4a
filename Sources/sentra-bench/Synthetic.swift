import Foundation
import SentraCore

/// A synthetic sentra of any size and a stream of plausible readings for it.
enum Synthetic {
    static func registry(workshops: Int, craftsmen: Int, looms: Int) -> Registry {
        let ws = (0..<workshops).map { Workshop(id: "ws-\($0)", name: "ws-\($0)", shift: .always) }
        let cs = (0..<craftsmen).map { Craftsman(id: "c-\($0)", name: "c-\($0)", workshop: "ws-\($0 % workshops)") }
        let ls = (0..<looms).map { i -> Loom in
            let c = i % craftsmen
            return Loom(id: "loom-\(i)", workshop: "ws-\(c % workshops)", assignments: [Assignment(craftsman: "c-\(c)", since: .min)])
        }
        var ds = ls.map { Device(id: $0.id, workshop: $0.workshop, kind: .loom, binding: .loom($0.id)) }
        for w in 0..<workshops {
            ds.append(Device(id: "pm-\(w)", workshop: "ws-\(w)", kind: .power, binding: .workshop))
            ds.append(Device(id: "wm-\(w)", workshop: "ws-\(w)", kind: .water, binding: .workshop))
        }
        return Registry(name: "synthetic", workshops: ws, craftsmen: cs, looms: ls, devices: ds)
    }

    /// `count` messages round-robin over the registry's devices, every device every `period` ms.
    static func messages(_ r: Registry, count: Int, start: Int64, period: Int64 = 10_000) -> [(topic: String, payload: [UInt8])] {
        var out: [(String, [UInt8])] = []
        out.reserveCapacity(count)
        let n = r.devices.count
        for i in 0..<count {
            let d = r.devices[i % n]
            let round = Int64(i / n)
            let ts = start + round * period + Int64(i % n)
            let topic = r.topic(of: d)
            let payload: String
            switch d.kind {
            case .loom:
                payload =
                    #"{"ts":\#(ts),"seq":\#(round),"picks":\#(round * 7),"pieces":\#(round / 300),"run_s":\#(round * 10),"state":"run"}"#
            case .power:
                payload = #"{"ts":\#(ts),"v":\#(215 + Double(round % 10) / 10),"a":3.2,"w":700,"kwh":\#(Double(round) * 0.002)}"#
            case .water:
                payload = #"{"ts":\#(ts),"lpm":4.5,"l":\#(Double(round) * 0.7),"level":62,"bar":1.2}"#
            }
            out.append((topic, Array(payload.utf8)))
        }
        return out
    }

    /// The registry as a configuration file sentrad reads.
    static func yaml(_ r: Registry) -> String {
        var out = "sentra:\n  name: synthetic\n  timezone: Asia/Jakarta\nworkshops:\n"
        for w in r.workshops { out += "  - { id: \(w.id) }\n" }
        out += "craftsmen:\n"
        for c in r.craftsmen { out += "  - { id: \(c.id), workshop: \(c.workshop) }\n" }
        out += "looms:\n"
        for l in r.looms { out += "  - { id: \(l.id), workshop: \(l.workshop), craftsman: \(l.currentCraftsman) }\n" }
        out += "devices:\n"
        for d in r.devices {
            out += "  - { id: \(d.id), workshop: \(d.workshop), kind: \(d.kind.rawValue)\(d.loom.map { ", loom: \($0)" } ?? "") }\n"
        }
        return out
    }
}
