import Foundation
import SentraCore

/// Where the simulator's messages go: a broker, stdout, or memory in a test.
public protocol SimulationSink: AnyObject {
    /// One MQTT message. `payload` is valid only during the call; `eventTime` is when the
    /// simulated hardware sends it (ms), for pacing.
    func message(topic: String, payload: UnsafeRawBufferPointer, eventTime: Int64) throws
    /// The `disconnect` fault: drop the broker connection and come back.
    func brokerDisconnect(at eventTime: Int64) throws
    /// A simulated local hour ended, for progress lines.
    func hourCompleted(hourStart: Int64, messages: Int) throws
}

extension SimulationSink {
    public func brokerDisconnect(at eventTime: Int64) throws {}
    public func hourCompleted(hourStart: Int64, messages: Int) throws {}
}

/// Keeps every message in memory: for tests and for preloading benchmark streams.
public final class CollectingSink: SimulationSink {
    public struct Message: Equatable, Sendable {
        public var topic: String
        public var payload: [UInt8]
        public var eventTime: Int64
    }
    public private(set) var messages: [Message] = []
    public private(set) var disconnects: [Int64] = []
    public init() {}
    public func message(topic: String, payload: UnsafeRawBufferPointer, eventTime: Int64) throws {
        messages.append(Message(topic: topic, payload: Array(payload), eventTime: eventTime))
    }
    public func brokerDisconnect(at eventTime: Int64) throws { disconnects.append(eventTime) }
}

/// What to simulate.
public struct SimulationOptions: Sendable {
    /// Window of event time, ms since the epoch, `[from, to)`.
    public var from: Int64
    public var to: Int64
    /// Each device publishes once per interval of event time.
    public var intervalMillis: Int64 = 10_000
    public var seed: UInt64 = 1
    /// Readings per message (a gateway's batch); 1 sends plain objects.
    public var batch = 1
    public var faults: [FaultSpec] = []
    /// Random faults per simulated hour across the sentra (`--faults random`).
    public var randomFaultsPerHour = 0.0
    /// Each device says `online` on its status topic at the start.
    public var announceOnline = true
    /// Sum the ground truth as the stream goes (costs some speed).
    public var collectTruth = true
    /// Loom boards send `run_s`; without it they send `state` alone, as most boards do, and
    /// running time comes from the states.
    public var sendRunS = true

    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }
}

/// The sentra's hardware as a pure, deterministic model stepping in event time. Same
/// registry, options and seed give a byte-identical stream.
public struct Simulation {
    public let registry: Registry
    public let options: SimulationOptions
    private var calendar: LocalCalendar
    private let timeZone: TimeZone

    private var devices: [DeviceSim]
    /// Devices in the order they publish within an interval (by phase).
    private let order: [Int]
    private var looms: [LoomModel] = []
    private var powers: [PowerModel] = []
    private var waters: [WaterModel] = []
    private var craftsmen: [CraftsmanProfile] = []
    /// Per loom model: its assignments resolved to craftsman indices.
    private var loomAssignments: [[(since: Int64, craftsman: Int)]] = []
    private var plan: [PlannedFault] = []
    private var nextFault = 0
    private var windows: [FaultWindow] = []
    private var injected: [InjectedFault] = []
    private var truth: GroundTruth
    private var writer = ByteWriter(capacity: 512)
    private var batchReadings: [[SentReading]]
    private var rng: SimRandom

    public private(set) var messages = 0
    public private(set) var readings = 0
    /// Where the simulation stopped (the end of the window, or where it was cancelled).
    public private(set) var endedAt: Int64

    // Per tick, per workshop / craftsman.
    private var inShift: [Bool]
    private var inDyeing: [Bool]
    private var pumpOn: [Bool]
    private var loomWattsByWorkshop: [Double]
    private var loomWattsByCraftsman: [Double]

    /// `ingest` gives the truth its staleness limit and voltage band (the configuration's `ingest`).
    public init(
        registry: Registry, calendar: LocalCalendar, ingest: IngestSettings = IngestSettings(), options: SimulationOptions
    )
        throws(SimulationError)
    {
        guard options.to > options.from else { throw SimulationError("the window is empty: --to must be after --from") }
        guard options.intervalMillis >= 1000 else { throw SimulationError("--interval must be at least 1 s") }
        guard options.batch >= 1 else { throw SimulationError("--batch must be at least 1") }
        self.registry = registry
        self.options = options
        self.calendar = calendar
        self.timeZone = calendar.timeZone
        self.endedAt = options.from
        rng = SimRandom(seed: options.seed, stream: 0)
        let w = registry.workshops.count
        inShift = Array(repeating: false, count: w)
        inDyeing = inShift
        pumpOn = inShift
        loomWattsByWorkshop = Array(repeating: 0, count: w)
        loomWattsByCraftsman = Array(repeating: 0, count: registry.craftsmen.count)
        batchReadings = Array(repeating: [], count: registry.devices.count)

        var profileRng = SimRandom(seed: options.seed, stream: 1)
        craftsmen = registry.craftsmen.map { _ in
            CraftsmanProfile(
                picksPerMinute: profileRng.uniform(20, 60), pieceMin: profileRng.int(8000, 11000),
                pieceMax: profileRng.int(11000, 15000), meanRunSeconds: profileRng.uniform(15 * 60, 40 * 60))
        }
        let cIndex = Dictionary(registry.craftsmen.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let loomIndex = Dictionary(registry.looms.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        /// Who works a loom from when, as craftsman indices (-1: not configured).
        func assignments(_ loom: String?) -> [(since: Int64, craftsman: Int)] {
            guard let l = loom, let i = loomIndex[l] else { return [] }
            return registry.looms[i].assignments.map { (since: $0.since, craftsman: cIndex[$0.craftsman] ?? -1) }
        }
        var facts: [GroundTruth.DeviceFacts] = []

        var devs: [DeviceSim] = []
        for (i, d) in registry.devices.enumerated() {
            var drng = SimRandom(seed: options.seed, stream: 1000 + UInt64(i))
            let topic = "sentra/\(d.workshop)/\(d.kind.rawValue)/\(d.id)"
            var sim = DeviceSim(
                kind: d.kind, workshop: registry.workshopIndex(d.workshop) ?? 0, topic: topic, statusTopic: topic + "/status",
                phase: Int64(drng.uniform(0, Double(options.intervalMillis))), rng: drng)
            facts.append(
                GroundTruth.DeviceFacts(
                    kind: d.kind, workshop: sim.workshop, loom: d.kind == .loom ? (d.loom.flatMap { loomIndex[$0] } ?? -1) : -1,
                    assignments: assignments(d.loom), craftsman: d.craftsman.flatMap { cIndex[$0] } ?? -1, shared: d.binding == .workshop,
                    sendsRunS: d.kind == .loom && options.sendRunS))
            switch d.kind {
            case .loom:
                var assigns = assignments(d.loom)
                if assigns.isEmpty { assigns = [(Int64.min, -1)] }
                let p = Self.profile(craftsmen, assigns[0].craftsman)
                sim.model = looms.count
                loomAssignments.append(assigns)
                looms.append(
                    LoomModel(
                        device: i, rateFactor: sim.rng.uniform(0.85, 1.15), pieceLength: sim.rng.int(p.pieceMin, p.pieceMax),
                        picks: Int64(sim.rng.int(0, 900_000)), pieces: Int64(sim.rng.int(0, 300)),
                        skeinEvery: sim.rng.chance(0.5) ? sim.rng.int(1200, 2400) : 0, skeins: Int64(sim.rng.int(0, 2000)),
                        runS: Int64(sim.rng.int(0, 3_000_000)), watts: sim.rng.uniform(30, 80)))
            case .power:
                sim.model = powers.count
                let scope: PowerModel.Scope
                switch d.binding {
                case .workshop: scope = .workshop
                case .craftsman(let c): scope = .craftsman(cIndex[c] ?? 0)
                case .loom(let l): scope = .loom(l)
                }
                powers.append(
                    PowerModel(
                        device: i, scope: scope, energyWh: sim.rng.uniform(1_000_000, 5_000_000), lighting: sim.rng.uniform(150, 300),
                        nominal: sim.rng.uniform(218, 224)))
            case .water:
                sim.model = waters.count
                waters.append(
                    WaterModel(
                        device: i, decilitres: sim.rng.uniform(100_000, 2_000_000), level: sim.rng.uniform(50, 95),
                        dyeingFlow: sim.rng.uniform(6, 12), tankLitres: sim.rng.uniform(1000, 2000)))
            }
            devs.append(sim)
        }
        // Loom-bound power meters find their loom model by device index.
        for (pi, p) in powers.enumerated() {
            if case .loom(let l) = p.scope, let li = looms.firstIndex(where: { registry.devices[$0.device].loom == l }) {
                powers[pi].loomModel = li
            }
        }
        devices = devs
        order = devs.indices.sorted { (devs[$0].phase, $0) < (devs[$1].phase, $1) }
        truth = GroundTruth(registry: registry, timeZone: calendar.timeZone, settings: ingest, facts: facts)
        try planFaults()
    }

    /// A craftsman's way of working; an unknown one (-1) works like the first.
    private static func profile(_ craftsmen: [CraftsmanProfile], _ c: Int) -> CraftsmanProfile {
        craftsmen.isEmpty
            ? CraftsmanProfile(picksPerMinute: 40, pieceMin: 9000, pieceMax: 12000, meanRunSeconds: 1500) : craftsmen[max(0, c)]
    }

    // MARK: Faults

    private mutating func planFaults() throws(SimulationError) {
        var frng = SimRandom(seed: options.seed, stream: 2)
        let span = options.to - options.from
        for spec in options.faults {
            var device = -1
            if spec.kind != .disconnect {
                if let name = spec.device {
                    let matches = registry.devices.indices.filter { registry.devices[$0].id == name }
                    guard let m = matches.first else { throw SimulationError("--fault \(spec.kind.rawValue): no device '\(name)'") }
                    if let k = spec.kind.deviceKind, registry.devices[m].kind != k {
                        throw SimulationError("--fault \(spec.kind.rawValue): device '\(name)' is not a \(k.rawValue) device")
                    }
                    device = m
                } else {
                    guard let d = randomDevice(for: spec.kind, rng: &frng) else {
                        throw SimulationError("--fault \(spec.kind.rawValue): no device of the right kind")
                    }
                    device = d
                }
            }
            var start: Int64
            switch spec.time {
            case .absolute(let ms): start = ms
            case .offset(let s): start = options.from + s * 1000
            case .timeOfDay(let secs):
                let day = calendar.startOfDay(calendar.date(atMillis: options.from)) ?? options.from
                start = day + Int64(secs) * 1000
                if start < options.from { start += 86_400_000 }
            case nil:
                start = randomTime(for: spec.kind, device: device, rng: &frng) ?? options.from + Int64(frng.unit() * Double(span))
            }
            guard start >= options.from, start < options.to else {
                throw SimulationError("--fault \(spec.kind.rawValue): its time is outside the simulated window")
            }
            plan.append(PlannedFault(kind: spec.kind, device: device, start: start, durationMs: duration(spec.kind, rng: &frng)))
        }
        if options.randomFaultsPerHour > 0 {
            let meanGapMs = 3_600_000 / options.randomFaultsPerHour
            var t = Double(options.from) + frng.exponential(mean: meanGapMs)
            let kinds = FaultKind.allCases
            while t < Double(options.to) {
                let kind = kinds[frng.int(0, kinds.count - 1)]
                var device = -1
                if kind != .disconnect {
                    if let d = randomDevice(for: kind, rng: &frng) { device = d } else { t += frng.exponential(mean: meanGapMs); continue }
                }
                // Alert-worthy faults land where their rule can see them (shift, dyeing hours).
                let start = kind.rule != nil ? (randomTime(for: kind, device: device, rng: &frng) ?? Int64(t)) : Int64(t)
                plan.append(PlannedFault(kind: kind, device: device, start: start, durationMs: duration(kind, rng: &frng)))
                t += frng.exponential(mean: meanGapMs)
            }
        }
        // Faults act from the start of an interval, where the model steps.
        for i in plan.indices {
            plan[i].start = options.from + (plan[i].start - options.from) / options.intervalMillis * options.intervalMillis
        }
        plan.sort { ($0.start, $0.device, $0.kind.rawValue) < ($1.start, $1.device, $1.kind.rawValue) }
    }

    private func duration(_ kind: FaultKind, rng: inout SimRandom) -> Int64 {
        guard let r = kind.durationSeconds else { return 0 }
        return Int64(rng.int(r.lowerBound, r.upperBound)) * 1000
    }

    private func randomDevice(for kind: FaultKind, rng: inout SimRandom) -> Int? {
        let candidates = registry.devices.indices.filter { kind.deviceKind == nil || registry.devices[$0].kind == kind.deviceKind }
        guard !candidates.isEmpty else { return nil }
        return candidates[rng.int(0, candidates.count - 1)]
    }

    /// A time in the window when the fault's rule applies to the device (shift, dyeing), if one is found.
    private mutating func randomTime(for kind: FaultKind, device: Int, rng: inout SimRandom) -> Int64? {
        let span = Double(options.to - options.from)
        let ws = device >= 0 ? registry.workshop(registry.devices[device].workshop) : nil
        let schedule: Schedule?
        switch kind {
        case .waterFailure: schedule = ws?.dyeing
        case .stall, .silent: schedule = ws?.shift
        default: schedule = nil
        }
        for _ in 0..<200 {
            let t = options.from + Int64(rng.unit() * span)
            guard let s = schedule else { return t }
            let local = calendar.local(atMillis: t)
            if s.contains(local) { return t }
        }
        return nil
    }

    private mutating func activate(_ f: PlannedFault, tick: Int64) throws {
        let end = min(f.start + f.durationMs, options.to)
        let d = f.device
        var record = InjectedFault(
            kind: f.kind.rawValue, workshop: nil, device: nil, at: rfc3339(f.start, timeZone: timeZone), atMs: f.start)
        if d >= 0 {
            record.device = registry.devices[d].id
            record.workshop = registry.devices[d].workshop
        }
        injected.append(record)
        var windowIndex = -1
        if let rule = f.kind.rule, d >= 0 {
            windowIndex = windows.count
            windows.append(
                FaultWindow(
                    rule: rule, kind: f.kind.rawValue, workshop: registry.devices[d].workshop, device: registry.devices[d].id,
                    start: rfc3339(f.start, timeZone: timeZone), end: rfc3339(end, timeZone: timeZone), startMs: f.start, endMs: end))
        }
        switch f.kind {
        case .reboot:
            // Restarting numbering at 0 right after a reading numbered 0 would make the next
            // reading a duplicate of it: such a board restarts after its next reading instead.
            if devices[d].lastSeqOut == 0 { devices[d].rebootAfterNextReading = true } else { devices[d].pendingReboot = true }
        case .glitch: devices[d].pendingGlitches += 1
        case .duplicate: devices[d].pendingDuplicate = true
        case .outOfOrder: devices[d].pendingDelay = devices[d].rng.int(3, 12)
        case .garbage: devices[d].pendingGarbage = true
        case .silent: devices[d].silentUntil = end
        case .sag: devices[d].sagUntil = end
        case .outage:
            devices[d].outageUntil = end
            devices[d].outageOffline = devices[d].rng.chance(0.5)
        case .waterFailure: devices[d].waterFailUntil = end
        case .stall:
            devices[d].stallUntil = end
            devices[d].stallWindow = windowIndex
        case .buffer: devices[d].bufferUntil = end
        case .disconnect: break
        }
    }

    // MARK: Running

    /// Runs the whole window into `sink`. `isCancelled` is polled once per interval.
    public mutating func run<S: SimulationSink>(into sink: S, isCancelled: () -> Bool = { false }) throws {
        if options.announceOnline {
            for i in order { try status(i, online: true, at: options.from, sink) }
        }
        var tick = options.from
        var hour = calendar.hourStart(atMillis: tick)
        var hourMessages = 0
        while tick < options.to {
            if isCancelled() { break }
            try step(tick, sink)
            tick += options.intervalMillis
            let h = calendar.hourStart(atMillis: tick)
            if h != hour {
                try sink.hourCompleted(hourStart: hour, messages: messages - hourMessages)
                hourMessages = messages
                hour = h
            }
        }
        endedAt = min(tick, options.to)
        // A device whose network comes back at the end sends what it held; a gateway sends
        // what it has batched.
        for i in order where !devices[i].held.isEmpty {
            devices[i].saidOffline = false
            try status(i, online: true, at: endedAt, sink)
            try flushHeld(i, at: endedAt, sink)
        }
        for i in order where !batchReadings[i].isEmpty { try flushBatch(i, at: endedAt, sink) }
    }

    /// The ground truth for what was published so far (empty sums without `collectTruth`).
    public mutating func truthReport() -> TruthReport {
        let (days, total) = truth.report(from: options.from, to: endedAt)
        return TruthReport(
            sentra: registry.name, timeZone: timeZone.identifier, from: rfc3339(options.from, timeZone: timeZone),
            to: rfc3339(endedAt, timeZone: timeZone), seed: options.seed, sendsRunS: options.sendRunS, messages: messages,
            readings: readings, days: days, total: total, faults: windows, injected: injected)
    }

    private mutating func step<S: SimulationSink>(_ tick: Int64, _ sink: S) throws {
        let local = calendar.local(atMillis: tick)
        for (w, ws) in registry.workshops.enumerated() {
            inShift[w] = ws.shift.contains(local)
            inDyeing[w] = ws.dyeing?.contains(local) ?? false
            loomWattsByWorkshop[w] = 0
        }
        for c in loomWattsByCraftsman.indices { loomWattsByCraftsman[c] = 0 }
        while nextFault < plan.count, plan[nextFault].start <= tick {
            let f = plan[nextFault]
            nextFault += 1
            if f.kind == .disconnect {
                try activate(f, tick: tick)
                try sink.brokerDisconnect(at: f.start)
            } else {
                try activate(f, tick: tick)
            }
        }
        let dt = Double(options.intervalMillis) / 1000
        for li in looms.indices { stepLoom(li, tick: tick, dt: dt) }
        for wi in waters.indices { stepWater(wi, tick: tick, dt: dt) }
        for pi in powers.indices { stepPower(pi, tick: tick, dt: dt) }
        for i in order {
            let ts = tick + devices[i].phase
            guard ts < options.to else { continue }
            try publish(i, tick: tick, at: ts, sink)
        }
    }

    private mutating func stepLoom(_ li: Int, tick: Int64, dt: Double) {
        var m = looms[li]
        var dev = devices[m.device]
        defer {
            looms[li] = m
            devices[m.device] = dev
        }
        if dev.pendingReboot {
            m.picks = 0
            m.pieces = 0
            m.skeins = 0
            m.runS = 0
        }
        let a = loomAssignments[li]
        var c = a[0].craftsman
        for x in a.dropFirst() where x.since <= tick { c = x.craftsman }
        let p = Self.profile(craftsmen, c)
        let shift = inShift[dev.workshop]
        if tick < dev.stallUntil {
            if shift {
                m.state = .run
                m.runS += Int64(dt)
                addLoad(m.watts, workshop: dev.workshop, craftsman: c)
                return
            }
            // The shift ended: the stall is over (its rule only looks in shift).
            dev.stallUntil = tick
            if dev.stallWindow >= 0 {
                windows[dev.stallWindow].endMs = tick
                windows[dev.stallWindow].end = rfc3339(tick, timeZone: timeZone)
            }
        }
        guard shift else {
            m.state = .stop
            m.wasInShift = false
            return
        }
        if !m.wasInShift {
            m.wasInShift = true
            m.stopRemainingMs = Int64(dev.rng.exponential(mean: 180_000))
            m.state = .stop
        }
        if m.stopRemainingMs > 0 {
            m.stopRemainingMs -= Int64(dt * 1000)
            if m.stopRemainingMs > 0 { return }
            m.state = .run
        }
        if dev.rng.chance(dt / p.meanRunSeconds) {
            let r = dev.rng.unit()
            let minutes = r < 0.65 ? dev.rng.uniform(1, 5) : r < 0.95 ? dev.rng.uniform(5, 15) : dev.rng.uniform(20, 75)
            m.stopRemainingMs = Int64(minutes * 60_000)
            m.state = dev.rng.chance(0.1) ? .fault : .stop
            return
        }
        m.state = .run
        let inc = max(0, p.picksPerMinute * m.rateFactor * dt / 60 * (1 + 0.05 * dev.rng.normal()))
        m.pickFraction += inc
        let whole = m.pickFraction.rounded(.down)
        m.pickFraction -= whole
        let n = Int64(whole)
        m.picks += n
        m.picksInPiece += n
        if m.skeinEvery > 0 {
            m.picksSinceSkein += n
            if m.picksSinceSkein >= Int64(m.skeinEvery) {
                m.picksSinceSkein -= Int64(m.skeinEvery)
                m.skeins += 1
            }
        }
        m.runS += Int64(dt)
        addLoad(m.watts, workshop: dev.workshop, craftsman: c)
        if m.picksInPiece >= Int64(m.pieceLength) {
            // The piece is cut off and the warp tied on again: a stop of its own.
            m.pieces += 1
            m.picksInPiece -= Int64(m.pieceLength)
            m.pieceLength = dev.rng.int(p.pieceMin, p.pieceMax)
            m.stopRemainingMs = Int64(dev.rng.uniform(8, 25) * 60_000)
            m.state = .stop
        }
    }

    @inline(__always) private mutating func addLoad(_ watts: Double, workshop: Int, craftsman: Int) {
        loomWattsByWorkshop[workshop] += watts
        if craftsman >= 0 && craftsman < loomWattsByCraftsman.count { loomWattsByCraftsman[craftsman] += watts }
    }

    private mutating func stepWater(_ wi: Int, tick: Int64, dt: Double) {
        var m = waters[wi]
        var dev = devices[m.device]
        defer {
            waters[wi] = m
            devices[m.device] = dev
        }
        if dev.pendingReboot { m.decilitres = 0 }
        let failing = tick < dev.waterFailUntil
        if failing {
            m.lpm = dev.rng.uniform(0, 0.4)
            m.bar = dev.rng.uniform(0.1, 0.3)
        } else if inDyeing[dev.workshop] {
            m.lpm = max(2.5, m.dyeingFlow * (1 + 0.1 * dev.rng.normal()))
            m.bar = 2.2 - 0.03 * m.lpm + 0.05 * dev.rng.normal()
        } else {
            m.lpm = 0
            m.bar = 2.3 + 0.05 * dev.rng.normal()
        }
        m.decilitres += m.lpm * dt / 60 * 10
        m.level -= m.lpm * dt / 60 / m.tankLitres * 100
        if !failing {
            if m.level < 35 { m.refilling = true }
            if m.refilling { m.level += 80 * dt / 60 / m.tankLitres * 100 }
            if m.level >= 95 { m.refilling = false }
        } else {
            m.refilling = false
        }
        m.level = min(100, max(0, m.level))
        pumpOn[dev.workshop] = pumpOn[dev.workshop] || m.refilling
    }

    private mutating func stepPower(_ pi: Int, tick: Int64, dt: Double) {
        var m = powers[pi]
        var dev = devices[m.device]
        defer {
            powers[pi] = m
            devices[m.device] = dev
            // The last meter of the tick clears the pumps for the next one.
            if pi == powers.count - 1 { for w in pumpOn.indices { pumpOn[w] = false } }
        }
        if dev.pendingReboot { m.energyWh = 0 }
        let w = dev.workshop
        var load: Double
        switch m.scope {
        case .workshop:
            load = (inShift[w] ? m.lighting + 15 : 25) + loomWattsByWorkshop[w] + (pumpOn[w] ? 750 : 0)
        case .craftsman(let c):
            load = (inShift[w] ? 40 : 5) + (c < loomWattsByCraftsman.count ? loomWattsByCraftsman[c] : 0)
        case .loom:
            let li = m.loomModel
            load = 3 + ((li >= 0 && looms[li].state == .run) ? looms[li].watts : 0)
        }
        load *= 1 + 0.02 * dev.rng.normal()
        m.wander = 0.98 * m.wander + 0.3 * dev.rng.normal()
        m.wander = min(6, max(-6, m.wander))
        if tick < dev.outageUntil {
            m.v = dev.rng.uniform(0, 1.5)
            m.w = 0
            m.a = 0
            return
        }
        if tick < dev.sagUntil {
            m.v = 185 + dev.rng.normal()
            load *= 0.9
        } else {
            m.v = m.nominal + m.wander + 0.8 * dev.rng.normal()
        }
        m.w = max(0, load)
        m.a = m.w / (m.v * 0.92)
        m.energyWh += m.w * dt / 3600
    }

    // MARK: Publishing

    private static let online = Array("online".utf8)
    private static let offline = Array("offline".utf8)
    /// Readings a device that held them through a network outage sends per message.
    static let heldBatch = 50

    private mutating func status<S: SimulationSink>(_ i: Int, online: Bool, at ts: Int64, _ sink: S) throws {
        let text = online ? Self.online : Self.offline
        try text.withUnsafeBytes { try sink.message(topic: devices[i].statusTopic, payload: $0, eventTime: ts) }
        messages += 1
    }

    private mutating func publish<S: SimulationSink>(_ i: Int, tick: Int64, at ts: Int64, _ sink: S) throws {
        var dev = devices[i]
        if dev.pendingReboot {
            // The board starts over: its counters (zeroed by the model) and its numbering. What
            // it held in memory is lost: a reading kept back to send late, readings buffered
            // through a network outage.
            dev.pendingReboot = false
            dev.seq = 0
            dev.boot += 1
            dev.delayed = nil
            dev.held.removeAll()
        }
        // Offline: a power meter without supply that says so, or a device without network.
        let powerOff = tick < dev.outageUntil && dev.kind == .power && dev.outageOffline
        let buffering = tick < dev.bufferUntil
        if (powerOff || buffering) && !dev.saidOffline {
            devices[i] = dev
            // A gateway uploads what it had batched before its network goes.
            if !batchReadings[i].isEmpty { try flushBatch(i, at: ts, sink) }
            devices[i].saidOffline = true
            // The broker publishes the device's Last Will.
            try status(i, online: false, at: ts, sink)
            dev = devices[i]
        } else if !(powerOff || buffering) && dev.saidOffline {
            dev.saidOffline = false
            devices[i] = dev
            try status(i, online: true, at: ts, sink)
            try flushHeld(i, at: ts, sink)
            dev = devices[i]
        }
        if dev.pendingGarbage && !buffering && !powerOff {
            dev.pendingGarbage = false
            devices[i] = dev
            try garbage(i, at: ts, sink)
            dev = devices[i]
        }
        if powerOff || tick < dev.silentUntil {
            devices[i] = dev
            return
        }
        // An old reading, held back, is sent again late.
        if let held = dev.delayed {
            dev.delayCountdown -= 1
            if dev.delayCountdown < 0 {
                dev.delayed = nil
                devices[i] = dev
                try out(i, object: held.bytes, reading: held.reading, at: ts, sink)
                dev = devices[i]
            }
        }
        // A glitch never hits a device's first reading, nor the reading after a glitch (two
        // zeros in a row read as a restart to 0): it waits for the next reading.
        var glitch = false
        if dev.pendingGlitches > 0 && dev.made > 0 && !dev.lastMadeGlitch {
            glitch = true
            dev.pendingGlitches -= 1
        }
        let duplicate = dev.pendingDuplicate
        dev.pendingDuplicate = false
        let delay = dev.pendingDelay
        dev.pendingDelay = 0
        let seq = dev.seq
        dev.seq += 1
        dev.made += 1
        dev.lastMadeGlitch = glitch
        devices[i] = dev

        var r = SentReading(ts: ts, seq: seq)
        r.boot = dev.boot
        r.glitch = glitch
        writer.reset()
        writer.append("{\"ts\":")
        writer.append(int: ts)
        writer.append(",\"seq\":")
        writer.append(int: seq)
        switch dev.kind {
        case .loom:
            let m = looms[dev.model]
            let z: Int64 = glitch ? 0 : 1
            counter(&r, .picks, "picks", m.picks * z, decimals: 0)
            counter(&r, .pieces, "pieces", m.pieces * z, decimals: 0)
            if m.skeinEvery > 0 { counter(&r, .skeins, "skeins", m.skeins * z, decimals: 0) }
            if options.sendRunS { counter(&r, .runS, "run_s", m.runS * z, decimals: 0) }
            writer.append(",\"state\":\"")
            switch m.state {
            case .run: writer.append("run")
            case .stop: writer.append("stop")
            case .fault: writer.append("fault")
            }
            writer.append(byte: UInt8(ascii: "\""))
            r.state = m.state
        case .power:
            let m = powers[dev.model]
            r.decivolts = gauge("v", m.v, decimals: 1)
            _ = gauge("a", m.a, decimals: 2)
            _ = gauge("w", m.w, decimals: 1)
            counter(&r, .kwh, "kwh", glitch ? 0 : Int64(m.energyWh.rounded(.down)), decimals: 3)
        case .water:
            let m = waters[dev.model]
            _ = gauge("lpm", m.lpm, decimals: 1)
            counter(&r, .litres, "l", glitch ? 0 : Int64(m.decilitres.rounded(.down)), decimals: 1)
            _ = gauge("level", m.level, decimals: 1)
            _ = gauge("bar", m.bar, decimals: 2)
        }
        writer.append(byte: UInt8(ascii: "}"))
        if delay > 0 {
            var late = r
            late.repeated = true
            devices[i].delayed = HeldReading(bytes: writer.bytes, reading: late)
            devices[i].delayCountdown = delay
        }
        let bytes = writer.bytes
        try out(i, object: bytes, reading: r, at: ts, sink)
        if duplicate {
            var copy = r
            copy.repeated = true
            try out(i, object: bytes, reading: copy, at: ts, sink)
        }
    }

    @inline(__always) private mutating func counter(
        _ r: inout SentReading, _ c: SimCounter, _ name: StaticString, _ units: Int64, decimals: Int
    ) {
        writer.append(",\"")
        writer.append(name)
        writer.append("\":")
        writer.append(fixed: units, decimals: decimals)
        r.set(c, units)
    }

    /// Writes a measurement rounded to `decimals` places; returns it in those units.
    @inline(__always) private mutating func gauge(_ name: StaticString, _ x: Double, decimals: Int) -> Int64 {
        writer.append(",\"")
        writer.append(name)
        writer.append("\":")
        let units = ByteWriter.units(x, decimals: decimals)
        writer.append(fixed: units, decimals: decimals)
        return units
    }

    /// A reading leaves the board: held while its network is down, else sent.
    private mutating func out<S: SimulationSink>(_ i: Int, object: [UInt8], reading: SentReading, at ts: Int64, _ sink: S) throws {
        if devices[i].saidOffline {
            devices[i].held.append(HeldReading(bytes: object, reading: reading))
            return
        }
        if !reading.repeated {
            devices[i].lastSeqOut = reading.seq
            if devices[i].rebootAfterNextReading {
                devices[i].rebootAfterNextReading = false
                devices[i].pendingReboot = true
            }
        }
        readings += 1
        if options.batch == 1 {
            try object.withUnsafeBytes { try sink.message(topic: devices[i].topic, payload: $0, eventTime: ts) }
            messages += 1
            if options.collectTruth { truth.feed(device: i, reading) }
            return
        }
        if batchBytes.isEmpty { batchBytes = Array(repeating: [], count: devices.count) }
        if batchReadings[i].isEmpty {
            batchBytes[i].removeAll(keepingCapacity: true)
            batchBytes[i].append(UInt8(ascii: "["))
        } else {
            batchBytes[i].append(UInt8(ascii: ","))
        }
        batchBytes[i].append(contentsOf: object)
        batchReadings[i].append(reading)
        if batchReadings[i].count >= options.batch { try flushBatch(i, at: ts, sink) }
    }

    private var batchBytes: [[UInt8]] = []

    private mutating func flushBatch<S: SimulationSink>(_ i: Int, at ts: Int64, _ sink: S) throws {
        batchBytes[i].append(UInt8(ascii: "]"))
        try batchBytes[i].withUnsafeBytes { try sink.message(topic: devices[i].topic, payload: $0, eventTime: ts) }
        messages += 1
        if options.collectTruth { for r in batchReadings[i] { truth.feed(device: i, r) } }
        batchReadings[i].removeAll(keepingCapacity: true)
    }

    /// The network is back: what the device held goes out in order, `heldBatch` readings a message.
    private mutating func flushHeld<S: SimulationSink>(_ i: Int, at ts: Int64, _ sink: S) throws {
        let held = devices[i].held
        devices[i].held.removeAll()
        var start = 0
        while start < held.count {
            let part = held[start..<min(start + Self.heldBatch, held.count)]
            var payload: [UInt8] = [UInt8(ascii: "[")]
            for (n, h) in part.enumerated() {
                if n > 0 { payload.append(UInt8(ascii: ",")) }
                payload.append(contentsOf: h.bytes)
            }
            payload.append(UInt8(ascii: "]"))
            try payload.withUnsafeBytes { try sink.message(topic: devices[i].topic, payload: $0, eventTime: ts) }
            messages += 1
            readings += part.count
            for h in part where !h.reading.repeated {
                devices[i].lastSeqOut = h.reading.seq
                if devices[i].rebootAfterNextReading {
                    devices[i].rebootAfterNextReading = false
                    devices[i].pendingReboot = true
                }
            }
            if options.collectTruth { for h in part { truth.feed(device: i, h.reading) } }
            start += Self.heldBatch
        }
    }

    private mutating func garbage<S: SimulationSink>(_ i: Int, at ts: Int64, _ sink: S) throws {
        writer.reset()
        switch devices[i].rng.int(0, 4) {
        case 0:
            writer.append("{\"ts\":")
            writer.append(int: ts)
            writer.append(",\"picks\":")
        case 1: writer.append(bytes: [0xFF, 0xFE, 0x7B, 0x22, 0xC3, 0x28, 0x22, 0x7D])
        case 2:
            writer.append("{\"ts\":")
            writer.append(int: ts)
            writer.append(",\"v\":\"high\",\"kwh\":\"lots\",\"picks\":\"many\",\"l\":\"wet\"}")
        case 3: writer.append("ERR sensor timeout")
        default: writer.append("{\"ts\":,\"seq\":}")
        }
        try writer.bytes.withUnsafeBytes { try sink.message(topic: devices[i].topic, payload: $0, eventTime: ts) }
        messages += 1
    }
}

// MARK: Model state

struct CraftsmanProfile {
    var picksPerMinute: Double
    var pieceMin: Int
    var pieceMax: Int
    var meanRunSeconds: Double
}

struct HeldReading {
    var bytes: [UInt8]
    var reading: SentReading
}

/// One device's board: what it publishes where, and the faults acting on it.
struct DeviceSim {
    var kind: DeviceKind
    var workshop: Int
    var topic: String
    var statusTopic: String
    /// Offset of its readings within each interval, ms.
    var phase: Int64
    var rng: SimRandom
    /// Index into the kind's model array.
    var model = 0
    var seq: Int64 = 0
    /// Times the board restarted.
    var boot: Int32 = 0
    /// Readings made (not repeats), and whether the last one was a glitch.
    var made = 0
    var lastMadeGlitch = false
    /// The `seq` of the last reading that left the board (sent or batched, not held).
    var lastSeqOut: Int64?

    var pendingReboot = false
    var rebootAfterNextReading = false
    /// Glitches due, one reading each.
    var pendingGlitches = 0
    var pendingDuplicate = false
    var pendingGarbage = false
    /// Hold the next reading back and send it again after this many readings.
    var pendingDelay = 0
    var delayed: HeldReading?
    var delayCountdown = 0
    var silentUntil: Int64 = .min
    var sagUntil: Int64 = .min
    var outageUntil: Int64 = .min
    var outageOffline = false
    /// The device's status is `offline` (no supply, or no network).
    var saidOffline = false
    var waterFailUntil: Int64 = .min
    var stallUntil: Int64 = .min
    var stallWindow = -1
    /// No network until then: readings are held.
    var bufferUntil: Int64 = .min
    var held: [HeldReading] = []

    init(kind: DeviceKind, workshop: Int, topic: String, statusTopic: String, phase: Int64, rng: SimRandom) {
        self.kind = kind
        self.workshop = workshop
        self.topic = topic
        self.statusTopic = statusTopic
        self.phase = phase
        self.rng = rng
    }
}

struct LoomModel {
    var device: Int
    var rateFactor: Double
    var pieceLength: Int
    var picks: Int64
    var pieces: Int64
    var skeinEvery: Int
    var skeins: Int64
    var runS: Int64
    var watts: Double
    var state: LoomState = .stop
    var wasInShift = false
    var stopRemainingMs: Int64 = 0
    var pickFraction = 0.0
    var picksInPiece: Int64 = 0
    var picksSinceSkein: Int64 = 0
}

struct PowerModel {
    enum Scope {
        case workshop
        case craftsman(Int)
        case loom(String)
    }
    var device: Int
    var scope: Scope
    var energyWh: Double
    var lighting: Double
    var nominal: Double
    var loomModel = -1
    var wander = 0.0
    var v = 220.0
    var a = 0.0
    var w = 0.0
}

struct WaterModel {
    var device: Int
    var decilitres: Double
    var level: Double
    var dyeingFlow: Double
    var tankLitres: Double
    var lpm = 0.0
    var bar = 2.3
    var refilling = false
}
