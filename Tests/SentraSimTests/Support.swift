import Foundation
import SentraConfig
import SentraCore
import SentraSim

/// The repository root, found from this file.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let exampleConfigPath = repositoryRoot.appendingPathComponent("config/sentra.example.yaml").path

func exampleConfiguration() throws -> Configuration { try Configuration.load(path: exampleConfigPath) }

/// Local date-time in the example's time zone → ms.
func localMillis(_ s: String, _ cfg: Configuration) -> Int64 {
    var cal = cfg.calendar
    return parseLocalDateTime(s, calendar: &cal)!
}

/// Runs a simulation into memory and returns its messages and ground truth.
func simulate(
    _ cfg: Configuration, from: String, to: String, seed: UInt64 = 1, interval: Int64 = 10_000, batch: Int = 1,
    faults: [String] = [], randomPerHour: Double = 0, sendRunS: Bool = true
) throws -> (messages: [CollectingSink.Message], truth: TruthReport) {
    var options = SimulationOptions(from: localMillis(from, cfg), to: localMillis(to, cfg))
    options.seed = seed
    options.intervalMillis = interval
    options.batch = batch
    options.faults = try faults.map { (s: String) throws(SimulationError) in try FaultSpec.parse(s, calendar: cfg.calendar) }
    options.randomFaultsPerHour = randomPerHour
    options.sendRunS = sendRunS
    var sim = try Simulation(registry: cfg.registry, calendar: cfg.calendar, ingest: cfg.ingest, options: options)
    let sink = CollectingSink()
    try sim.run(into: sink)
    return (sink.messages, sim.truthReport())
}
