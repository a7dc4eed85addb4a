import Foundation
import SentraTestSupport
import Testing

@testable import SentraConfig
@testable import SentraCore
@testable import SentraSim
@testable import SentraStore

/// A full day of the example sentra replayed in virtual time through the pipeline into a
/// real SQLite file; the report reproduces the simulator's ground truth, which the simulator
/// computes from what it sent and the faults it injected, not with the daemon's code.
@Suite struct DayReplayTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var faults: [String]
        var sendRunS: Bool
        var testDescription: String {
            "\(sendRunS ? "run_s" : "state only"), faults: \(faults.isEmpty ? "none" : faults.joined(separator: " "))"
        }
    }

    static let faults = [
        "reboot@10:00:loom-07", "glitch@11:00:loom-12", "duplicate@12:30:pm-1", "out-of-order@14:00:loom-30", "garbage@09:00:wm-2",
        "sag@09:00:pm-2", "outage@11:00:pm-3", "silent@13:20:loom-25",
    ]
    /// Devices without network through part of the shift, one rebooting meanwhile.
    static let buffers = ["buffer@09:30:loom-03", "buffer@10:40:pm-1", "buffer@14:00:wm-3", "buffer@08:10:loom-20", "reboot@08:15:loom-20"]

    @Test(arguments: [
        Case(faults: [], sendRunS: true), Case(faults: [], sendRunS: false), Case(faults: DayReplayTests.faults, sendRunS: true),
        Case(faults: DayReplayTests.faults + DayReplayTests.buffers, sendRunS: false),
        Case(faults: DayReplayTests.buffers, sendRunS: true),
    ])
    func aDayReplaysToTheTruth(_ c: Case) throws {
        let config = try Configuration.load(path: exampleConfigPath)
        var calendar = config.calendar
        let day = "2026-11-24"  // a Tuesday: a working day
        let from = calendar.startOfDay(day)!
        var options = SimulationOptions(from: from, to: from + 86_400_000)
        options.seed = 42
        options.sendRunS = c.sendRunS
        options.faults = try c.faults.map { try FaultSpec.parse($0, calendar: calendar) }
        var sim = try Simulation(registry: config.registry, calendar: calendar, ingest: config.ingest, options: options)
        let sink = CollectingSink()
        try sim.run(into: sink)
        let truth = try #require(sim.truthReport().days[day])

        let started = Date()
        var pipeline = IngestPipeline(registry: config.registry, settings: config.ingest, calendar: calendar)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ProductionStore(path: dir.appendingPathComponent("sentra.sqlite").path)
        // An accelerated replay of a past day: every message, status messages included, is
        // received after the whole window.
        let receivedAt = from + 86_400_000 + 60_000
        var lastCommit = from
        for m in sink.messages {
            m.payload.withUnsafeBytes { pipeline.ingest(topic: m.topic, payload: $0, now: receivedAt) }
            // Group commit once a simulated minute, as the daemon does once a second.
            if m.eventTime - lastCommit >= 60_000 {
                let devices = pipeline.dirty.map { (pipeline.registry.devices[$0].key, pipeline.devices[$0]) }
                try store.commit(.init(deltas: pipeline.deltas, devices: devices), registry: pipeline.registry, calendar: calendar)
                pipeline.deltas.removeAll()
                pipeline.markClean()
                lastCommit = m.eventTime
            }
        }
        let devices = pipeline.dirty.map { (pipeline.registry.devices[$0].key, pipeline.devices[$0]) }
        try store.commit(.init(deltas: pipeline.deltas, devices: devices), registry: pipeline.registry, calendar: calendar)
        let report = try store.report(registry: config.registry, calendar: calendar, from: day, to: day)
        let seconds = Date().timeIntervalSince(started)
        print("replayed \(sink.messages.count) messages of \(day) in \(String(format: "%.2f", seconds)) s (\(c.testDescription))")

        func whole(_ ms: Double) -> Int64 { Int64((ms / 1000).rounded()) }
        #expect(truth.craftsmen.contains { $0.pieces > 0 && $0.kwh > 0 && $0.waterL > 0 })
        try expectCraftsmenMatch(report, truth)
        for t in truth.looms {
            let r = try #require(report.looms.first { $0.loom == t.loom })
            #expect(Int64(r.pieces) == t.pieces && Int64(r.picks) == t.picks, "\(t.loom) pieces \(r.pieces), picks \(r.picks)")
            #expect(whole(r.runMillis) == t.runSeconds, "\(t.loom) run_seconds \(whole(r.runMillis)) vs \(t.runSeconds)")
            #expect(whole(r.stopMillis) == t.stopSeconds, "\(t.loom) stop_seconds \(whole(r.stopMillis)) vs \(t.stopSeconds)")
            #expect(whole(r.faultMillis) == t.faultSeconds, "\(t.loom) fault_seconds \(whole(r.faultMillis)) vs \(t.faultSeconds)")
            #expect(Int64(r.stoppages) == t.stoppages, "\(t.loom) stoppages \(r.stoppages) vs \(t.stoppages)")
        }
        for t in truth.workshops {
            let r = try #require(report.workshops.first { $0.workshop == t.workshop })
            #expect(Int64(r.pieces) == t.pieces && Int64(r.picks) == t.picks, "\(t.workshop) pieces, picks")
            #expect(whole(r.runMillis) == t.runSeconds, "\(t.workshop) run_seconds \(whole(r.runMillis)) vs \(t.runSeconds)")
            #expect(abs(r.kwh - t.kwh) < 1e-6 && abs(r.waterL - t.waterL) < 1e-6, "\(t.workshop) kwh \(r.kwh), water \(r.waterL)")
            #expect(
                whole(r.voltageOutMillis) == t.voltageOutOfBandSeconds,
                "\(t.workshop) voltage_out_of_band_seconds \(whole(r.voltageOutMillis)) vs \(t.voltageOutOfBandSeconds)")
            #expect(
                whole(r.noPowerMillis) == t.noPowerSeconds,
                "\(t.workshop) no_power_seconds \(whole(r.noPowerMillis)) vs \(t.noPowerSeconds)")
        }
        if c.faults.contains(where: { $0.hasPrefix("sag@") }) {
            #expect(truth.workshops.contains { $0.voltageOutOfBandSeconds > 0 })
        }
        if c.faults.contains(where: { $0.hasPrefix("glitch@") }) {
            #expect(pipeline.stats.resets >= 1)
            #expect(pipeline.stats.glitches >= 1)
            #expect(pipeline.stats[.duplicate] + pipeline.stats[.outOfOrder] >= 1)
            #expect(pipeline.stats[.badJSON] + pipeline.stats[.badType] + pipeline.stats[.badUTF8] >= 1)
        }
        if c.faults.contains(where: { $0.hasPrefix("buffer@") }) {
            #expect(pipeline.stats.statusMessages > UInt64(config.registry.devices.count))
        }
    }
}
