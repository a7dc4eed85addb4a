import Foundation
import SentraCore

/// The sentra's hardware as the simulation starts: a board per device of the registry, a
/// model per loom and meter, and what the ground truth needs to know of each device.
struct Hardware {
    var devices: [DeviceSim] = []
    var looms: [LoomModel] = []
    var powers: [PowerModel] = []
    var waters: [WaterModel] = []
    /// Per loom model: its assignments resolved to craftsman indices.
    var loomAssignments: [[(since: Int64, craftsman: Int)]] = []
    var facts: [GroundTruth.DeviceFacts] = []

    private let registry: Registry
    private let craftsmanIndex: [String: Int]
    private let loomIndex: [String: Int]

    init(registry: Registry, options: SimulationOptions, craftsmen: [CraftsmanProfile]) throws(SimulationError) {
        self.registry = registry
        craftsmanIndex = Dictionary(registry.craftsmen.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        loomIndex = Dictionary(registry.looms.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (i, d) in registry.devices.enumerated() {
            var drng = SimRandom(seed: options.seed, stream: 1000 + UInt64(i))
            var sim = DeviceSim(
                kind: d.kind, workshop: registry.workshopIndex(d.workshop) ?? 0, topic: registry.topic(of: d),
                statusTopic: d.key.statusTopic(prefix: registry.topicPrefix),
                phase: Int64(drng.uniform(0, Double(options.intervalMillis))), rng: drng)
            var fact = GroundTruth.DeviceFacts(
                kind: d.kind, workshop: sim.workshop, loom: d.kind == .loom ? (d.loom.flatMap { loomIndex[$0] } ?? -1) : -1,
                assignments: assignments(d.loom), craftsman: d.craftsman.flatMap { craftsmanIndex[$0] } ?? -1,
                shared: d.binding == .workshop, sendsRunS: d.kind == .loom && options.sendRunS)
            if let spec = try ForeignSpec.of(d) { Self.foreign(spec, &sim, &fact) }
            facts.append(fact)
            switch d.kind {
            case .loom: addLoom(&sim, device: i, loom: d.loom, craftsmen: craftsmen)
            case .power: addPower(&sim, device: i, binding: d.binding)
            case .water: addWater(&sim, device: i)
            }
            devices.append(sim)
        }
        bindLoomMeters()
    }

    /// An off-the-shelf device: its topics, its phase on the times it can write (whole
    /// seconds for Tasmota's `Time`, hundredths for Shelly's `ts`), and the units it writes
    /// its totals in, for the truth.
    private static func foreign(_ spec: ForeignSpec, _ sim: inout DeviceSim, _ fact: inout GroundTruth.DeviceFacts) {
        sim.foreign = spec
        sim.topic = spec.statusTopic
        sim.statusTopic = spec.statusTopic
        fact.sendsRunS = false
        switch spec.format {
        case .tasmota:
            sim.phase = sim.phase / 1000 * 1000
            sim.keepsTotals = true
            fact.restoresOlder = true
            // `ENERGY.Total` in kWh with 3 decimals: Wh.
            for v in spec.values { if let c = SimCounter(v.field) { fact.units[c.rawValue] = v.scale * c.truthUnitsPerFieldUnit } }
        case .shellyGen2:
            sim.phase = sim.phase / 10 * 10
            fact.units[SimCounter.kwh.rawValue] = 0.001  // aenergy.total: Wh with 3 decimals
        case .shellyGen1:
            fact.units[SimCounter.kwh.rawValue] = spec.emeter ? 0.1 : 1.0 / 60  // total: 0.1 Wh; energy: watt-minutes
        case .esphome:
            for v in spec.values {
                guard let c = SimCounter(v.field) else { continue }
                // Energy and volume with 3 decimals, counts whole.
                fact.units[c.rawValue] = v.scale * c.truthUnitsPerFieldUnit * (c == .kwh || c == .litres ? 0.001 : 1)
                if c == .runS { fact.sendsRunS = true }
            }
        }
    }

    /// Who works a loom from when, as craftsman indices (-1: not configured).
    private func assignments(_ loom: String?) -> [(since: Int64, craftsman: Int)] {
        guard let l = loom, let i = loomIndex[l] else { return [] }
        return registry.looms[i].assignments.map { (since: $0.since, craftsman: craftsmanIndex[$0.craftsman] ?? -1) }
    }

    private mutating func addLoom(_ sim: inout DeviceSim, device i: Int, loom: String?, craftsmen: [CraftsmanProfile]) {
        var assigns = assignments(loom)
        if assigns.isEmpty { assigns = [(Int64.min, -1)] }
        let p = Simulation.profile(craftsmen, assigns[0].craftsman)
        sim.model = looms.count
        loomAssignments.append(assigns)
        looms.append(
            LoomModel(
                device: i, rateFactor: sim.rng.uniform(0.85, 1.15), pieceLength: sim.rng.int(p.pieceMin, p.pieceMax),
                picks: Int64(sim.rng.int(0, 900_000)), pieces: Int64(sim.rng.int(0, 300)),
                skeinEvery: sim.rng.chance(0.5) ? sim.rng.int(1200, 2400) : 0, skeins: Int64(sim.rng.int(0, 2000)),
                runS: Int64(sim.rng.int(0, 3_000_000)), watts: sim.rng.uniform(30, 80)))
    }

    private mutating func addPower(_ sim: inout DeviceSim, device i: Int, binding: Binding) {
        sim.model = powers.count
        let scope: PowerModel.Scope
        switch binding {
        case .workshop: scope = .workshop
        case .craftsman(let c): scope = .craftsman(craftsmanIndex[c] ?? 0)
        case .loom(let l): scope = .loom(l)
        }
        powers.append(
            PowerModel(
                device: i, scope: scope, energyWh: sim.rng.uniform(1_000_000, 5_000_000), lighting: sim.rng.uniform(150, 300),
                nominal: sim.rng.uniform(218, 224)))
    }

    private mutating func addWater(_ sim: inout DeviceSim, device i: Int) {
        sim.model = waters.count
        waters.append(
            WaterModel(
                device: i, decilitres: sim.rng.uniform(100_000, 2_000_000), level: sim.rng.uniform(50, 95),
                dyeingFlow: sim.rng.uniform(6, 12), tankLitres: sim.rng.uniform(1000, 2000)))
    }

    /// Loom-bound power meters find their loom model by device index.
    private mutating func bindLoomMeters() {
        for (pi, p) in powers.enumerated() {
            if case .loom(let l) = p.scope, let li = looms.firstIndex(where: { registry.devices[$0.device].loom == l }) {
                powers[pi].loomModel = li
            }
        }
    }
}
