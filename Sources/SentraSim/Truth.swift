import Foundation
import SentraCore

// MARK: The truth as JSON

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

/// A workshop in a period, as `sentractl report --by workshop --format json` prints it:
/// its looms' production and running time, all its meters, and its supply's quality.
public struct WorkshopTotals: Codable, Sendable, Equatable {
    public var workshop: String
    public var pieces: Int64
    public var picks: Int64
    public var runSeconds: Int64
    /// Every meter of the workshop, whoever it is bound to.
    public var kwh: Double
    public var waterL: Double
    public var voltageOutOfBandSeconds: Int64
    public var noPowerSeconds: Int64

    enum CodingKeys: String, CodingKey {
        case workshop, pieces, picks, kwh
        case runSeconds = "run_seconds"
        case waterL = "water_l"
        case voltageOutOfBandSeconds = "voltage_out_of_band_seconds"
        case noPowerSeconds = "no_power_seconds"
    }
}

/// A loom in a period, as `sentractl report --by loom --format json` prints it.
public struct LoomTotals: Codable, Sendable, Equatable {
    public var loom: String
    /// The craftsman the loom is assigned to at the end of the period.
    public var craftsman: String
    public var pieces: Int64
    public var picks: Int64
    public var runSeconds: Int64
    public var stopSeconds: Int64
    public var faultSeconds: Int64
    /// Readings saying `stop` or `fault` right after one saying `run`.
    public var stoppages: Int64

    enum CodingKeys: String, CodingKey {
        case loom, craftsman, pieces, picks, stoppages
        case runSeconds = "run_seconds"
        case stopSeconds = "stop_seconds"
        case faultSeconds = "fault_seconds"
    }
}

/// A day's (or the window's) report: `craftsmen` and `unattributed` as `sentractl report
/// --format json` prints them, with `workshops` and `looms` as `--by workshop` and `--by loom` do.
public struct PeriodReport: Codable, Sendable, Equatable {
    public var craftsmen: [CraftsmanTotals]
    public var unattributed: [UnattributedTotals]
    public var workshops: [WorkshopTotals]
    public var looms: [LoomTotals]
}

/// The window in which an alert-worthy fault was injected.
public struct FaultWindow: Codable, Sendable, Equatable {
    /// The alert rule (docs/alerts.md) that should fire.
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

/// What a correct implementation of the device protocol (docs/protocol.md) counts from the stream the simulator
/// published, computed from what the simulator sent and the faults it injected.
public struct TruthReport: Codable, Sendable, Equatable {
    public var sentra: String
    public var timeZone: String
    public var from: String
    public var to: String
    public var seed: UInt64
    /// Whether the loom boards sent `run_s` (else running time comes from `state`).
    public var sendsRunS: Bool
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
        case sendsRunS = "sends_run_s"
    }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}

// MARK: What the simulator knows about a reading

/// The cumulative counters a reading can carry, each in the integer units the board sends:
/// picks, pieces, skeins and run_s whole, kwh in thousandths (Wh), l in tenths of a litre.
enum SimCounter: Int, CaseIterable {
    case picks, pieces, skeins, runS, kwh, litres
}

/// One reading as the simulator put it on the wire, with what it knows about it.
struct SentReading: Sendable {
    var ts: Int64
    var seq: Int64
    /// How many times the board had restarted when it made the reading.
    var boot: Int32 = 0
    /// The board sent all its counters as 0 this once.
    var glitch = false
    /// A second copy of a reading already sent (the duplicate fault), or an old reading sent
    /// again late (the out-of-order fault): it changes nothing.
    var repeated = false
    var state: LoomState?
    /// A power meter's `v` in tenths of a volt, exactly as written; -1 when absent.
    var decivolts: Int64 = -1
    var counters: InlineArray<6, Int64> = .init(repeating: 0)
    var mask: UInt8 = 0

    init(ts: Int64, seq: Int64) {
        self.ts = ts
        self.seq = seq
    }

    @inline(__always) func has(_ c: SimCounter) -> Bool { mask & (1 << UInt8(c.rawValue)) != 0 }
    @inline(__always) mutating func set(_ c: SimCounter, _ units: Int64) {
        counters[c.rawValue] = units
        mask |= 1 << UInt8(c.rawValue)
    }
}

/// One counter field of one device: the last value that counted, in the board's units, and
/// whether the last reading left a drop for the next one to settle.
struct CounterTrack {
    enum Pending {
        case none
        /// A glitch's 0 under a non-zero value.
        case glitch
        /// The first reading after the board restarted, lower than the last value.
        case restart
    }
    var last: Int64?
    var pending = Pending.none

    /// The increase reading value `v` counts. `glitch`: the board sent 0 this once;
    /// `restarted`: the board restarted since the device's previous accepted reading.
    mutating func accept(_ v: Int64, glitch: Bool, restarted: Bool) -> Int64 {
        // The device's first value is its baseline.
        guard let l = last else {
            last = v
            return 0
        }
        switch pending {
        case .none:
            if restarted {
                // The first reading after a restart counts nothing: the next one shows it was a
                // restart. Where the count since the restart has already reached the last value,
                // the restart does not show at all and this is a plain increase.
                if v < l {
                    pending = .restart
                    return 0
                }
            } else if glitch {
                // A glitch counts nothing and leaves the last value; the next reading counts
                // from that value (a glitch under a 0 is no drop at all).
                if l > 0 { pending = .glitch }
                return 0
            }
            last = v
            return v - l
        case .glitch, .restart:
            pending = .none
            last = v
            // After a glitch: the increase from the value before it. After a restart's first
            // reading: the whole value, the count since the restart. A glitch's drop followed
            // by a restart's first reading confirms that restart at once (the simulator never
            // sends two glitches in a row, which would read as a restart to 0). Where the value
            // has reached the last one again, the drop reads as a glitch.
            return v >= l ? v - l : v
        }
    }
}

// MARK: Local hours

/// Local hours and days from Foundation's calendar in the sentra's time zone, each found
/// once and numbered in the order first seen.
struct LocalHours {
    struct Hour {
        /// `[start, end)`, ms since the epoch.
        var start: Int64
        var end: Int64
        var day: Int
    }
    struct Day {
        var date: String
        /// The end of the local day, ms.
        var end: Int64
    }

    private var calendar: Calendar
    private(set) var hours: [Hour] = []
    private(set) var days: [Day] = []
    private var hourByStart: [Int64: Int] = [:]
    private var dayByDate: [String: Int] = [:]
    private var last = -1
    private var previous = -1

    init(timeZone: TimeZone) {
        calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
    }

    /// The index of the local hour holding `ms`.
    @inline(__always) mutating func hour(at ms: Int64) -> Int {
        if last >= 0, hours[last].start <= ms, ms < hours[last].end { return last }
        if previous >= 0, hours[previous].start <= ms, ms < hours[previous].end {
            swap(&last, &previous)
            return last
        }
        let i = find(ms)
        previous = last
        last = i
        return i
    }

    private mutating func find(_ ms: Int64) -> Int {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let interval = calendar.dateInterval(of: .hour, for: date) ?? DateInterval(start: date, duration: 0)
        var start = Self.millis(interval.start)
        var end = Self.millis(interval.end)
        if !(start <= ms && ms < end) {
            // Never expected: fall back to the hour of the current offset.
            let off = Int64(calendar.timeZone.secondsFromGMT(for: date)) * 1000
            start = floorDiv(ms + off, 3_600_000) * 3_600_000 - off
            end = start + 3_600_000
        }
        if let i = hourByStart[start] { return i }
        let c = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(start) / 1000))
        let dateText = Self.date(c.year ?? 0, c.month ?? 0, c.day ?? 0)
        let day: Int
        if let d = dayByDate[dateText] {
            day = d
        } else {
            let dayInterval = calendar.dateInterval(of: .day, for: Date(timeIntervalSince1970: Double(start) / 1000))
            day = days.count
            days.append(Day(date: dateText, end: dayInterval.map { Self.millis($0.end) } ?? end))
            dayByDate[dateText] = day
        }
        hours.append(Hour(start: start, end: end, day: day))
        hourByStart[start] = hours.count - 1
        return hours.count - 1
    }

    private static func millis(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded()) }

    static func date(_ y: Int, _ m: Int, _ d: Int) -> String {
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }
}

// MARK: The ground truth

/// Sums what the simulator sent, per the device protocol (docs/protocol.md), from its own knowledge: the integer values
/// it wrote, which readings were glitches, repeats or made after a restart, and which
/// craftsman works each loom when. It applies none of the daemon's code: acceptance, counter
/// increases, running time, the energy split and power quality are its own arithmetic, and
/// hours and days come from Foundation's calendar in the sentra's time zone.
///
/// Readings are fed as they are published; an `offline` status changes nothing here (its
/// receive time lies after every replayed reading, see docs/simulator.md).
struct GroundTruth {
    /// What the configuration says about a device.
    struct DeviceFacts {
        var kind: DeviceKind
        var workshop: Int
        /// A loom board's loom (registry index), else -1.
        var loom: Int
        /// A loom board's or loom-bound meter's assignments: craftsman index (-1 unknown) from `since`.
        var assignments: [(since: Int64, craftsman: Int)]
        /// A craftsman-bound meter's craftsman, else -1.
        var craftsman: Int
        /// A meter bound to the workshop: split among its craftsmen.
        var shared: Bool
        /// The board sends `run_s`: its increases are the running time.
        var sendsRunS: Bool
    }

    /// What the truth remembers of a device between readings.
    struct DeviceLive {
        var accepted = false
        var boot: Int32 = 0
        var lastTs: Int64 = 0
        var state: LoomState?
        var decivolts: Int64 = -1
        /// Inline, so updating a device's counters allocates nothing.
        var counters = InlineArray<6, CounterTrack>(repeating: CounterTrack())
    }

    struct CraftsmanSums {
        var pieces: Int64 = 0, picks: Int64 = 0, runMs: Int64 = 0
        /// From meters bound to him (or his loom), in meter units.
        var kwhUnits: Int64 = 0, litreUnits: Int64 = 0
    }
    struct LoomSums {
        var pieces: Int64 = 0, picks: Int64 = 0, runMs: Int64 = 0, stopMs: Int64 = 0, faultMs: Int64 = 0, stoppages: Int64 = 0
    }
    struct WorkshopSums {
        var pieces: Int64 = 0, picks: Int64 = 0, runMs: Int64 = 0
        var kwhUnits: Int64 = 0, litreUnits: Int64 = 0
        var voltageOutMs: Int64 = 0, noPowerMs: Int64 = 0
    }
    struct DaySums {
        var craftsmen: [CraftsmanSums]
        var looms: [LoomSums]
        var workshops: [WorkshopSums]
    }
    /// One local hour's workshop meters to split, and its running time per workshop and craftsman.
    struct HourSplit {
        var sharedKwh: [Int64]
        var sharedLitres: [Int64]
        /// `workshop * craftsmen + craftsman` → running ms.
        var running: [Int: Int64] = [:]
    }

    private let registry: Registry
    private let facts: [DeviceFacts]
    /// Per loom of the registry: who works it from when.
    private let loomAssignments: [[(since: Int64, craftsman: String)]]
    private var live: [DeviceLive]
    private let stalenessMs: Int64
    private let voltageLow: Double
    private let voltageHigh: Double
    private let noPowerBelow: Double
    private var hours: LocalHours
    private var days: [DaySums] = []
    private var splits: [HourSplit] = []
    private let craftsmen: Int
    private let looms: Int
    private let workshops: Int

    private enum Span { case run, stop, fault, voltageOut, noPower }

    init(registry: Registry, timeZone: TimeZone, settings: IngestSettings, facts: [DeviceFacts]) {
        self.registry = registry
        self.facts = facts
        live = Array(repeating: DeviceLive(), count: facts.count)
        stalenessMs = settings.stalenessMillis
        voltageLow = settings.voltageLow
        voltageHigh = settings.voltageHigh
        noPowerBelow = settings.noPowerBelow
        hours = LocalHours(timeZone: timeZone)
        loomAssignments = registry.looms.map { l in l.assignments.map { ($0.since, $0.craftsman) } }
        craftsmen = registry.craftsmen.count
        looms = registry.looms.count
        workshops = registry.workshops.count
    }

    /// The hour holding `ms`, with the day and split slots it needs.
    @inline(__always) private mutating func hour(at ms: Int64) -> Int {
        let h = hours.hour(at: ms)
        while splits.count < hours.hours.count {
            splits.append(HourSplit(sharedKwh: Array(repeating: 0, count: workshops), sharedLitres: Array(repeating: 0, count: workshops)))
        }
        while days.count < hours.days.count {
            days.append(
                DaySums(
                    craftsmen: Array(repeating: CraftsmanSums(), count: craftsmen), looms: Array(repeating: LoomSums(), count: looms),
                    workshops: Array(repeating: WorkshopSums(), count: workshops)))
        }
        return h
    }

    @inline(__always) private func craftsman(_ d: Int, at ts: Int64) -> Int {
        let a = facts[d].assignments
        if a.isEmpty { return facts[d].craftsman }
        var c = a[0].craftsman
        for x in a.dropFirst() where x.since <= ts { c = x.craftsman }
        return c
    }

    /// One reading the simulator published, in publish order.
    mutating func feed(device d: Int, _ r: SentReading) {
        // A repeat is a `duplicate` (same seq, or lower seq at no later time): it changes nothing.
        guard !r.repeated else { return }
        let f = facts[d]
        var s = live[d]
        let restarted = s.accepted && r.boot != s.boot

        // The time since the device's previous reading, under the state and voltage it left,
        // for at most the staleness limit.
        if s.accepted {
            let end = min(r.ts, s.lastTs + stalenessMs)
            if let state = s.state {
                switch state {
                case .run: if !f.sendsRunS { span(d, from: s.lastTs, to: end, .run) }
                case .stop: span(d, from: s.lastTs, to: end, .stop)
                case .fault: span(d, from: s.lastTs, to: end, .fault)
                }
            }
            if s.decivolts >= 0 {
                let v = Double(s.decivolts) / 10
                if v < noPowerBelow {
                    span(d, from: s.lastTs, to: end, .noPower)
                } else if v < voltageLow || v > voltageHigh {
                    span(d, from: s.lastTs, to: end, .voltageOut)
                }
            }
        }

        if r.mask != 0 {
            let h = hour(at: r.ts)
            let day = hours.hours[h].day
            let c = craftsman(d, at: r.ts)
            for k in SimCounter.allCases where r.has(k) {
                let inc = s.counters[k.rawValue].accept(r.counters[k.rawValue], glitch: r.glitch, restarted: restarted)
                guard inc > 0 else { continue }
                switch k {
                case .picks:
                    if c >= 0 { days[day].craftsmen[c].picks += inc }
                    if f.loom >= 0 { days[day].looms[f.loom].picks += inc }
                    days[day].workshops[f.workshop].picks += inc
                case .pieces:
                    if c >= 0 { days[day].craftsmen[c].pieces += inc }
                    if f.loom >= 0 { days[day].looms[f.loom].pieces += inc }
                    days[day].workshops[f.workshop].pieces += inc
                case .skeins: break
                case .runS: running(d, craftsman: c, hour: h, ms: inc * 1000)
                case .kwh:
                    days[day].workshops[f.workshop].kwhUnits += inc
                    if f.shared {
                        splits[h].sharedKwh[f.workshop] += inc
                    } else if c >= 0 {
                        days[day].craftsmen[c].kwhUnits += inc
                    }
                case .litres:
                    days[day].workshops[f.workshop].litreUnits += inc
                    if f.shared {
                        splits[h].sharedLitres[f.workshop] += inc
                    } else if c >= 0 {
                        days[day].craftsmen[c].litreUnits += inc
                    }
                }
            }
        }
        if let state = r.state {
            if state != .run && s.state == .run && f.loom >= 0 {
                let day = hours.hours[hour(at: r.ts)].day
                days[day].looms[f.loom].stoppages += 1
            }
            s.state = state
        }
        if r.decivolts >= 0 { s.decivolts = r.decivolts }
        s.accepted = true
        s.boot = r.boot
        s.lastTs = r.ts
        live[d] = s
    }

    /// Books `[from, to)` of device `d`, split at local hours, each part to the craftsman
    /// assigned at its start.
    private mutating func span(_ d: Int, from: Int64, to: Int64, _ kind: Span) {
        var t = from
        let f = facts[d]
        while t < to {
            let h = hour(at: t)
            let end = min(to, hours.hours[h].end)
            let ms = end - t
            let day = hours.hours[h].day
            switch kind {
            case .run: running(d, craftsman: craftsman(d, at: t), hour: h, ms: ms)
            case .stop: if f.loom >= 0 { days[day].looms[f.loom].stopMs += ms }
            case .fault: if f.loom >= 0 { days[day].looms[f.loom].faultMs += ms }
            case .voltageOut: days[day].workshops[f.workshop].voltageOutMs += ms
            case .noPower: days[day].workshops[f.workshop].noPowerMs += ms
            }
            t = end
        }
    }

    private mutating func running(_ d: Int, craftsman c: Int, hour h: Int, ms: Int64) {
        let f = facts[d]
        let day = hours.hours[h].day
        if f.loom >= 0 { days[day].looms[f.loom].runMs += ms }
        days[day].workshops[f.workshop].runMs += ms
        guard c >= 0 else { return }
        days[day].craftsmen[c].runMs += ms
        splits[h].running[f.workshop * craftsmen + c, default: 0] += ms
    }

    /// Splits the workshop meters hour by hour and renders every day of `[from, to)` (and
    /// any other day with readings) and their total.
    mutating func report(from: Int64, to: Int64) -> (days: [String: PeriodReport], total: PeriodReport) {
        var t = from
        while t < to { t = hours.hours[hour(at: t)].end }
        let dayCount = hours.days.count
        // Shares of workshop meters, in meter units, per day and craftsman; what no running
        // loom carried stays with the workshop.
        var shareKwh = Array(repeating: Array(repeating: 0.0, count: craftsmen), count: dayCount)
        var shareLitres = shareKwh
        var unattributedKwh = Array(repeating: Array(repeating: Int64(0), count: workshops), count: dayCount)
        var unattributedLitres = unattributedKwh
        // Hours in time order, craftsmen in index order: the same floating-point sums every run.
        for h in hours.hours.indices.sorted(by: { hours.hours[$0].start < hours.hours[$1].start }) {
            let split = splits[h]
            let day = hours.hours[h].day
            for w in 0..<workshops where split.sharedKwh[w] != 0 || split.sharedLitres[w] != 0 {
                var runs: [(craftsman: Int, ms: Int64)] = []
                for c in 0..<craftsmen {
                    if let ms = split.running[w * craftsmen + c], ms > 0 { runs.append((c, ms)) }
                }
                let total = runs.reduce(Int64(0)) { $0 + $1.ms }
                if total > 0 {
                    for (c, ms) in runs {
                        shareKwh[day][c] += Double(split.sharedKwh[w]) * Double(ms) / Double(total)
                        shareLitres[day][c] += Double(split.sharedLitres[w]) * Double(ms) / Double(total)
                    }
                } else {
                    unattributedKwh[day][w] += split.sharedKwh[w]
                    unattributedLitres[day][w] += split.sharedLitres[w]
                }
            }
        }
        var total = DaySums(
            craftsmen: Array(repeating: CraftsmanSums(), count: craftsmen), looms: Array(repeating: LoomSums(), count: looms),
            workshops: Array(repeating: WorkshopSums(), count: workshops))
        var totalShareKwh = Array(repeating: 0.0, count: craftsmen)
        var totalShareLitres = totalShareKwh
        var totalUnKwh = Array(repeating: Int64(0), count: workshops)
        var totalUnLitres = totalUnKwh
        var out: [String: PeriodReport] = [:]
        var end = to
        for day in (0..<dayCount).sorted(by: { hours.days[$0].date < hours.days[$1].date }) {
            let s = days[day]
            out[hours.days[day].date] = render(
                s, shareKwh: shareKwh[day], shareLitres: shareLitres[day], unattributedKwh: unattributedKwh[day],
                unattributedLitres: unattributedLitres[day], end: min(hours.days[day].end, to))
            end = max(end, min(hours.days[day].end, to))
            for c in 0..<craftsmen {
                total.craftsmen[c].pieces += s.craftsmen[c].pieces
                total.craftsmen[c].picks += s.craftsmen[c].picks
                total.craftsmen[c].runMs += s.craftsmen[c].runMs
                total.craftsmen[c].kwhUnits += s.craftsmen[c].kwhUnits
                total.craftsmen[c].litreUnits += s.craftsmen[c].litreUnits
                totalShareKwh[c] += shareKwh[day][c]
                totalShareLitres[c] += shareLitres[day][c]
            }
            for l in 0..<looms {
                total.looms[l].pieces += s.looms[l].pieces
                total.looms[l].picks += s.looms[l].picks
                total.looms[l].runMs += s.looms[l].runMs
                total.looms[l].stopMs += s.looms[l].stopMs
                total.looms[l].faultMs += s.looms[l].faultMs
                total.looms[l].stoppages += s.looms[l].stoppages
            }
            for w in 0..<workshops {
                total.workshops[w].pieces += s.workshops[w].pieces
                total.workshops[w].picks += s.workshops[w].picks
                total.workshops[w].runMs += s.workshops[w].runMs
                total.workshops[w].kwhUnits += s.workshops[w].kwhUnits
                total.workshops[w].litreUnits += s.workshops[w].litreUnits
                total.workshops[w].voltageOutMs += s.workshops[w].voltageOutMs
                total.workshops[w].noPowerMs += s.workshops[w].noPowerMs
                totalUnKwh[w] += unattributedKwh[day][w]
                totalUnLitres[w] += unattributedLitres[day][w]
            }
        }
        let totalReport = render(
            total, shareKwh: totalShareKwh, shareLitres: totalShareLitres, unattributedKwh: totalUnKwh,
            unattributedLitres: totalUnLitres, end: end)
        return (out, totalReport)
    }

    /// Whole seconds from summed milliseconds, rounded half up as the report does.
    private static func seconds(_ ms: Int64) -> Int64 { (ms + 500) / 1000 }
    private static func kwh(_ units: Double) -> Double { units / 1000 }
    private static func litres(_ units: Double) -> Double { units / 10 }

    private func render(
        _ s: DaySums, shareKwh: [Double], shareLitres: [Double], unattributedKwh: [Int64], unattributedLitres: [Int64], end: Int64
    ) -> PeriodReport {
        PeriodReport(
            craftsmen: registry.craftsmen.enumerated().map { i, c in
                let x = s.craftsmen[i]
                return CraftsmanTotals(
                    craftsman: c.id, pieces: x.pieces, picks: x.picks, runSeconds: Self.seconds(x.runMs),
                    kwh: Self.kwh(Double(x.kwhUnits) + shareKwh[i]), waterL: Self.litres(Double(x.litreUnits) + shareLitres[i]))
            },
            unattributed: registry.workshops.enumerated().map { i, w in
                UnattributedTotals(
                    workshop: w.id, kwh: Self.kwh(Double(unattributedKwh[i])), waterL: Self.litres(Double(unattributedLitres[i])))
            },
            workshops: registry.workshops.enumerated().map { i, w in
                let x = s.workshops[i]
                return WorkshopTotals(
                    workshop: w.id, pieces: x.pieces, picks: x.picks, runSeconds: Self.seconds(x.runMs), kwh: Self.kwh(Double(x.kwhUnits)),
                    waterL: Self.litres(Double(x.litreUnits)), voltageOutOfBandSeconds: Self.seconds(x.voltageOutMs),
                    noPowerSeconds: Self.seconds(x.noPowerMs))
            },
            looms: registry.looms.enumerated().map { i, l in
                let x = s.looms[i]
                var who = loomAssignments[i].first?.craftsman ?? ""
                for a in loomAssignments[i].dropFirst() where a.since < end { who = a.craftsman }
                return LoomTotals(
                    loom: l.id, craftsman: who, pieces: x.pieces, picks: x.picks, runSeconds: Self.seconds(x.runMs),
                    stopSeconds: Self.seconds(x.stopMs), faultSeconds: Self.seconds(x.faultMs), stoppages: x.stoppages)
            })
    }
}

/// RFC 3339 with the time zone's offset at that moment, e.g. `2026-11-24T07:00:00+07:00`.
func rfc3339(_ ms: Int64, timeZone: TimeZone) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    let seconds = floorDiv(ms, 1000)
    let date = Date(timeIntervalSince1970: Double(seconds))
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    let off = timeZone.secondsFromGMT(for: date)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let sign = off < 0 ? "-" : "+"
    let a = abs(off)
    let frac = ms - seconds * 1000
    let fracText = frac == 0 ? "" : "." + String(String(frac + 1000).dropFirst())
    return "\(LocalHours.date(c.year ?? 0, c.month ?? 0, c.day ?? 0))T\(two(c.hour ?? 0)):\(two(c.minute ?? 0)):\(two(c.second ?? 0))"
        + "\(fracText)\(sign)\(two(a / 3600)):\(two(a / 60 % 60))"
}
