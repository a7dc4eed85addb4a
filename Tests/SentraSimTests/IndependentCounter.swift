import Foundation
import SentraConfig
import SentraCore
import SentraSim

/// Sums a published stream per the device protocol (docs/protocol.md) on its own, by parsing every message, without
/// `CounterRules` or the simulator's truth code: a second check of the simulator's ground
/// truth, which comes from what the simulator knows rather than from the stream.
struct IndependentCounter {
    struct Totals {
        var pieces = 0.0, picks = 0.0, runMs = 0.0, kwh = 0.0, litres = 0.0
    }
    struct LoomTotals {
        var pieces = 0.0, picks = 0.0, runMs = 0.0, stopMs = 0.0, faultMs = 0.0, stoppages = 0.0
    }
    struct WorkshopTotals {
        var runMs = 0.0, kwh = 0.0, litres = 0.0, voltageOutMs = 0.0, noPowerMs = 0.0
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
        var state: LoomState?
        var volts: Double?
        var sendsRunS = false
    }

    let registry: Registry
    var calendar: LocalCalendar
    let limits: [String: Double]
    let settings: IngestSettings
    var devices: [String: DeviceState] = [:]
    /// [day][craftsman], [day][loom], [day][workshop]
    var perDay: [String: [String: Totals]] = [:]
    var loomDays: [String: [String: LoomTotals]] = [:]
    var workshopDays: [String: [String: WorkshopTotals]] = [:]
    /// [hourStart][workshop] meter sums, and running ms per craftsman.
    var meterHours: [Int64: [String: (kwh: Double, l: Double)]] = [:]
    var runHours: [Int64: [String: [String: Double]]] = [:]
    var duplicates = 0, outOfOrder = 0, glitches = 0, resets = 0, rejected = 0, statuses = 0, readings = 0

    init(configuration: Configuration) {
        registry = configuration.registry
        calendar = configuration.calendar
        settings = configuration.ingest
        let r = configuration.ingest.rates
        limits = ["picks": r.limit(.picks), "pieces": r.limit(.pieces), "run_s": r.limit(.runS), "kwh": r.limit(.kwh), "l": r.limit(.l)]
    }

    /// One message; status messages change nothing (an `offline` in an accelerated replay
    /// arrives after every reading of the window).
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

    private func craftsman(_ dev: Device, at ts: Int64) -> String? {
        switch dev.binding {
        case .loom(let l): registry.loom(l)!.craftsman(at: ts)
        case .craftsman(let c): c
        case .workshop: nil
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
        let dev = registry.devices.first { $0.workshop == workshop && $0.id == device }!
        if r[.runS] != nil { d.sendsRunS = true }
        // The time since the last reading, under the state and voltage it left.
        if let last = d.lastTs {
            let end = min(ts, last + settings.stalenessMillis)
            if let s = d.state {
                switch s {
                case .run: if !d.sendsRunS { span(dev, from: last, to: end, .run) }
                case .stop: span(dev, from: last, to: end, .stop)
                case .fault: span(dev, from: last, to: end, .fault)
                }
            }
            if let v = d.volts {
                if v < settings.noPowerBelow {
                    span(dev, from: last, to: end, .noPower)
                } else if v < settings.voltageLow || v > settings.voltageHigh {
                    span(dev, from: last, to: end, .voltageOut)
                }
            }
        }
        d.lastTs = ts
        if let seq = r.seq { d.lastSeq = seq }
        let craftsman = craftsman(dev, at: ts)
        let day = calendar.date(atMillis: ts)
        let hour = calendar.hourStart(atMillis: ts)
        let fields: [(String, Field)] = [("picks", .picks), ("pieces", .pieces), ("run_s", .runS), ("kwh", .kwh), ("l", .l)]
        for (name, f) in fields {
            guard let x = r[f] else { continue }
            var inc = 0.0
            if var s = d.fields[name] {
                if s.dip != nil {
                    s.dip = nil
                    if x >= s.value {
                        glitches += 1
                        inc = plausible(x - s.value, from: s.ts, to: ts, name) ? x - s.value : 0
                    } else {
                        resets += 1
                        inc = plausible(x, from: s.ts, to: ts, name) ? x : 0
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
                if name == "kwh" { workshopDays[day, default: [:]][workshop, default: .init()].kwh += inc }
                if name == "l" { workshopDays[day, default: [:]][workshop, default: .init()].litres += inc }
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
            case "picks":
                perDay[day, default: [:]][craftsman!, default: Totals()].picks += inc
                loomDays[day, default: [:]][dev.loom!, default: .init()].picks += inc
            case "pieces":
                perDay[day, default: [:]][craftsman!, default: Totals()].pieces += inc
                loomDays[day, default: [:]][dev.loom!, default: .init()].pieces += inc
            default:
                running(dev, craftsman: craftsman!, hour: hour, day: day, ms: inc * 1000)
                loomDays[day, default: [:]][dev.loom!, default: .init()].runMs += inc * 1000
            }
        }
        if let s = r.state {
            if s != .run && d.state == .run { loomDays[day, default: [:]][dev.loom!, default: .init()].stoppages += 1 }
            d.state = s
        }
        if let v = r[.v] { d.volts = v }
        devices[key] = d
    }

    private mutating func running(_ dev: Device, craftsman: String, hour: Int64, day: String, ms: Double) {
        perDay[day, default: [:]][craftsman, default: Totals()].runMs += ms
        workshopDays[day, default: [:]][dev.workshop, default: .init()].runMs += ms
        runHours[hour, default: [:]][dev.workshop, default: [:]][craftsman, default: 0] += ms
    }

    enum Span { case run, stop, fault, voltageOut, noPower }

    /// Books `[from, to)` hour by hour; running time goes to the craftsman at each part's start.
    private mutating func span(_ dev: Device, from: Int64, to: Int64, _ kind: Span) {
        var t = from
        while t < to {
            let hour = calendar.hourStart(atMillis: t)
            let end = min(to, (hour + 3600) * 1000)
            let ms = Double(end - t)
            let day = calendar.date(atMillis: t)
            switch kind {
            case .run:
                loomDays[day, default: [:]][dev.loom!, default: .init()].runMs += ms
                running(dev, craftsman: craftsman(dev, at: t)!, hour: hour, day: day, ms: ms)
            case .stop: loomDays[day, default: [:]][dev.loom!, default: .init()].stopMs += ms
            case .fault: loomDays[day, default: [:]][dev.loom!, default: .init()].faultMs += ms
            case .voltageOut: workshopDays[day, default: [:]][dev.workshop, default: .init()].voltageOutMs += ms
            case .noPower: workshopDays[day, default: [:]][dev.workshop, default: .init()].noPowerMs += ms
            }
            t = end
        }
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

/// Whole seconds from milliseconds, as the report rounds them.
func wholeSeconds(_ ms: Double) -> Int64 { Int64((ms / 1000).rounded()) }
