/// The runtime state of one device: its counters' baselines and what it last said.
/// Everything here is committed with the buckets in one transaction.
public struct DeviceState: Sendable, Equatable {
    /// Event time and `seq` of the last accepted reading.
    public var lastTs: Int64?
    public var lastSeq: Int64?
    /// The highest event time ever accepted from the device: above `lastTs` after its clock
    /// stepped back (a reading from the future, then an NTP correction). A lower `seq` at no
    /// later time than this is a duplicate. `nil` in state saved before it was kept: `lastTs`.
    public var highestTs: Int64?
    /// One slot per cumulative counter (`Field.counterSlot`), not per field: this is the bulk
    /// of a device's state, and a large sentra keeps thousands.
    public var counters = CounterSlots()

    /// The committed baseline of counter `f`.
    public subscript(counter f: Field) -> CounterBaseline? {
        get { f.counterSlot.flatMap { counters[$0] } }
        set { if let i = f.counterSlot { counters[i] = newValue } }
    }
    /// Loom: the last reported state and when it began to hold.
    public var state: LoomState?
    public var stateTs: Int64?
    /// Power meter: the last voltage and when it was read.
    public var voltage: Double?
    public var voltageTs: Int64?
    /// The board reports `run_s`: running time comes from it, not from `state`.
    public var hasRunCounter = false
    /// The device said `offline` (its Last Will) when the daemon received this, ms, and no
    /// reading of a later event time has come since. Status messages carry no event time.
    public var offlineSince: Int64?
    /// The daemon's clock when the device's last accepted reading arrived, ms (silence).
    public var heardAt: Int64?
    /// An off-the-shelf device that sends its own time: its clock minus the receive time at its
    /// last reading, ms (docs/devices.md, "Time stamps").
    public var skewMs: Int64?

    public init() {}
}

/// A device's counter baselines, one slot per cumulative counter, stored inline: a
/// `DeviceState` holds no reference, so taking it out of its array and putting it back is a
/// plain copy (no reference counting, no copy-on-write check per reading).
public struct CounterSlots: Sendable, Equatable {
    private var slots = InlineArray<6, CounterBaseline?>(repeating: nil)

    public init() {}

    @inline(__always) public subscript(_ i: Int) -> CounterBaseline? {
        get { slots[i] }
        set { slots[i] = newValue }
    }

    public static func == (a: CounterSlots, b: CounterSlots) -> Bool {
        (0..<Field.counterCount).allSatisfy { a.slots[$0] == b.slots[$0] }
    }
}

/// Settings of the ingest pipeline.
public struct IngestSettings: Sendable, Equatable {
    public var limits = ProtocolLimits()
    public var rates = PlausibleRates()
    /// How long a loom state or voltage holds past its last reading, ms (5 min by default).
    public var stalenessMillis: Int64 = 5 * 60_000
    /// Voltage band; outside it, power quality counts time.
    public var voltageLow = 198.0
    public var voltageHigh = 242.0
    /// Below this, there is no power.
    public var noPowerBelow = 50.0
    public init() {}
}

/// Sees what the pipeline accepted and rejected: alert rules and logging hang here.
public protocol IngestObserver: AnyObject {
    /// `receivedAt`: the daemon's clock when the message arrived (the journal keeps it, so a
    /// replay after a crash sees the same).
    func accepted(device: Int, reading: Reading, ts: Int64, receivedAt: Int64)
    func counterEvent(device: Int, field: Field, decision: CounterDecision, value: Double, ts: Int64)
    /// A counter's positive increase, after the counter rules (pieces per hour, picks advancing).
    func increased(device: Int, field: Field, by amount: Double, ts: Int64)
    func status(device: Int, online: Bool, ts: Int64)
    /// `topic` as received (valid during the call): a flood of rejections costs no allocation.
    func rejected(_ reason: RejectReason, topic: UnsafeRawBufferPointer, device: Int?)
    /// An off-the-shelf device's clock is more than `IngestPipeline.skewNoticeMillis` off the
    /// receive time: once per device and run.
    func clockSkew(device: Int, millis: Int64)
}

extension IngestObserver {
    public func clockSkew(device: Int, millis: Int64) {}
}

/// Counts of what happened to readings, by reason.
public struct IngestStats: Sendable, Equatable {
    public var accepted: UInt64 = 0
    public var rejected: [UInt64] = Array(repeating: 0, count: RejectReason.allCases.count)
    public var glitches: UInt64 = 0
    public var resets: UInt64 = 0
    public var statusMessages: UInt64 = 0
    /// Messages of a known device that carried nothing mapped (a Shelly event, an ESPHome
    /// node's temperature), and Home Assistant discovery messages.
    public var ignored: UInt64 = 0
    public init() {}
    public subscript(_ r: RejectReason) -> UInt64 { rejected[r.rawValue] }
    public var totalRejected: UInt64 { rejected.reduce(0, +) }
}

/// Parse → registry lookup → counter rules → hourly buckets, for one message at a time.
/// A value type owned by one thread: no locks or actor hops per reading.
public struct IngestPipeline {
    public private(set) var registry: Registry
    public var settings: IngestSettings
    public internal(set) var devices: [DeviceState]
    public internal(set) var stats = IngestStats()
    public var deltas = BucketDeltas()
    /// Devices whose state changed since the last commit (a flag per device and the list,
    /// so marking one costs no hashing).
    public private(set) var dirty: [Int] = []
    private var isDirty: [Bool] = []
    public var calendar: LocalCalendar
    /// Strong: the observer (alert engine, logger) never holds the pipeline, and a weak load per
    /// reading costs more than the rest of the bookkeeping.
    public var observer: (any IngestObserver)?
    /// Topics that resolved to a configured device: at most two per device (readings and
    /// status), since a device has one topic under the registry's prefix.
    var topics = TopicTable<TopicEntry>()
    /// A few recent topics that did not, so a misconfigured board repeating itself costs no
    /// parsing; emptied when full, so a stranger's stream of made-up topics keeps memory flat.
    var rejectedTopics = TopicTable<RejectReason>()
    public static let rejectedTopicCacheLimit = 1024
    /// Longer rejected topics are not cached (a valid one is at most 141 bytes past the prefix).
    public static let rejectedTopicCacheMaxBytes = 256
    private var craftsmanIndex: [String: Int32] = [:]
    /// Per device: its loom's assignments resolved to craftsman indices.
    private var loomAssignments: [[(since: Int64, craftsman: Int32)]] = []
    private var meterCraftsman: [Int32] = []
    /// Off-the-shelf devices: their topics, and per device what its mapping switches on (read
    /// once from the registry, not per reading) and whether its skew was logged.
    var foreign = ForeignRoutes()
    var traits: [DeviceTraits] = []
    /// Topics found through a pattern (which can vary without end): cached up to a bound.
    var patternTopicsCached = 0
    public static let patternTopicCacheLimit = 1024
    /// A device clock this far off the receive time is logged (once per device).
    public static let skewNoticeMillis: Int64 = 10 * 60_000
    /// Topics no device claims, with a sample, for `sentractl devices unknown` (bounded).
    public var unknownTopics = UnknownTopics()

    enum TopicEntry {
        case device(Int, isStatus: Bool)
        case foreign(ForeignRoutes.Route)
        /// A Home Assistant discovery message: kept for onboarding, counted as ignored.
        case discovery
        case rejected(RejectReason)
    }

    /// Topics the pipeline keeps (resolved, rejected) and the bytes of their copies: bounded
    /// whatever arrives.
    public var cachedTopics: (resolved: Int, rejected: Int, bytes: Int) {
        (topics.count, rejectedTopics.count, topics.keyBytes + rejectedTopics.keyBytes)
    }

    public init(registry: Registry, settings: IngestSettings = .init(), calendar: LocalCalendar, devices: [DeviceKey: DeviceState] = [:]) {
        self.registry = registry
        self.settings = settings
        self.calendar = calendar
        self.devices = []
        apply(registry: registry, restoring: devices)
    }

    /// Swaps in a new registry (SIGHUP), keeping the state of devices that remain.
    public mutating func apply(registry new: Registry, restoring saved: [DeviceKey: DeviceState] = [:]) {
        var byKey = saved
        for (i, d) in registry.devices.enumerated() where i < devices.count {
            byKey[d.key] = devices[i]
        }
        registry = new
        devices = new.devices.map { byKey[$0.key] ?? DeviceState() }
        topics = TopicTable()
        rejectedTopics.removeAll()
        craftsmanIndex = Dictionary(new.craftsmen.enumerated().map { ($1.id, Int32($0)) }, uniquingKeysWith: { a, _ in a })
        loomAssignments = new.devices.map { d in
            guard let loomID = d.loom, let loom = new.loom(loomID) else { return [] }
            return loom.assignments.map { ($0.since, craftsmanIndex[$0.craftsman] ?? -1) }
        }
        meterCraftsman = new.devices.map { d in d.craftsman.flatMap { craftsmanIndex[$0] } ?? -1 }
        foreign = ForeignRoutes(registry: new)
        traits = new.devices.map { DeviceTraits($0.mapping) }
        patternTopicsCached = 0
        dirty = Array(devices.indices)
        isDirty = Array(repeating: true, count: devices.count)
    }

    public mutating func markClean() {
        for i in dirty { isDirty[i] = false }
        dirty.removeAll(keepingCapacity: true)
    }

    @inline(__always) mutating func markDirty(_ index: Int) {
        if !isDirty[index] {
            isDirty[index] = true
            dirty.append(index)
        }
    }

    /// Ingests one MQTT message, topic and payload as received (the topic's bytes are looked
    /// up as they are: a known topic costs no allocation). `now` is the receive time (ms), used
    /// when a reading has no `ts`. `payloadTooLarge`: the payload was too large to keep, and
    /// `payload` is empty.
    public mutating func ingest(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, now: Int64, payloadTooLarge: Bool = false) {
        let entry = lookUp(topic)
        switch entry {
        case .rejected(let reason):
            if reason == .unknownDevice { unknownTopics.record(topic: topic, payload: payload, now: now) }
            reject(reason, topic: topic, device: nil)
        case .foreign(let route):
            ingestForeign(route, topic: topic, payload: payload, now: now, payloadTooLarge: payloadTooLarge)
        case .discovery:
            stats.ignored += 1
            unknownTopics.record(topic: topic, payload: payload, now: now)
        case .device(let index, let isStatus):
            if payloadTooLarge { return reject(.tooLarge, topic: topic, device: index) }
            if isStatus {
                status(index, payload: payload, now: now, topic: topic)
                return
            }
            let kind = registry.devices[index].kind
            PayloadParser.parse(payload, kind: kind, limits: settings.limits) { result in
                switch result {
                case .success(let reading): accept(reading, device: index, now: now, topic: topic)
                case .failure(let reason): reject(reason, topic: topic, device: index)
                }
            }
        }
    }

    public mutating func ingest(topic: String, payload: UnsafeRawBufferPointer, now: Int64) {
        var t = topic
        t.withUTF8 { ingest(topic: UnsafeRawBufferPointer($0), payload: payload, now: now) }
    }

    public mutating func ingest(topic: String, payload: [UInt8], now: Int64) {
        payload.withUnsafeBytes { ingest(topic: topic, payload: $0, now: now) }
    }

    /// The topic's device, from the cache or parsed (and then cached if it is a device's).
    @inline(__always) private mutating func lookUp(_ topic: UnsafeRawBufferPointer) -> TopicEntry {
        if let cached = topics[topic] { return cached }
        if let reason = rejectedTopics[topic] { return .rejected(reason) }
        let (entry, viaPattern) = resolve(String(decoding: topic, as: UTF8.self))
        switch entry {
        case .device:
            topics[topic] = entry
        case .foreign:
            // Topics found through a pattern can vary without end: only so many are kept.
            if viaPattern {
                guard patternTopicsCached < Self.patternTopicCacheLimit else { break }
                patternTopicsCached += 1
            }
            topics[topic] = entry
        case .discovery:
            break
        case .rejected(let reason):
            guard topic.count <= Self.rejectedTopicCacheMaxBytes else { break }
            if rejectedTopics.count >= Self.rejectedTopicCacheLimit { rejectedTopics.removeAll() }
            rejectedTopics[topic] = reason
        }
        return entry
    }

    /// A topic under the registry's prefix is the device protocol's; any other is an
    /// off-the-shelf device's if one claims it, else `unknown_device`.
    private func resolve(_ topic: String) -> (TopicEntry, viaPattern: Bool) {
        let native =
            topic.utf8.starts(with: registry.topicPrefix.utf8)
            && topic.utf8.dropFirst(registry.topicPrefix.utf8.count).first == UInt8(ascii: "/")
        guard native else {
            if let (route, viaPattern) = foreign.resolve(topic) { return (.foreign(route), viaPattern) }
            if UnknownTopic.isDiscovery(topic) { return (.discovery, false) }
            return (.rejected(.unknownDevice), false)
        }
        switch DeviceTopic.parse(topic, prefix: registry.topicPrefix) {
        case .failure(let r): return (.rejected(r), false)
        case .success(let t):
            guard let i = registry.deviceIndex(t.key), registry.devices[i].mapping == nil else {
                return (.rejected(.unknownDevice), false)
            }
            return (.device(i, isStatus: t.isStatus), false)
        }
    }

    mutating func reject(_ reason: RejectReason, topic: UnsafeRawBufferPointer, device: Int?) {
        stats.rejected[reason.rawValue] += 1
        observer?.rejected(reason, topic: topic, device: device)
    }

    private mutating func status(_ index: Int, payload: UnsafeRawBufferPointer, now: Int64, topic: UnsafeRawBufferPointer) {
        // `online` or `offline`, perhaps with whitespace: anything longer is not a status.
        guard payload.count <= 64 else { return reject(.badType, topic: topic, device: index) }
        let text = String(decoding: payload, as: UTF8.self).trimmingWhitespace()
        let online: Bool
        switch text {
        case "online": online = true
        case "offline": online = false
        default: return reject(.badType, topic: topic, device: index)
        }
        applyStatus(index, online: online, now: now)
    }

    /// A device's Last Will (`offline`) or its return (`online`), received at `now`.
    mutating func applyStatus(_ index: Int, online: Bool, now: Int64) {
        stats.statusMessages += 1
        if !online {
            // Only when it went offline is recorded: the device is silent from this moment (a
            // state or voltage does not hold past it, and a power meter's outage begins), but
            // readings close intervals from their own times, so a board that uploads what it
            // buffered meanwhile books each interval once.
            if devices[index].offlineSince == nil { devices[index].offlineSince = now }
            markDirty(index)
        }
        observer?.status(device: index, online: online, ts: now)
    }

    /// A reading with no device time takes the receive time, and such readings are ordered by
    /// arrival: never before the device's last reading, never out of order at the same time.
    @inline(__always)
    mutating func accept(_ reading: Reading, device index: Int, now: Int64, topic: UnsafeRawBufferPointer) {
        var r = reading
        let deviceTime = r.ts != nil
        // Before the age checks: a device whose clock is far off is rejected, and shown why.
        if let t = r.ts, traits[index].contains(.sendsTime) { noteSkew(index, ts: t, now: now) }
        var d = devices[index]
        let ts = r.ts ?? max(now, d.lastTs ?? now)
        if ts < now - settings.limits.maxAgeMillis { return reject(.tooOld, topic: topic, device: index) }
        if ts > now + settings.limits.maxFutureMillis { return reject(.inFuture, topic: topic, device: index) }
        let partial = traits[index].contains(.partial)
        if partial {
            if let reason = Self.partialOrder(&r, ts: ts, deviceTime: deviceTime, after: d) {
                return reject(reason, topic: topic, device: index)
            }
        } else if let reason = Self.order(ts: ts, seq: r.seq, deviceTime: deviceTime, after: d) {
            return reject(reason, topic: topic, device: index)
        }
        // A partial message older than the device's last one updates only its counters.
        let advances = !partial || ts >= (d.lastTs ?? .min)
        let hour = calendar.hourStart(atMillis: ts)
        let key = BucketKey(hour: hour, device: Int32(index), craftsman: craftsman(device: index, at: ts))

        // Time-weighted state first: the interval up to this reading belongs to the old state.
        if advances { closeIntervals(index, state: &d, until: ts) }
        // A reading from after the device went offline ends the offline spell (a power meter's
        // outage lasted until it); one from before it was buffered and leaves it standing.
        if let off = d.offlineSince, ts >= off {
            if registry.devices[index].kind == .power {
                addSpan(device: index, from: off, to: ts, metric: .noPowerMs)
            }
            d.offlineSince = nil
        }

        if r.mask != 0 { applyCounters(r, device: index, state: &d, bucket: key, ts: ts, topic: topic) }
        if let s = r.state {
            if s != .run && d.state == .run { deltas.add(key, .stoppages, 1) }
            if d.state != s || d.stateTs == nil { d.state = s }
            d.stateTs = ts
        }
        if let v = r[.v] {
            d.voltage = v
            d.voltageTs = ts
        }
        d.highestTs = max(ts, d.highestTs ?? d.lastTs ?? ts)
        if advances { d.lastTs = ts }
        d.heardAt = now
        if let seq = r.seq { d.lastSeq = seq }
        devices[index] = d
        markDirty(index)
        stats.accepted += 1
        observer?.accepted(device: index, reading: r, ts: ts, receivedAt: now)
    }

    /// Why a reading at `ts` with `seq` cannot follow what device state `d` accepted, if it
    /// cannot (docs/protocol.md, "Duplicates, order and a board's clock"): the same `seq`, or a
    /// lower one at no later time than the highest accepted, is a duplicate (a lower one at a
    /// later time means the board restarted its numbering); a `ts` not later than the last
    /// accepted one is out of order, unless a higher `seq` says the board's clock stepped back.
    @inline(__always) static func order(ts: Int64, seq: Int64?, deviceTime: Bool = true, after d: DeviceState) -> RejectReason? {
        guard let lastTs = d.lastTs else { return nil }
        // Never below `lastTs` once kept (set with it at every accepted reading).
        let highest = d.highestTs ?? lastTs
        if let seq, let lastSeq = d.lastSeq {
            if seq == lastSeq || (seq < lastSeq && ts <= highest) { return .duplicate }
            if seq > lastSeq { return nil }
        }
        return deviceTime && ts <= lastTs ? .outOfOrder : nil
    }

    /// Each cumulative counter of a reading through the counter rules; increases land in the
    /// reading's bucket.
    @inline(__always) private mutating func applyCounters(
        _ r: Reading, device index: Int, state d: inout DeviceState, bucket key: BucketKey, ts: Int64, topic: UnsafeRawBufferPointer
    ) {
        for f in Field.allCases where f.isCounter && r.has(f) {
            let x = r.values[f.rawValue]
            if f == .runS { d.hasRunCounter = true }
            let decision = CounterRules.apply(
                x, ts: ts, to: &d.counters[f.counterSlot!], maxPerMinute: settings.rates.limit(f),
                restoresOlderTotal: traits[index].contains(.restoresOlderTotal))
            let inc: Double
            switch decision {
            case .baseline, .pendingDip: inc = 0
            case .increase(let v): inc = v
            case .glitch(let v):
                inc = v
                stats.glitches += 1
                observer?.counterEvent(device: index, field: f, decision: decision, value: x, ts: ts)
            case .reset(let v):
                inc = v
                stats.resets += 1
                observer?.counterEvent(device: index, field: f, decision: decision, value: x, ts: ts)
            case .implausible:
                inc = 0
                stats.rejected[RejectReason.implausible.rawValue] += 1
                observer?.rejected(.implausible, topic: topic, device: index)
            }
            if inc > 0 {
                observer?.increased(device: index, field: f, by: inc, ts: ts)
                switch f {
                case .picks: deltas.add(key, .picks, inc)
                case .pieces: deltas.add(key, .pieces, inc)
                case .skeins: deltas.add(key, .skeins, inc)
                case .runS: deltas.add(key, .runMs, inc * 1000)
                case .kwh: deltas.add(key, .kwh, inc)
                case .l: deltas.add(key, .litres, inc)
                default: break
                }
            }
        }
    }

    /// Books the time since the last state/voltage reading, held at most `stalenessMillis`
    /// past the device's last reading, and not past the moment the device went offline.
    private mutating func closeIntervals(_ index: Int, state d: inout DeviceState, until ts: Int64) {
        var limit = min(ts, (d.lastTs ?? ts) + settings.stalenessMillis)
        let offline = d.offlineSince ?? .max
        if let s = d.state, let from = d.stateTs, min(limit, max(offline, from)) > from {
            let limit = min(limit, max(offline, from))
            switch s {
            case .run: if !d.hasRunCounter { addSpan(device: index, from: from, to: limit, metric: .runMs) }
            case .stop: addSpan(device: index, from: from, to: limit, metric: .stopMs)
            case .fault: addSpan(device: index, from: from, to: limit, metric: .faultMs)
            }
        }
        // From this reading on the state holds again (the gap past staleness stays unknown).
        if d.state != nil { d.stateTs = ts }
        if let v = d.voltage, let from = d.voltageTs, min(limit, max(offline, from)) > from {
            limit = min(limit, max(offline, from))
            if v < settings.noPowerBelow {
                addSpan(device: index, from: from, to: limit, metric: .noPowerMs)
            } else if v < settings.voltageLow || v > settings.voltageHigh {
                addSpan(device: index, from: from, to: limit, metric: .vOutMs)
            }
        }
        // From this reading on the voltage holds again (after a clock step back too).
        if d.voltage != nil { d.voltageTs = ts }
    }

    /// Adds `to - from` ms to `metric`, split at local hour boundaries.
    private mutating func addSpan(device index: Int, from: Int64, to: Int64, metric: Metric) {
        var t = from
        while t < to {
            let hour = calendar.hourStart(atMillis: t)
            let end = min(to, (hour + 3600) * 1000)
            let key = BucketKey(hour: hour, device: Int32(index), craftsman: craftsman(device: index, at: t))
            deltas.add(key, metric, Double(end - t))
            t = end
        }
    }

    @inline(__always) private func craftsman(device index: Int, at ts: Int64) -> Int32 {
        let a = loomAssignments[index]
        if a.isEmpty { return meterCraftsman[index] }
        var c = a[0].craftsman
        for x in a.dropFirst() where x.since <= ts { c = x.craftsman }
        return c
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
