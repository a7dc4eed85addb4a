import Foundation
import SentraCore

// MARK: Publishing

extension Simulation {
    private static let online = Array("online".utf8)
    private static let offline = Array("offline".utf8)
    /// Readings a device that held them through a network outage sends per message.
    static let heldBatch = 50

    mutating func status<S: SimulationSink>(_ i: Int, online: Bool, at ts: Int64, _ sink: S) throws {
        let text = devices[i].foreign.map { online ? $0.onlineWord : $0.offlineWord } ?? (online ? Self.online : Self.offline)
        try text.withUnsafeBytes { try sink.message(topic: devices[i].statusTopic, payload: $0, eventTime: ts) }
        messages += 1
        if options.collectTruth { truth.status(device: i, online: online, at: ts) }
    }

    /// Device `i`'s turn in this interval: its status, a garbage payload, a late copy and its
    /// reading, as its faults say.
    mutating func publish<S: SimulationSink>(_ i: Int, tick: Int64, at ts: Int64, _ sink: S) throws {
        try restartIfDue(i, tick: tick, at: ts, sink)
        var dev = devices[i]
        // Offline: a power meter without supply that says so, a device without network, or
        // one whose power was cut.
        let powerOff = (tick < dev.outageUntil && dev.kind == .power && dev.outageOffline) || dev.cut
        let buffering = tick < dev.bufferUntil
        try sayStatus(i, &dev, offline: powerOff || buffering, at: ts, sink)
        if dev.pendingGarbage && !buffering && !powerOff {
            dev.pendingGarbage = false
            devices[i] = dev
            if dev.foreign != nil { try foreignGarbage(i, at: ts, sink) } else { try garbage(i, at: ts, sink) }
            dev = devices[i]
        }
        if powerOff || tick < dev.silentUntil {
            dev.resuming = true
            devices[i] = dev
            return
        }
        if dev.foreign != nil {
            let glitch = Self.takeReadingFaults(&dev).glitch
            dev.made += 1
            dev.lastMadeGlitch = glitch
            devices[i] = dev
            return try publishForeign(i, glitch: glitch, at: ts, sink)
        }
        try sendDelayed(i, &dev, at: ts, sink)
        let faults = Self.takeReadingFaults(&dev)
        let seq = dev.seq
        dev.seq += 1
        dev.made += 1
        dev.lastMadeGlitch = faults.glitch
        devices[i] = dev

        var r = SentReading(ts: ts, seq: seq)
        r.boot = dev.boot
        r.glitch = faults.glitch
        encode(&r, kind: dev.kind, model: dev.model)
        if faults.delay > 0 {
            var late = r
            late.repeated = true
            devices[i].delayed = HeldReading(bytes: writer.bytes, reading: late)
            devices[i].delayCountdown = faults.delay
        }
        let bytes = writer.bytes
        try out(i, object: bytes, reading: r, at: ts, sink)
        if faults.duplicate {
            var copy = r
            copy.repeated = true
            try out(i, object: bytes, reading: copy, at: ts, sink)
        }
    }

    /// A board due to restart does (an off-the-shelf device says so on its status topic); a
    /// device whose power was cut comes back when the cut is over.
    private mutating func restartIfDue<S: SimulationSink>(_ i: Int, tick: Int64, at ts: Int64, _ sink: S) throws {
        if devices[i].pendingReboot {
            Self.restartBoard(&devices[i])
            if devices[i].foreign != nil { try foreignRestart(i, at: ts, sink) }
        }
        if devices[i].cut && tick >= devices[i].cutUntil { restoreSaved(i) }
    }

    /// The board starts over: its counters (zeroed by the model) and its numbering. What it
    /// held in memory is lost: a reading kept back to send late, readings buffered through a
    /// network outage.
    static func restartBoard(_ dev: inout DeviceSim) {
        dev.pendingReboot = false
        dev.seq = 0
        dev.boot += 1
        dev.sinceRestart = 0
        dev.delayed = nil
        dev.held.removeAll()
    }

    /// A device going offline says so (after a gateway uploads what it had batched); one
    /// coming back says `online` and sends what it held.
    private mutating func sayStatus<S: SimulationSink>(_ i: Int, _ dev: inout DeviceSim, offline: Bool, at ts: Int64, _ sink: S) throws {
        if offline && !dev.saidOffline {
            devices[i] = dev
            // A gateway uploads what it had batched before its network goes.
            if !batchReadings[i].isEmpty { try flushBatch(i, at: ts, sink) }
            devices[i].saidOffline = true
            // The broker publishes the device's Last Will.
            try status(i, online: false, at: ts, sink)
            dev = devices[i]
        } else if !offline && dev.saidOffline {
            dev.saidOffline = false
            devices[i] = dev
            try status(i, online: true, at: ts, sink)
            try flushHeld(i, at: ts, sink)
            dev = devices[i]
        }
    }

    /// An old reading, held back, is sent again late.
    private mutating func sendDelayed<S: SimulationSink>(_ i: Int, _ dev: inout DeviceSim, at ts: Int64, _ sink: S) throws {
        guard let held = dev.delayed else { return }
        dev.delayCountdown -= 1
        if dev.delayCountdown < 0 {
            dev.delayed = nil
            devices[i] = dev
            try out(i, object: held.bytes, reading: held.reading, at: ts, sink)
            dev = devices[i]
        }
    }

    /// The faults pending on a board that act on the reading it makes now, taken off it.
    static func takeReadingFaults(_ dev: inout DeviceSim) -> (glitch: Bool, duplicate: Bool, delay: Int) {
        // A glitch never hits a device's first reading, nor the reading after a glitch (two
        // zeros in a row read as a restart to 0): it waits for the next reading.
        // Nor the first reading after a silence: a counter at 0 would not dip, and the count
        // made meanwhile would then come within one interval, faster than plausible.
        var glitch = false
        // Nor the reading after a restart's first (it settles the drop: a glitch there would
        // confirm a drop to 0, and the next reading would jump from 0).
        let settling = dev.boot > 0 && dev.sinceRestart < 2
        dev.sinceRestart += 1
        if dev.pendingGlitches > 0 && dev.made > 0 && !dev.lastMadeGlitch && !dev.resuming && !settling {
            glitch = true
            dev.pendingGlitches -= 1
        }
        dev.resuming = false
        let duplicate = dev.pendingDuplicate
        dev.pendingDuplicate = false
        let delay = dev.pendingDelay
        dev.pendingDelay = 0
        return (glitch, duplicate, delay)
    }

    /// Writes reading `r`'s JSON object into `writer` from the device's model, noting in `r`
    /// every value as written.
    private mutating func encode(_ r: inout SentReading, kind: DeviceKind, model: Int) {
        let glitch = r.glitch
        writer.reset()
        writer.append("{\"ts\":")
        writer.append(int: r.ts)
        writer.append(",\"seq\":")
        writer.append(int: r.seq)
        switch kind {
        case .loom:
            let m = looms[model]
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
            let m = powers[model]
            r.decivolts = gauge("v", m.v, decimals: 1)
            _ = gauge("a", m.a, decimals: 2)
            _ = gauge("w", m.w, decimals: 1)
            counter(&r, .kwh, "kwh", glitch ? 0 : Int64(m.energyWh.rounded(.down)), decimals: 3)
        case .water:
            let m = waters[model]
            _ = gauge("lpm", m.lpm, decimals: 1)
            counter(&r, .litres, "l", glitch ? 0 : Int64(m.decilitres.rounded(.down)), decimals: 1)
            _ = gauge("level", m.level, decimals: 1)
            _ = gauge("bar", m.bar, decimals: 2)
        }
        writer.append(byte: UInt8(ascii: "}"))
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

    mutating func flushBatch<S: SimulationSink>(_ i: Int, at ts: Int64, _ sink: S) throws {
        batchBytes[i].append(UInt8(ascii: "]"))
        try batchBytes[i].withUnsafeBytes { try sink.message(topic: devices[i].topic, payload: $0, eventTime: ts) }
        messages += 1
        if options.collectTruth { for r in batchReadings[i] { truth.feed(device: i, r) } }
        batchReadings[i].removeAll(keepingCapacity: true)
    }

    /// The network is back: what the device held goes out in order, `heldBatch` readings a message.
    mutating func flushHeld<S: SimulationSink>(_ i: Int, at ts: Int64, _ sink: S) throws {
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

// MARK: Boards

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
    /// The device published nothing for a while (silent, or without supply) until this reading.
    var resuming = false
    /// Readings made since the board last restarted.
    var sinceRestart = 0
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

    /// How an off-the-shelf device publishes (nil: the device protocol).
    var foreign: ForeignSpec?
    /// The device keeps its totals through a restart (Tasmota keeps them in RTC memory).
    var keepsTotals = false
    /// A power cut (Tasmota): off until `cutUntil`, then back with the totals it last saved.
    var cut = false
    var cutUntil: Int64 = .min
    var foreignLive = ForeignLive()

    init(kind: DeviceKind, workshop: Int, topic: String, statusTopic: String, phase: Int64, rng: SimRandom) {
        self.kind = kind
        self.workshop = workshop
        self.topic = topic
        self.statusTopic = statusTopic
        self.phase = phase
        self.rng = rng
    }
}
