import Foundation
import Testing

@testable import SentraConfig
@testable import SentraCore
@testable import SentraSim
@testable import SentraStore

/// Issue 3: a full day of the example sentra replayed in virtual time through the pipeline
/// into a real SQLite file; the report reproduces the simulator's ground truth exactly.
@Suite struct DayReplayTests {
    @Test(arguments: [
        [], ["reboot@10:00:loom-07", "glitch@11:00:loom-12", "duplicate@12:30:pm-1", "out-of-order@14:00:loom-30", "garbage@09:00:wm-2"],
    ])
    func aDayReplaysToTheTruth(faults: [String]) throws {
        let config = try Configuration.load(path: ConfigurationTests.examplePath)
        var calendar = config.calendar
        let day = "2026-11-24"  // a Tuesday: a working day
        let from = calendar.startOfDay(day)!
        var options = SimulationOptions(from: from, to: from + 86_400_000)
        options.seed = 42
        options.faults = try faults.map { try FaultSpec.parse($0, calendar: calendar) }
        var sim = try Simulation(registry: config.registry, calendar: calendar, options: options)
        let sink = CollectingSink()
        try sim.run(into: sink)
        let truth = try #require(sim.truthReport().days[day])

        let started = Date()
        var pipeline = IngestPipeline(registry: config.registry, settings: config.ingest, calendar: calendar)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-replay-\(UUID().uuidString)")
        let store = try ProductionStore(path: dir.appendingPathComponent("sentra.sqlite").path)
        var lastCommit = from
        for m in sink.messages {
            m.payload.withUnsafeBytes { pipeline.ingest(topic: m.topic, payload: $0, now: from + 86_400_000 + 60_000) }
            // Group commit once a simulated minute, as the daemon does once a second.
            if m.eventTime - lastCommit >= 60_000 {
                let devices = pipeline.dirty.map { (IngestPipeline.stateKey(pipeline.registry.devices[$0]), pipeline.devices[$0]) }
                try store.commit(.init(deltas: pipeline.deltas, devices: devices), registry: pipeline.registry, calendar: calendar)
                pipeline.deltas.removeAll()
                pipeline.markClean()
                lastCommit = m.eventTime
            }
        }
        let devices = pipeline.dirty.map { (IngestPipeline.stateKey(pipeline.registry.devices[$0]), pipeline.devices[$0]) }
        try store.commit(.init(deltas: pipeline.deltas, devices: devices), registry: pipeline.registry, calendar: calendar)
        let report = try store.report(registry: config.registry, calendar: calendar, from: day, to: day)
        let seconds = Date().timeIntervalSince(started)
        print("replayed \(sink.messages.count) messages of \(day) in \(String(format: "%.2f", seconds)) s (faults: \(faults))")

        #expect(truth.craftsmen.contains { $0.pieces > 0 && $0.kwh > 0 && $0.waterL > 0 })
        for t in truth.craftsmen {
            let r = try #require(report.craftsmen.first { $0.craftsman == t.craftsman })
            #expect(Int64(r.pieces) == t.pieces, "\(t.craftsman) pieces")
            #expect(Int64(r.picks) == t.picks, "\(t.craftsman) picks")
            #expect(Int64(r.runSeconds) == t.runSeconds, "\(t.craftsman) run_seconds")
            // Energy to the meter's resolution (0.001 kWh), water to 0.1 L; in fact to 1e-6.
            #expect(abs(r.kwh - t.kwh) < 1e-6, "\(t.craftsman) kwh \(r.kwh) vs \(t.kwh)")
            #expect(abs(r.waterL - t.waterL) < 1e-6, "\(t.craftsman) water \(r.waterL) vs \(t.waterL)")
        }
        for t in truth.unattributed {
            let r = report.unattributed.first { $0.workshop == t.workshop }
            #expect(abs((r?.kwh ?? 0) - t.kwh) < 1e-6, "\(t.workshop) unattributed kwh")
            #expect(abs((r?.waterL ?? 0) - t.waterL) < 1e-6, "\(t.workshop) unattributed water")
        }
        if !faults.isEmpty {
            #expect(pipeline.stats.resets >= 1)
            #expect(pipeline.stats.glitches >= 1)
            #expect(pipeline.stats[.duplicate] + pipeline.stats[.outOfOrder] >= 1)
            #expect(pipeline.stats[.badJSON] >= 1)
        }
    }
}
