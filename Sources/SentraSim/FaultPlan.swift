import Foundation
import SentraCore

// MARK: Faults

extension Simulation {
    mutating func planFaults() throws(SimulationError) {
        var frng = SimRandom(seed: options.seed, stream: 2)
        let span = options.to - options.from
        for spec in options.faults {
            var device = -1
            if spec.kind != .disconnect {
                if let name = spec.device {
                    device = try named(name, for: spec.kind)
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

    /// The device a `--fault` names, if the fault can happen to it.
    private func named(_ name: String, for kind: FaultKind) throws(SimulationError) -> Int {
        guard let m = registry.devices.firstIndex(where: { $0.id == name }) else {
            throw SimulationError("--fault \(kind.rawValue): no device '\(name)'")
        }
        if let k = kind.deviceKind, registry.devices[m].kind != k {
            throw SimulationError("--fault \(kind.rawValue): device '\(name)' is not a \(k.rawValue) device")
        }
        if let why = unfit(kind, device: m) { throw SimulationError("--fault \(kind.rawValue): device '\(name)' \(why)") }
        return m
    }

    private func duration(_ kind: FaultKind, rng: inout SimRandom) -> Int64 {
        guard let r = kind.durationSeconds else { return 0 }
        return Int64(rng.int(r.lowerBound, r.upperBound)) * 1000
    }

    private func randomDevice(for kind: FaultKind, rng: inout SimRandom) -> Int? {
        let candidates = registry.devices.indices.filter {
            (kind.deviceKind == nil || registry.devices[$0].kind == kind.deviceKind) && unfit(kind, device: $0) == nil
                && !options.leaveOut.contains(registry.devices[$0].id)
        }
        guard !candidates.isEmpty else { return nil }
        return candidates[rng.int(0, candidates.count - 1)]
    }

    /// Why a fault cannot happen to device `d`, if it cannot: a power cut that restores an
    /// older total is Tasmota's; off-the-shelf devices do not number their readings, keep one
    /// back or buffer them through a network outage.
    private func unfit(_ kind: FaultKind, device d: Int) -> String? {
        let format = devices[d].foreign?.format
        switch kind {
        case .powercut: return format == .tasmota ? nil : "is not a Tasmota device (only Tasmota restores an older total after a power cut)"
        case .duplicate, .outOfOrder, .buffer:
            return format == nil ? nil : "is a \(format?.rawValue ?? "") device, which does not do that (the device protocol's boards do)"
        default: return nil
        }
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

    mutating func activate(_ f: PlannedFault, tick: Int64) throws {
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
        case .powercut:
            devices[d].cut = true
            devices[d].cutUntil = end
        case .disconnect: break
        }
    }
}
