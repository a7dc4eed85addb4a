import Foundation
import SentraCore

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
    /// The value a restart dropped to, for a device that restores an older total.
    var dip: Int64 = 0
    /// The board's restarts when this field's last value was written: a device that writes
    /// its fields in separate messages restarts for each field at its first value after.
    var boot: Int32 = 0

    /// The increase reading value `v` counts. `glitch`: the board sent 0 this once;
    /// `restarted`: the board restarted since the device's previous accepted reading;
    /// `restoresOlder`: the device comes back from a power cut with the total it last saved
    /// (Tasmota), so a confirmed drop counts only what came after the dropped-to value.
    mutating func accept(_ v: Int64, glitch: Bool, restarted: Bool, restoresOlder: Bool = false) -> Int64 {
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
                    dip = v
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
            if v >= l { return v - l }
            // A device restoring an older total: the increase since the dropped-to value
            // (what it counted before the cut past its last save was counted already).
            return restoresOlder ? max(0, v - dip) : v
        }
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
        /// Per counter: the field's units (for `kwh` Wh, for `l` tenths of a litre) in one unit
        /// the device writes (1 for the device protocol; e.g. 10 ÷ 450 for a water meter's pulses).
        var units: [Double] = Array(repeating: 1, count: SimCounter.allCases.count)
        /// After a power cut the device restores an older total (Tasmota).
        var restoresOlder = false
    }

    /// What the truth remembers of a device between readings.
    struct DeviceLive {
        var accepted = false
        var boot: Int32 = 0
        var lastTs: Int64 = 0
        var state: LoomState?
        var decivolts: Int64 = -1
        /// When the device said `offline`, for a stream received as it is published.
        var offlineSince: Int64?
        /// Inline, so updating a device's counters allocates nothing.
        var counters = InlineArray<6, CounterTrack>(repeating: CounterTrack())
    }

    struct CraftsmanSums {
        var pieces: Int64 = 0, picks: Int64 = 0, runMs: Int64 = 0
        /// From meters bound to him (or his loom), in meter units.
        var kwhUnits = 0.0, litreUnits = 0.0
    }
    struct LoomSums {
        var pieces: Int64 = 0, picks: Int64 = 0, runMs: Int64 = 0, stopMs: Int64 = 0, faultMs: Int64 = 0, stoppages: Int64 = 0
    }
    struct WorkshopSums {
        var pieces: Int64 = 0, picks: Int64 = 0, runMs: Int64 = 0
        var kwhUnits = 0.0, litreUnits = 0.0
        var voltageOutMs: Int64 = 0, noPowerMs: Int64 = 0
    }
    struct DaySums {
        var craftsmen: [CraftsmanSums]
        var looms: [LoomSums]
        var workshops: [WorkshopSums]
    }
    /// One local hour's workshop meters to split, and its running time per workshop and craftsman.
    struct HourSplit {
        var sharedKwh: [Double]
        var sharedLitres: [Double]
        /// `workshop * craftsmen + craftsman` → running ms.
        var running: [Int: Int64] = [:]
    }

    let registry: Registry
    private let facts: [DeviceFacts]
    /// Per loom of the registry: who works it from when.
    let loomAssignments: [[(since: Int64, craftsman: String)]]
    private var live: [DeviceLive]
    private let stalenessMs: Int64
    private let voltageLow: Double
    private let voltageHigh: Double
    private let noPowerBelow: Double
    private(set) var hours: LocalHours
    private(set) var days: [DaySums] = []
    private(set) var splits: [HourSplit] = []
    /// Status messages take effect at their event time (a stream received as it is
    /// published: real time, or an in-process replay in virtual time); otherwise they are
    /// received after every reading of the window and change nothing.
    var statusAtEventTime = false
    let craftsmen: Int
    let looms: Int
    let workshops: Int

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

    /// What the configuration says about device `d`.
    func facts(_ d: Int) -> DeviceFacts { facts[d] }

    /// The hour holding `ms`, with the day and split slots it needs.
    @inline(__always) mutating func hour(at ms: Int64) -> Int {
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
        // The time since the device's previous reading, under the state and voltage it left,
        // for at most the staleness limit.
        if s.accepted { bookElapsed(d, since: s, until: r.ts) }
        // A reading from after the device said `offline` ends that spell; a power meter had
        // no power from then until it.
        if let off = s.offlineSince, r.ts >= off {
            if f.kind == .power { span(d, from: off, to: r.ts, .noPower) }
            s.offlineSince = nil
        }
        if r.mask != 0 { countIncreases(d, r, &s) }
        if let state = r.state {
            if state != .run && s.state == .run && f.loom >= 0 {
                // The hour first: it may add an hour to `hours`.
                let h = hour(at: r.ts)
                days[hours.hours[h].day].looms[f.loom].stoppages += 1
            }
            s.state = state
        }
        if r.decivolts >= 0 { s.decivolts = r.decivolts }
        s.accepted = true
        s.boot = r.boot
        s.lastTs = r.ts
        live[d] = s
    }

    /// A device's status message at `ts`: `offline` makes it silent from then on (a state
    /// or voltage holds no longer); `online` changes nothing until its next reading.
    mutating func status(device d: Int, online: Bool, at ts: Int64) {
        guard statusAtEventTime, !online, live[d].offlineSince == nil else { return }
        live[d].offlineSince = ts
    }

    /// Books the time from the device's last reading `s` to `ts` (at most the staleness limit,
    /// and not past the moment it said `offline`) under the state and voltage that reading left.
    private mutating func bookElapsed(_ d: Int, since s: DeviceLive, until ts: Int64) {
        var end = min(ts, s.lastTs + stalenessMs)
        if let off = s.offlineSince { end = min(end, max(off, s.lastTs)) }
        if let state = s.state {
            switch state {
            case .run: if !facts[d].sendsRunS { span(d, from: s.lastTs, to: end, .run) }
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

    /// Counts what each counter of reading `r` increased by, in the hour and day of its `ts`,
    /// for the craftsman assigned then.
    private mutating func countIncreases(_ d: Int, _ r: SentReading, _ s: inout DeviceLive) {
        let h = hour(at: r.ts)
        let day = hours.hours[h].day
        let c = craftsman(d, at: r.ts)
        for k in SimCounter.allCases where r.has(k) {
            // Per field: the first value of this field since the restart.
            let restarted = s.counters[k.rawValue].last != nil && s.counters[k.rawValue].boot != r.boot
            s.counters[k.rawValue].boot = r.boot
            let inc = s.counters[k.rawValue].accept(
                r.counters[k.rawValue], glitch: r.glitch, restarted: restarted, restoresOlder: facts[d].restoresOlder)
            guard inc > 0 else { continue }
            book(inc, of: k, device: d, craftsman: c, hour: h, day: day)
        }
    }

    /// Books a counter's increase: production to the craftsman, loom and workshop; running
    /// time; a meter's units to its craftsman, or to the hour's split of a workshop meter.
    private mutating func book(_ units: Int64, of k: SimCounter, device d: Int, craftsman c: Int, hour h: Int, day: Int) {
        let f = facts[d]
        let exact = Double(units) * f.units[k.rawValue]
        // Counts a device writes in whole multiples of its unit (pulses per pick) stay whole.
        let inc = Int64(exact.rounded())
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
            days[day].workshops[f.workshop].kwhUnits += exact
            if f.shared {
                splits[h].sharedKwh[f.workshop] += exact
            } else if c >= 0 {
                days[day].craftsmen[c].kwhUnits += exact
            }
        case .litres:
            days[day].workshops[f.workshop].litreUnits += exact
            if f.shared {
                splits[h].sharedLitres[f.workshop] += exact
            } else if c >= 0 {
                days[day].craftsmen[c].litreUnits += exact
            }
        }
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
}
