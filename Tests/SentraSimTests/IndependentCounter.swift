import Foundation
import SentraConfig
import SentraCore
import SentraSim

/// Sums a published stream per CONTRACT §1 on its own, without `CounterRules` or the
/// simulator's truth code: the check that the simulator's ground truth is what it says.
struct IndependentCounter {
    struct Totals {
        var pieces = 0.0, picks = 0.0, runS = 0.0, kwh = 0.0, litres = 0.0
    }
    struct FieldState {
        var value: Double
        var ts: Int64
        var dip: Double?
    }
    struct DeviceState {
        var lastTs: Int64?
        var lastSeq: Int64?
        var fields: [String: FieldState] = [:]
    }

    let registry: Registry
    var calendar: LocalCalendar
    let limits: [String: Double]
    var devices: [String: DeviceState] = [:]
    /// [day][craftsman]
    var perDay: [String: [String: Totals]] = [:]
    /// [hourStart][workshop] meter sums, and running seconds per craftsman.
    var meterHours: [Int64: [String: (kwh: Double, l: Double)]] = [:]
    var runHours: [Int64: [String: [String: Double]]] = [:]
    var duplicates = 0, outOfOrder = 0, glitches = 0, resets = 0, rejected = 0, statuses = 0, readings = 0

    init(configuration: Configuration) {
        registry = configuration.registry
        calendar = configuration.calendar
        let r = configuration.ingest.rates
        limits = ["picks": r.limit(.picks), "pieces": r.limit(.pieces), "run_s": r.limit(.runS), "kwh": r.limit(.kwh), "l": r.limit(.l)]
    }

    mutating func ingest(topic: String, payload: [UInt8]) {
        let parts = topic.split(separator: "/").map(String.init)
        if parts.count == 5 {
            statuses += 1
            return
        }
        precondition(parts.count == 4 && parts[0] == "sentra")
        guard let kind = DeviceKind(rawValue: parts[2]) else { return }
        for result in PayloadParser.parse(payload, kind: kind) {
            switch result {
            case .failure: rejected += 1
            case .success(let r): accept(workshop: parts[1], device: parts[3], reading: r)
            }
        }
    }

    private mutating func accept(workshop: String, device: String, reading r: Reading) {
        readings += 1
        let key = "\(workshop)/\(device)"
        var d = devices[key] ?? DeviceState()
        let ts = r.ts!
        if let seq = r.seq, let last = d.lastSeq, seq == last || (seq < last && ts <= d.lastTs!) {
            duplicates += 1
            return
        }
        if let last = d.lastTs, ts <= last {
            outOfOrder += 1
            return
        }
        d.lastTs = ts
        if let seq = r.seq { d.lastSeq = seq }
        let dev = registry.devices.first { $0.workshop == workshop && $0.id == device }!
        let craftsman: String? =
            switch dev.binding {
            case .loom(let l): registry.loom(l)!.craftsman(at: ts)
            case .craftsman(let c): c
            case .workshop: nil
            }
        let day = calendar.date(atMillis: ts)
        let hour = calendar.hourStart(atMillis: ts)
        let fields: [(String, Field)] = [("picks", .picks), ("pieces", .pieces), ("run_s", .runS), ("kwh", .kwh), ("l", .l)]
        for (name, f) in fields {
            guard let x = r[f] else { continue }
            var inc = 0.0
            if var s = d.fields[name] {
                if let dip = s.dip {
                    _ = dip
                    s.dip = nil
                    if x >= s.value {
                        glitches += 1
                        inc = plausible(x - s.value, from: s.ts, to: ts, name) ? x - s.value : 0
                    } else {
                        resets += 1
                        inc = x
                    }
                    s.value = x
                    s.ts = ts
                } else if x < s.value {
                    s.dip = x
                } else {
                    inc = plausible(x - s.value, from: s.ts, to: ts, name) ? x - s.value : 0
                    s.value = x
                    s.ts = ts
                }
                d.fields[name] = s
            } else {
                d.fields[name] = FieldState(value: x, ts: ts)
            }
            guard inc > 0 else { continue }
            switch name {
            case "kwh", "l":
                if let c = craftsman {
                    if name == "kwh" {
                        perDay[day, default: [:]][c, default: Totals()].kwh += inc
                    } else {
                        perDay[day, default: [:]][c, default: Totals()].litres += inc
                    }
                } else {
                    var m = meterHours[hour, default: [:]][workshop] ?? (0, 0)
                    if name == "kwh" { m.kwh += inc } else { m.l += inc }
                    meterHours[hour, default: [:]][workshop] = m
                }
            case "picks": perDay[day, default: [:]][craftsman!, default: Totals()].picks += inc
            case "pieces": perDay[day, default: [:]][craftsman!, default: Totals()].pieces += inc
            default:
                perDay[day, default: [:]][craftsman!, default: Totals()].runS += inc
                runHours[hour, default: [:]][workshop, default: [:]][craftsman!, default: 0] += inc
            }
        }
        devices[key] = d
    }

    private func plausible(_ inc: Double, from: Int64, to: Int64, _ name: String) -> Bool {
        inc <= limits[name]! * max(Double(to - from) / 60_000, 1)
    }

    /// Per day: craftsman totals after splitting workshop meters, and unattributed per workshop.
    mutating func result() -> [String: (craftsmen: [String: Totals], unattributed: [String: (kwh: Double, l: Double)])] {
        var out: [String: (craftsmen: [String: Totals], unattributed: [String: (kwh: Double, l: Double)])] = [:]
        for (day, c) in perDay { out[day, default: ([:], [:])].craftsmen = c }
        for (hour, byWorkshop) in meterHours {
            let day = calendar.date(atMillis: hour * 1000)
            for (ws, m) in byWorkshop {
                let runs = runHours[hour]?[ws] ?? [:]
                let total = runs.values.reduce(0, +)
                if total > 0 {
                    for (c, r) in runs {
                        out[day, default: ([:], [:])].craftsmen[c, default: Totals()].kwh += m.kwh * r / total
                        out[day, default: ([:], [:])].craftsmen[c, default: Totals()].litres += m.l * r / total
                    }
                } else {
                    var u = out[day, default: ([:], [:])].unattributed[ws] ?? (0, 0)
                    u.kwh += m.kwh
                    u.l += m.l
                    out[day, default: ([:], [:])].unattributed[ws] = u
                }
            }
        }
        return out
    }
}
