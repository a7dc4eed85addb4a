import Foundation
import SentraCore

// MARK: Stepping the models

extension Simulation {
    /// One interval of a loom: stalled, idle out of shift, stopped, or weaving.
    mutating func stepLoom(_ li: Int, tick: Int64, dt: Double) {
        var m = looms[li]
        var dev = devices[m.device]
        defer {
            looms[li] = m
            devices[m.device] = dev
        }
        if dev.pendingReboot && !dev.keepsTotals {
            m.picks = 0
            m.pieces = 0
            m.skeins = 0
            m.runS = 0
        }
        let c = Self.craftsman(loomAssignments[li], at: tick)
        let p = Self.profile(craftsmen, c)
        let shift = inShift[dev.workshop]
        if tick < dev.stallUntil {
            if shift {
                m.state = .run
                m.runS += Int64(dt)
                addLoad(m.watts, workshop: dev.workshop, craftsman: c)
                return
            }
            endStall(&dev, at: tick)
        }
        guard shift else {
            m.state = .stop
            m.wasInShift = false
            return
        }
        guard !Self.staysStopped(&m, dev: &dev, profile: p, dt: dt) else { return }
        m.state = .run
        Self.weave(&m, dev: &dev, profile: p, dt: dt)
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

    /// Who works the loom at `tick`, from its assignments (never empty).
    @inline(__always) private static func craftsman(_ a: [(since: Int64, craftsman: Int)], at tick: Int64) -> Int {
        var c = a[0].craftsman
        for x in a.dropFirst() where x.since <= tick { c = x.craftsman }
        return c
    }

    /// The shift ended during a stall: the stall is over (its rule only looks in shift).
    private mutating func endStall(_ dev: inout DeviceSim, at tick: Int64) {
        dev.stallUntil = tick
        if dev.stallWindow >= 0 {
            windows[dev.stallWindow].endMs = tick
            windows[dev.stallWindow].end = rfc3339(tick, timeZone: timeZone)
        }
    }

    /// In shift: a stop that goes on (or begins now, at the shift's start or by chance) keeps
    /// the loom still this interval.
    private static func staysStopped(_ m: inout LoomModel, dev: inout DeviceSim, profile p: CraftsmanProfile, dt: Double) -> Bool {
        if !m.wasInShift {
            m.wasInShift = true
            m.stopRemainingMs = Int64(dev.rng.exponential(mean: 180_000))
            m.state = .stop
        }
        if m.stopRemainingMs > 0 {
            m.stopRemainingMs -= Int64(dt * 1000)
            if m.stopRemainingMs > 0 { return true }
            m.state = .run
        }
        if dev.rng.chance(dt / p.meanRunSeconds) {
            let r = dev.rng.unit()
            let minutes = r < 0.65 ? dev.rng.uniform(1, 5) : r < 0.95 ? dev.rng.uniform(5, 15) : dev.rng.uniform(20, 75)
            m.stopRemainingMs = Int64(minutes * 60_000)
            m.state = dev.rng.chance(0.1) ? .fault : .stop
            return true
        }
        return false
    }

    /// A running interval: picks at the craftsman's rate, skeins, running seconds.
    private static func weave(_ m: inout LoomModel, dev: inout DeviceSim, profile p: CraftsmanProfile, dt: Double) {
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
    }

    @inline(__always) private mutating func addLoad(_ watts: Double, workshop: Int, craftsman: Int) {
        loomWattsByWorkshop[workshop] += watts
        if craftsman >= 0 && craftsman < loomWattsByCraftsman.count { loomWattsByCraftsman[craftsman] += watts }
    }

    mutating func stepWater(_ wi: Int, tick: Int64, dt: Double) {
        var m = waters[wi]
        var dev = devices[m.device]
        defer {
            waters[wi] = m
            devices[m.device] = dev
        }
        if dev.pendingReboot && !dev.keepsTotals { m.decilitres = 0 }
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

    mutating func stepPower(_ pi: Int, tick: Int64, dt: Double) {
        var m = powers[pi]
        var dev = devices[m.device]
        defer {
            powers[pi] = m
            devices[m.device] = dev
            // The last meter of the tick clears the pumps for the next one.
            if pi == powers.count - 1 { for w in pumpOn.indices { pumpOn[w] = false } }
        }
        if dev.pendingReboot && !dev.keepsTotals { m.energyWh = 0 }
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
}

// MARK: Model state

struct CraftsmanProfile {
    var picksPerMinute: Double
    var pieceMin: Int
    var pieceMax: Int
    var meanRunSeconds: Double
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
