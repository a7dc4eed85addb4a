import Foundation
import SentraCore

// MARK: Off-the-shelf devices: their messages, in their own formats (ForeignDevices.swift)

extension Simulation {
    /// Tasmota's `SaveData` default: the totals are written to flash every hour.
    static let saveDataMillis: Int64 = 3_600_000

    /// Device `i`'s turn in this interval, in its format. `glitch`: its totals read 0 this once.
    mutating func publishForeign<S: SimulationSink>(_ i: Int, glitch: Bool, at ts: Int64, _ sink: S) throws {
        guard let spec = devices[i].foreign else { return }
        switch spec.format {
        case .tasmota:
            saveTotals(i, at: ts)
            try tasmota(i, spec, glitch: glitch, at: ts, sink)
        case .shellyGen2: try shellyGen2(i, spec, glitch: glitch, at: ts, sink)
        case .shellyGen1: try shellyGen1(i, spec, glitch: glitch, at: ts, sink)
        case .esphome: try esphome(i, spec, glitch: glitch, at: ts, sink)
        }
    }

    /// The model's value of field `f` in the field's units, if the device's model has one.
    func fieldValue(_ f: Field, device i: Int) -> Double? {
        let model = devices[i].model
        switch devices[i].kind {
        case .loom:
            let m = looms[model]
            switch f {
            case .picks: return Double(m.picks)
            case .pieces: return Double(m.pieces)
            case .skeins: return Double(m.skeins)
            case .runS: return Double(m.runS)
            default: return nil
            }
        case .power:
            let m = powers[model]
            switch f {
            case .kwh: return m.energyWh / 1000
            case .v: return m.v
            case .a: return m.a
            case .w: return m.w
            default: return nil
            }
        case .water:
            let m = waters[model]
            switch f {
            case .l: return m.decilitres / 10
            case .lpm: return m.lpm
            case .level: return m.level
            case .bar: return m.bar
            default: return nil
            }
        }
    }

    /// Counter `c`'s value as device `i` writes it: a whole number of its units (0 in a glitch).
    func written(_ c: SimCounter, _ f: Field, device i: Int, glitch: Bool) -> Int64 {
        guard !glitch, let v = fieldValue(f, device: i) else { return 0 }
        let unit = facts(i).units[c.rawValue] / c.truthUnitsPerFieldUnit
        return Int64((v / unit + 1e-9).rounded(.down))
    }

    func facts(_ i: Int) -> GroundTruth.DeviceFacts { truth.facts(i) }

    /// One message of device `i`; `reading` (if any) is what the truth learns from it.
    mutating func send<S: SimulationSink>(
        _ i: Int, _ topic: String, _ payload: String, at ts: Int64, _ sink: S, _ reading: SentReading?
    )
        throws
    {
        var text = payload
        try text.withUTF8 { try sink.message(topic: topic, payload: UnsafeRawBufferPointer($0), eventTime: ts) }
        messages += 1
        guard let r = reading else { return }
        readings += 1
        if options.collectTruth { truth.feed(device: i, r) }
    }

    /// A reading of device `i` at `ts` as the truth sees it.
    func sent(_ i: Int, at ts: Int64, glitch: Bool) -> SentReading {
        var r = SentReading(ts: ts, seq: 0)
        r.boot = devices[i].boot
        r.glitch = glitch
        return r
    }

    // MARK: Tasmota

    /// `tele/<topic>/SENSOR` as Tasmota prints it: `Time` local with no offset, `ENERGY` for a
    /// power meter (`Total` kWh with 3 decimals, `Voltage` whole volts), `COUNTER` pulses.
    private mutating func tasmota<S: SimulationSink>(_ i: Int, _ spec: ForeignSpec, glitch: Bool, at ts: Int64, _ sink: S) throws {
        var r = sent(i, at: ts, glitch: glitch)
        var json = "{\"Time\":\"\(localTime(ts))\""
        if devices[i].kind == .power {
            let m = powers[devices[i].model]
            let wh = written(.kwh, .kwh, device: i, glitch: glitch)
            r.set(.kwh, wh)
            let volts = Int64(m.v.rounded())
            r.decivolts = volts * 10
            let apparent = m.v * m.a
            json += ",\"ENERGY\":{\"TotalStartTime\":\"2026-01-01T00:00:00\",\"Total\":\(Self.fixed(wh, 3)),\"Yesterday\":1.234"
            json += ",\"Today\":0.567,\"Period\":\(Int((m.w / 360).rounded())),\"Power\":\(Int(m.w.rounded()))"
            json += ",\"ApparentPower\":\(Int(apparent.rounded())),\"ReactivePower\":\(Int((apparent * 0.39).rounded()))"
            json += ",\"Factor\":\(m.a > 0 ? "0.92" : "0.00"),\"Voltage\":\(volts),\"Current\":\(Self.decimal(m.a, 3))}"
        }
        if !spec.values.isEmpty {
            json += ",\"COUNTER\":{"
            for (n, v) in spec.values.enumerated() {
                guard let c = SimCounter(v.field) else { continue }
                let pulses = written(c, v.field, device: i, glitch: glitch)
                r.set(c, pulses)
                json += "\(n > 0 ? "," : "")\"\(v.name)\":\(pulses)"
            }
            json += "}"
        }
        json += "}"
        try send(i, "tele/\(spec.name)/SENSOR", json, at: ts, sink, r)
    }

    /// Tasmota writes its totals to flash every `SaveData` seconds; a power cut brings back
    /// what was written last.
    private mutating func saveTotals(_ i: Int, at ts: Int64) {
        guard devices[i].foreignLive.saved == nil || ts - devices[i].foreignLive.savedAt >= Self.saveDataMillis else { return }
        let model = devices[i].model
        var s = SavedTotals()
        switch devices[i].kind {
        case .power: s.energyWh = powers[model].energyWh
        case .water: s.decilitres = waters[model].decilitres
        case .loom:
            let m = looms[model]
            (s.picks, s.pieces, s.skeins, s.runS) = (m.picks, m.pieces, m.skeins, m.runS)
        }
        devices[i].foreignLive.saved = s
        devices[i].foreignLive.savedAt = ts
    }

    /// The power is back after a cut: the device starts with the totals it last saved.
    mutating func restoreSaved(_ i: Int) {
        devices[i].cut = false
        devices[i].boot += 1
        devices[i].sinceRestart = 0
        guard let s = devices[i].foreignLive.saved else { return }
        let model = devices[i].model
        switch devices[i].kind {
        case .power: powers[model].energyWh = s.energyWh
        case .water: waters[model].decilitres = s.decilitres
        case .loom:
            looms[model].picks = s.picks
            looms[model].pieces = s.pieces
            looms[model].skeins = s.skeins
            looms[model].runS = s.runS
        }
        devices[i].foreignLive.savedAt = devices[i].cutUntil
    }

    /// `YYYY-MM-DDTHH:MM:SS`, the sentra's local time, whole seconds, no offset.
    mutating func localTime(_ ms: Int64) -> String {
        let local = ms / 1000 + calendar.offset(atMillis: ms)
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secs = local - days * 86_400
        return LocalCalendar.civilDate(daysSinceEpoch: days)
            + String(format: "T%02d:%02d:%02d", Int(secs / 3600), Int(secs / 60 % 60), Int(secs % 60))
    }

    // MARK: Shelly gen2

    /// `NotifyStatus` on `<prefix>/events/rpc` with what changed: power, current and voltage
    /// when they moved, `aenergy` once a minute; now and then the component's full status on
    /// `<prefix>/status/<component>` (no time) and a `NotifyEvent` (nothing to count).
    private mutating func shellyGen2<S: SimulationSink>(_ i: Int, _ spec: ForeignSpec, glitch: Bool, at ts: Int64, _ sink: S) throws {
        let m = powers[devices[i].model]
        var live = devices[i].foreignLive
        defer { devices[i].foreignLive = live }
        let em1 = spec.component.hasPrefix("em1:")
        let powerKey = em1 ? "act_power" : "apower"
        let tsText = Self.fixed(ts / 10, 2)
        let head = "{\"src\":\"\(spec.name)\",\"dst\":\"\(spec.name)/events\",\"method\":\"NotifyStatus\",\"params\":{\"ts\":\(tsText),"
        let apower = Int64((m.w * 10).rounded())
        let decivolts = Int64((m.v * 10).rounded())
        let voltsMoved = live.decivolts.map { abs(decivolts - $0) >= 10 } ?? true
        if apower != live.apowerTenths || voltsMoved {
            var r = sent(i, at: ts, glitch: false)
            var body = "\"\(powerKey)\":\(Self.fixed(apower, 1)),\"current\":\(Self.decimal(m.a, 3))"
            if voltsMoved {
                body += ",\"voltage\":\(Self.fixed(decivolts, 1))"
                r.decivolts = decivolts
                live.decivolts = decivolts
            }
            live.apowerTenths = apower
            try send(i, "\(spec.name)/events/rpc", head + "\"\(spec.component)\":{\"id\":0,\(body)}}}", at: ts, sink, r)
        }
        let minute = ts / 60_000
        if minute != live.energyMinute || glitch {
            // After a glitch's 0 the next interval reports the energy again, so the reading
            // after a glitch carries the field (two glitches in a row would read as a reset).
            live.energyMinute = glitch ? .min : minute
            let mwh = written(.kwh, .kwh, device: i, glitch: glitch)
            var r = sent(i, at: ts, glitch: glitch)
            r.set(.kwh, mwh)
            let energy =
                em1
                ? "\"em1data:\(spec.component.dropFirst(4))\":{\"id\":0,\"total_act_energy\":\(Self.fixed(mwh, 3))}"
                : "\"\(spec.component)\":{\"id\":0,\"aenergy\":{\"total\":\(Self.fixed(mwh, 3)),\"by_minute\":[\(Self.fixed(Int64(m.w / 60 * 1000), 3)),0.000,0.000],\"minute_ts\":\(minute * 60)}}"
            try send(i, "\(spec.name)/events/rpc", head + energy + "}}", at: ts, sink, r)
        }
        try shellyGen2Extras(i, spec, &live, at: ts, sink)
    }

    /// Every ten minutes the full status (when messages without a time are sent at all), every
    /// half hour a `NotifyEvent`.
    private mutating func shellyGen2Extras<S: SimulationSink>(
        _ i: Int, _ spec: ForeignSpec, _ live: inout ForeignLive, at ts: Int64, _ sink: S
    )
        throws
    {
        let m = powers[devices[i].model]
        if options.sendsUntimed && !spec.component.hasPrefix("em1:") && ts / 600_000 != live.statusSlot {
            live.statusSlot = ts / 600_000
            let mwh = written(.kwh, .kwh, device: i, glitch: false)
            let decivolts = Int64((m.v * 10).rounded())
            var r = sent(i, at: ts, glitch: false)
            r.set(.kwh, mwh)
            r.decivolts = decivolts
            let body =
                "{\"id\":0,\"source\":\"init\",\"output\":true,\"apower\":\(Self.decimal(m.w, 1)),\"voltage\":\(Self.fixed(decivolts, 1)),"
                + "\"current\":\(Self.decimal(m.a, 3)),\"aenergy\":{\"total\":\(Self.fixed(mwh, 3)),\"by_minute\":[0.000,0.000,0.000],"
                + "\"minute_ts\":\(ts / 60_000 * 60)},\"temperature\":{\"tC\":41.2,\"tF\":106.2}}"
            try send(i, "\(spec.name)/status/\(spec.component)", body, at: ts, sink, r)
        }
        if ts / 1_800_000 != live.eventSlot {
            live.eventSlot = ts / 1_800_000
            let body =
                "{\"src\":\"\(spec.name)\",\"dst\":\"\(spec.name)/events\",\"method\":\"NotifyEvent\",\"params\":{\"ts\":\(Self.fixed(ts / 10, 2)),"
                + "\"events\":[{\"component\":\"sys\",\"event\":\"scheduled_restart\",\"time_ms\":0,\"ts\":\(Self.fixed(ts / 10, 2))}]}}"
            try send(i, "\(spec.name)/events/rpc", body, at: ts, sink, nil)
        }
    }

    // MARK: Shelly gen1

    /// One plain value a topic: a relay's `power` (W) and `energy` (watt-minutes), or an
    /// energy meter's `power`, `voltage`, `current` and `total` (Wh).
    private mutating func shellyGen1<S: SimulationSink>(_ i: Int, _ spec: ForeignSpec, glitch: Bool, at ts: Int64, _ sink: S) throws {
        let m = powers[devices[i].model]
        let base = "shellies/\(spec.name)/\(spec.emeter ? "emeter" : "relay")/\(spec.channel)/"
        try send(i, base + "power", Self.decimal(m.w, 2), at: ts, sink, sent(i, at: ts, glitch: false))
        let units = written(.kwh, .kwh, device: i, glitch: glitch)
        var r = sent(i, at: ts, glitch: glitch)
        r.set(.kwh, units)
        if spec.emeter {
            let decivolts = Int64((m.v * 10).rounded())
            var v = sent(i, at: ts, glitch: false)
            v.decivolts = decivolts
            try send(i, base + "voltage", Self.fixed(decivolts, 1), at: ts, sink, v)
            try send(i, base + "current", Self.decimal(m.a, 2), at: ts, sink, sent(i, at: ts, glitch: false))
            try send(i, base + "total", Self.fixed(units, 1), at: ts, sink, r)
        } else {
            try send(i, base + "energy", String(units), at: ts, sink, r)
        }
    }

    // MARK: ESPHome

    /// Each configured sensor's value as its own message, every interval; the binary sensor
    /// when its state changes.
    private mutating func esphome<S: SimulationSink>(_ i: Int, _ spec: ForeignSpec, glitch: Bool, at ts: Int64, _ sink: S) throws {
        if let b = spec.binarySensor, devices[i].kind == .loom {
            // ESPHome's binary sensor is on or off: a fault reads as off.
            let state: LoomState = looms[devices[i].model].state == .run ? .run : .stop
            if devices[i].foreignLive.publishedState != state {
                devices[i].foreignLive.publishedState = state
                var r = sent(i, at: ts, glitch: false)
                r.state = state
                try send(i, "\(spec.name)/binary_sensor/\(b)/state", state == .run ? "ON" : "OFF", at: ts, sink, r)
            }
        }
        for v in spec.values {
            let topic = "\(spec.name)/sensor/\(v.name)/state"
            if let c = SimCounter(v.field) {
                let n = written(c, v.field, device: i, glitch: glitch)
                var r = sent(i, at: ts, glitch: glitch)
                r.set(c, n)
                let decimals = c == .kwh || c == .litres ? 3 : 0
                try send(i, topic, Self.fixed(n, decimals), at: ts, sink, r)
            } else if let x = fieldValue(v.field, device: i) {
                var r = sent(i, at: ts, glitch: false)
                let shown = Int64((x / v.scale * 10).rounded())
                if v.field == .v { r.decivolts = Int64((Double(shown) * v.scale).rounded()) }
                try send(i, topic, Self.fixed(shown, 1), at: ts, sink, r)
            }
        }
    }

    // MARK: Restarts and garbage

    /// A restart: the broker publishes the Last Will as the connection drops, the device says
    /// `online` as it comes back (and ESPHome publishes its binary sensor's state again).
    mutating func foreignRestart<S: SimulationSink>(_ i: Int, at ts: Int64, _ sink: S) throws {
        guard !devices[i].saidOffline else { return }
        try status(i, online: false, at: ts, sink)
        try status(i, online: true, at: ts, sink)
        devices[i].foreignLive.publishedState = nil
        devices[i].foreignLive.energyMinute = .min
    }

    /// A payload the device's profile cannot read, on one of its topics.
    mutating func foreignGarbage<S: SimulationSink>(_ i: Int, at ts: Int64, _ sink: S) throws {
        guard let spec = devices[i].foreign else { return }
        let (topic, payload): (String, String)
        switch spec.format {
        case .tasmota: (topic, payload) = ("tele/\(spec.name)/SENSOR", "{\"Time\":\"\(localTime(ts))\",\"ENERGY\":{\"Total\":")
        case .shellyGen2:
            (topic, payload) = (
                "\(spec.name)/events/rpc",
                "{\"method\":\"NotifyStatus\",\"params\":{\"ts\":\(ts / 1000),\"\(spec.component)\":{\"apower\":\"high\"}}}"
            )
        case .shellyGen1:
            (topic, payload) = ("shellies/\(spec.name)/\(spec.emeter ? "emeter" : "relay")/\(spec.channel)/power", "overpower")
        case .esphome: (topic, payload) = ("\(spec.name)/sensor/\(spec.values.first?.name ?? "picks")/state", "ERR sensor timeout")
        }
        try send(i, topic, payload, at: ts, sink, nil)
    }

    // MARK: Numbers as the devices print them

    /// `units / 10^decimals` with exactly `decimals` digits after the point.
    static func fixed(_ units: Int64, _ decimals: Int) -> String {
        var w = ByteWriter(capacity: 24)
        w.append(fixed: units, decimals: decimals)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// A measurement rounded to `decimals` places.
    static func decimal(_ x: Double, _ decimals: Int) -> String { fixed(ByteWriter.units(max(0, x), decimals: decimals), decimals) }
}
