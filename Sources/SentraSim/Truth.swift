import Foundation
import SentraCore

/// One craftsman's production in a period: the shape of `sentractl report --format json`.
public struct CraftsmanTotals: Codable, Sendable, Equatable {
    public var craftsman: String
    public var pieces: Int64
    public var picks: Int64
    public var runSeconds: Int64
    public var kwh: Double
    public var waterL: Double

    enum CodingKeys: String, CodingKey {
        case craftsman, pieces, picks, kwh
        case runSeconds = "run_seconds"
        case waterL = "water_l"
    }
}

/// A workshop's meter readings that no craftsman's running looms could carry.
public struct UnattributedTotals: Codable, Sendable, Equatable {
    public var workshop: String
    public var kwh: Double
    public var waterL: Double

    enum CodingKeys: String, CodingKey {
        case workshop, kwh
        case waterL = "water_l"
    }
}

/// A day's (or the window's) report, as `sentractl report --format json` prints it.
public struct PeriodReport: Codable, Sendable, Equatable {
    public var craftsmen: [CraftsmanTotals]
    public var unattributed: [UnattributedTotals]
}

/// The window in which an alert-worthy fault was injected.
public struct FaultWindow: Codable, Sendable, Equatable {
    /// The CONTRACT §2 rule that should fire.
    public var rule: String
    public var kind: String
    public var workshop: String
    public var device: String
    /// RFC 3339 with the sentra's offset.
    public var start: String
    public var end: String
    public var startMs: Int64
    public var endMs: Int64

    enum CodingKeys: String, CodingKey {
        case rule, kind, workshop, device, start, end
        case startMs = "start_ms"
        case endMs = "end_ms"
    }
}

/// Every fault injected, alert-worthy or not.
public struct InjectedFault: Codable, Sendable, Equatable {
    public var kind: String
    public var workshop: String?
    public var device: String?
    public var at: String
    public var atMs: Int64

    enum CodingKeys: String, CodingKey {
        case kind, workshop, device, at
        case atMs = "at_ms"
    }
}

/// What a correct implementation of CONTRACT §1 counts from the stream the simulator published.
public struct TruthReport: Codable, Sendable, Equatable {
    public var sentra: String
    public var timeZone: String
    public var from: String
    public var to: String
    public var seed: UInt64
    /// MQTT messages published (readings, batches, status and garbage).
    public var messages: Int
    /// Reading objects inside them (a batch holds several).
    public var readings: Int
    public var days: [String: PeriodReport]
    public var total: PeriodReport
    public var faults: [FaultWindow]
    public var injected: [InjectedFault]

    enum CodingKeys: String, CodingKey {
        case sentra, from, to, seed, messages, readings, days, total, faults, injected
        case timeZone = "time_zone"
    }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}

/// Sums the published readings exactly as CONTRACT §1 prescribes: a consumer that sees the
/// stream in publish order and never loses a message. Cheap enough to run on the hot path.
struct GroundTruth {
    private let registry: Registry
    private var calendar: LocalCalendar
    private let rates: PlausibleRates
    private var lastTs: [Int64?]
    private var lastSeq: [Int64?]
    private var counters: [[CounterBaseline?]]
    private let deviceWorkshop: [Int]
    /// Per device: craftsman index for a craftsman-bound meter, else -1.
    private let fixedCraftsman: [Int]
    /// Per device: its loom's assignments, for a loom-bound device.
    private let assignments: [[(since: Int64, craftsman: Int)]]
    private let isWorkshopMeter: [Bool]
    private let craftsmanCount: Int

    /// Per local day number: per craftsman sums, and per workshop unattributed ones.
    private var days: [Int64: DaySums] = [:]
    private var meterHours: [HourWorkshop: MeterSums] = [:]
    private var runHours: [HourWorkshop: [Double]] = [:]

    struct DaySums {
        var pieces: [Double]
        var picks: [Double]
        var runS: [Double]
        var kwh: [Double]
        var litres: [Double]
        var unattributedKwh: [Double]
        var unattributedLitres: [Double]
        init(craftsmen: Int, workshops: Int) {
            pieces = Array(repeating: 0, count: craftsmen)
            picks = pieces
            runS = pieces
            kwh = pieces
            litres = pieces
            unattributedKwh = Array(repeating: 0, count: workshops)
            unattributedLitres = unattributedKwh
        }
    }

    struct HourWorkshop: Hashable {
        var hour: Int64
        var workshop: Int
    }

    struct MeterSums {
        var kwh = 0.0
        var litres = 0.0
    }

    init(registry: Registry, calendar: LocalCalendar, rates: PlausibleRates) {
        self.registry = registry
        self.calendar = calendar
        self.rates = rates
        let n = registry.devices.count
        lastTs = Array(repeating: nil, count: n)
        lastSeq = Array(repeating: nil, count: n)
        counters = Array(repeating: Array(repeating: nil, count: Field.count), count: n)
        let cIndex = Dictionary(registry.craftsmen.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        craftsmanCount = registry.craftsmen.count
        deviceWorkshop = registry.devices.map { registry.workshopIndex($0.workshop) ?? 0 }
        fixedCraftsman = registry.devices.map { d in d.craftsman.flatMap { cIndex[$0] } ?? -1 }
        assignments = registry.devices.map { d in
            guard let l = d.loom, let loom = registry.loom(l) else { return [] }
            return loom.assignments.map { ($0.since, cIndex[$0.craftsman] ?? -1) }
        }
        isWorkshopMeter = registry.devices.map { $0.binding == .workshop }
    }

    private func craftsman(device: Int, at ts: Int64) -> Int {
        let a = assignments[device]
        if a.isEmpty { return fixedCraftsman[device] }
        var c = a[0].craftsman
        for x in a.dropFirst() where x.since <= ts { c = x.craftsman }
        return c
    }

    private mutating func dayNumber(_ ms: Int64) -> Int64 {
        let off = calendar.offset(atMillis: ms)
        return floorDiv(floorDiv(ms, 1000) + off, 86_400)
    }

    mutating func feed(device: Int, reading r: Reading) {
        guard let ts = r.ts else { return }
        if let seq = r.seq, let last = lastSeq[device] {
            if seq == last || (seq < last && ts <= (lastTs[device] ?? .min)) { return }
        }
        if let last = lastTs[device], ts <= last { return }
        lastTs[device] = ts
        if let seq = r.seq { lastSeq[device] = seq }

        var dayIndex: Int64?
        var hour: Int64 = 0
        let c = craftsman(device: device, at: ts)
        for f in Field.allCases where f.isCounter && r.has(f) {
            let decision = CounterRules.apply(
                r.values[f.rawValue], ts: ts, to: &counters[device][f.rawValue], maxPerMinute: rates.limit(f))
            let inc: Double
            switch decision {
            case .increase(let v), .glitch(let v), .reset(let v): inc = v
            case .baseline, .pendingDip, .implausible: inc = 0
            }
            guard inc > 0 else { continue }
            if dayIndex == nil {
                dayIndex = dayNumber(ts)
                hour = calendar.hourStart(atMillis: ts)
            }
            let day = dayIndex!
            if days[day] == nil { days[day] = DaySums(craftsmen: craftsmanCount, workshops: registry.workshops.count) }
            switch f {
            case .kwh, .l:
                if isWorkshopMeter[device] {
                    let key = HourWorkshop(hour: hour, workshop: deviceWorkshop[device])
                    if f == .kwh {
                        meterHours[key, default: MeterSums()].kwh += inc
                    } else {
                        meterHours[key, default: MeterSums()].litres += inc
                    }
                } else if c >= 0 {
                    if f == .kwh { days[day]!.kwh[c] += inc } else { days[day]!.litres[c] += inc }
                }
            case .picks: if c >= 0 { days[day]!.picks[c] += inc }
            case .pieces: if c >= 0 { days[day]!.pieces[c] += inc }
            case .runS:
                guard c >= 0 else { break }
                days[day]!.runS[c] += inc
                let key = HourWorkshop(hour: hour, workshop: deviceWorkshop[device])
                if runHours[key] == nil { runHours[key] = Array(repeating: 0, count: craftsmanCount) }
                runHours[key]![c] += inc
            default: break
            }
        }
    }

    /// Splits the workshop meters' hours and renders the report.
    mutating func report(dayNumbers: [Int64]) -> (days: [String: PeriodReport], total: PeriodReport) {
        var sums = days
        let w = registry.workshops.count
        // Hours in a fixed order, so floating-point sums come out the same on every run.
        for key in meterHours.keys.sorted(by: { ($0.hour, $0.workshop) < ($1.hour, $1.workshop) }) {
            let m = meterHours[key]!
            let day = dayNumber(key.hour * 1000)
            if sums[day] == nil { sums[day] = DaySums(craftsmen: craftsmanCount, workshops: w) }
            let runs = runHours[key] ?? []
            let totalRun = runs.reduce(0, +)
            if totalRun > 0 {
                for (c, r) in runs.enumerated() where r > 0 {
                    sums[day]!.kwh[c] += m.kwh * r / totalRun
                    sums[day]!.litres[c] += m.litres * r / totalRun
                }
            } else {
                sums[day]!.unattributedKwh[key.workshop] += m.kwh
                sums[day]!.unattributedLitres[key.workshop] += m.litres
            }
        }
        var allDays = Set(dayNumbers)
        allDays.formUnion(sums.keys)
        var total = DaySums(craftsmen: craftsmanCount, workshops: w)
        var out: [String: PeriodReport] = [:]
        for day in allDays.sorted() {
            let s = sums[day] ?? DaySums(craftsmen: craftsmanCount, workshops: w)
            out[LocalCalendar.civilDate(daysSinceEpoch: day)] = render(s)
            for c in 0..<craftsmanCount {
                total.pieces[c] += s.pieces[c]
                total.picks[c] += s.picks[c]
                total.runS[c] += s.runS[c]
                total.kwh[c] += s.kwh[c]
                total.litres[c] += s.litres[c]
            }
            for i in 0..<w {
                total.unattributedKwh[i] += s.unattributedKwh[i]
                total.unattributedLitres[i] += s.unattributedLitres[i]
            }
        }
        return (out, render(total))
    }

    private func render(_ s: DaySums) -> PeriodReport {
        PeriodReport(
            craftsmen: registry.craftsmen.enumerated().map { i, c in
                CraftsmanTotals(
                    craftsman: c.id, pieces: Int64(s.pieces[i].rounded()), picks: Int64(s.picks[i].rounded()),
                    runSeconds: Int64(s.runS[i].rounded()), kwh: s.kwh[i], waterL: s.litres[i])
            },
            unattributed: registry.workshops.enumerated().map { i, ws in
                UnattributedTotals(workshop: ws.id, kwh: s.unattributedKwh[i], waterL: s.unattributedLitres[i])
            })
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// RFC 3339 with the calendar's offset, e.g. `2026-11-24T07:00:00+07:00`.
func rfc3339(_ ms: Int64, calendar: inout LocalCalendar) -> String {
    let off = calendar.offset(atMillis: ms)
    let local = floorDiv(ms, 1000) + off
    let day = floorDiv(local, 86_400)
    let sod = local - day * 86_400
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let sign = off < 0 ? "-" : "+"
    let a = abs(off)
    let frac = ms - floorDiv(ms, 1000) * 1000
    let fracText = frac == 0 ? "" : "." + String(String(frac + 1000).dropFirst())
    return "\(LocalCalendar.civilDate(daysSinceEpoch: day))T\(two(sod / 3600)):\(two(sod / 60 % 60)):\(two(sod % 60))\(fracText)"
        + "\(sign)\(two(a / 3600)):\(two(a / 60 % 60))"
}
