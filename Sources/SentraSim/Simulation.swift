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
    public internal(set) var messages: [Message] = []
    public internal(set) var disconnects: [Int64] = []
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
    /// Devices (ids) that publish nothing.
    public var leaveOut: Set<String> = []
    /// The stream is received as it is published (real time, or an in-process replay that
    /// passes each message's event time as its receive time): status messages take effect at
    /// their event time in the truth. Otherwise they are received after the whole window.
    public var receivedAsPublished = false
    /// Messages of off-the-shelf devices that carry no time but also have timed ones (Shelly
    /// gen2's `status/…`) are sent; off for an accelerated replay over MQTT.
    public var sendsUntimed = true

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
    var calendar: LocalCalendar
    let timeZone: TimeZone

    var devices: [DeviceSim]
    /// Devices in the order they publish within an interval (by phase).
    let order: [Int]
    var looms: [LoomModel] = []
    var powers: [PowerModel] = []
    var waters: [WaterModel] = []
    var craftsmen: [CraftsmanProfile] = []
    /// Per loom model: its assignments resolved to craftsman indices.
    var loomAssignments: [[(since: Int64, craftsman: Int)]] = []
    var plan: [PlannedFault] = []
    var nextFault = 0
    var windows: [FaultWindow] = []
    var injected: [InjectedFault] = []
    var truth: GroundTruth
    var writer = ByteWriter(capacity: 512)
    var batchReadings: [[SentReading]]
    var rng: SimRandom

    public internal(set) var messages = 0
    public internal(set) var readings = 0
    /// Where the simulation stopped (the end of the window, or where it was cancelled).
    public internal(set) var endedAt: Int64

    // Per tick, per workshop / craftsman.
    var inShift: [Bool]
    var inDyeing: [Bool]
    var pumpOn: [Bool]
    var loomWattsByWorkshop: [Double]
    var loomWattsByCraftsman: [Double]

    /// Readings a gateway has batched and not yet sent, per device.
    var batchBytes: [[UInt8]] = []

    /// `ingest` gives the truth its staleness limit and voltage band (the configuration's `ingest`).
    public init(
        registry: Registry, calendar: LocalCalendar, ingest: IngestSettings = IngestSettings(), options: SimulationOptions
    )
        throws(SimulationError)
    {
        try Self.check(options)
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
        craftsmen = Self.profiles(registry: registry, seed: options.seed)
        let hardware = try Hardware(registry: registry, options: options, craftsmen: craftsmen)
        devices = hardware.devices
        looms = hardware.looms
        powers = hardware.powers
        waters = hardware.waters
        loomAssignments = hardware.loomAssignments
        let devs = hardware.devices
        for name in options.leaveOut where !registry.devices.contains(where: { $0.id == name }) {
            throw SimulationError("--leave-out \(name): no such device")
        }
        let left = Set(registry.devices.indices.filter { options.leaveOut.contains(registry.devices[$0].id) })
        order = devs.indices.filter { !left.contains($0) }.sorted { (devs[$0].phase, $0) < (devs[$1].phase, $1) }
        truth = GroundTruth(registry: registry, timeZone: calendar.timeZone, settings: ingest, facts: hardware.facts)
        truth.statusAtEventTime = options.receivedAsPublished
        try planFaults()
    }

    private static func check(_ options: SimulationOptions) throws(SimulationError) {
        guard options.to > options.from else { throw SimulationError("the window is empty: --to must be after --from") }
        guard options.intervalMillis >= 1000 else { throw SimulationError("--interval must be at least 1 s") }
        guard options.batch >= 1 else { throw SimulationError("--batch must be at least 1") }
    }

    /// Each craftsman's way of working, drawn from the seed's profile stream.
    private static func profiles(registry: Registry, seed: UInt64) -> [CraftsmanProfile] {
        var profileRng = SimRandom(seed: seed, stream: 1)
        return registry.craftsmen.map { _ in
            CraftsmanProfile(
                picksPerMinute: profileRng.uniform(20, 60), pieceMin: profileRng.int(8000, 11000),
                pieceMax: profileRng.int(11000, 15000), meanRunSeconds: profileRng.uniform(15 * 60, 40 * 60))
        }
    }

    /// A craftsman's way of working; an unknown one (-1) works like the first.
    static func profile(_ craftsmen: [CraftsmanProfile], _ c: Int) -> CraftsmanProfile {
        craftsmen.isEmpty
            ? CraftsmanProfile(picksPerMinute: 40, pieceMin: 9000, pieceMax: 12000, meanRunSeconds: 1500) : craftsmen[max(0, c)]
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
}
