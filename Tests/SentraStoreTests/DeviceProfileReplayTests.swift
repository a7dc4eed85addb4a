import Foundation
import SentraTestSupport
import Testing

@testable import SentraConfig
@testable import SentraCore
@testable import SentraSim
@testable import SentraStore

/// A whole day of a sentra built from off-the-shelf devices (Tasmota, Shelly gen2, ESPHome)
/// replayed in virtual time through the pipeline into a real SQLite file. Devices whose
/// messages carry no time take the receive time, so the replay passes each message's event
/// time as its receive time. The report reproduces the simulator's ground truth, which it
/// computes from what it published, not with the daemon's decoder or counter code.
@Suite struct DeviceProfileReplayTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var faults: [String]
        var randomSeed: UInt64? = nil
        /// The sentra with more devices: Shelly gen1 meters and ESPHome meters.
        var more = false
        var testDescription: String {
            (more ? "more devices, " : "")
                + (randomSeed.map { "random faults, seed \($0)" } ?? "faults: \(faults.isEmpty ? "none" : faults.joined(separator: " "))")
        }
    }

    static let faults = [
        "reboot@10:00:loom-41", "glitch@11:00:loom-42", "glitch@09:30:pm-4", "glitch@14:10:pm-4b", "reboot@13:30:pm-4b",
        "garbage@09:00:wm-4", "garbage@09:05:loom-43", "garbage@09:10:pm-4b", "garbage@09:15:pm-4", "outage@11:00:pm-4",
        "sag@10:20:pm-4b", "silent@13:20:loom-44", "silent@09:40:wm-4", "reboot@14:30:pm-4",
    ]
    /// Tasmota power cuts: the totals come back at what was saved to flash up to an hour before.
    static let powerCuts = ["powercut@10:40:pm-4", "powercut@14:20:wm-4", "reboot@15:10:loom-43", "powercut@08:50:wm-4"]

    /// Random faults, six an hour: these seeds once put a glitch where it read as something
    /// else (right after a silence, right after a power cut's restored total, twice in a row
    /// on Shelly's energy).
    @Test(arguments: [
        Case(faults: []), Case(faults: DeviceProfileReplayTests.faults),
        Case(faults: DeviceProfileReplayTests.faults + DeviceProfileReplayTests.powerCuts), Case(faults: [], randomSeed: 8),
        Case(faults: [], randomSeed: 40), Case(faults: [], randomSeed: 67), Case(faults: [], more: true),
        Case(faults: DeviceProfileReplayTests.moreFaults, more: true), Case(faults: [], randomSeed: 3, more: true),
    ])
    func aDayOfOffTheShelfDevicesReplaysToTheTruth(_ c: Case) throws {
        let config =
            try c.more ? Configuration.parse(yaml: Self.devicesExample + Self.moreDevices, file: "more.yaml") : Self.configuration()
        var calendar = config.calendar
        let day = "2026-11-24"  // a Tuesday: a working day
        let start = calendar.startOfDay(day)
        let from = try #require(start)
        var options = SimulationOptions(from: from, to: from + 86_400_000)
        options.seed = c.randomSeed ?? 7
        options.randomFaultsPerHour = c.randomSeed == nil ? 0 : 6
        options.receivedAsPublished = true
        options.faults = try c.faults.map { try FaultSpec.parse($0, calendar: calendar) }
        var sim = try Simulation(registry: config.registry, calendar: calendar, ingest: config.ingest, options: options)
        let sink = CollectingSink()
        try sim.run(into: sink)
        let truth = try #require(sim.truthReport().days[day])

        var pipeline = IngestPipeline(registry: config.registry, settings: config.ingest, calendar: calendar)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-devices-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ProductionStore(path: dir.appendingPathComponent("sentra.sqlite").path)
        var lastCommit = from
        func commit() throws {
            let devices = pipeline.dirty.map { (pipeline.registry.devices[$0].key, pipeline.devices[$0]) }
            try store.commit(.init(deltas: pipeline.deltas, devices: devices), registry: pipeline.registry, calendar: calendar)
            pipeline.deltas.removeAll()
            pipeline.markClean()
        }
        for m in sink.messages {
            // Received as published: each message's event time is its receive time.
            m.payload.withUnsafeBytes { pipeline.ingest(topic: m.topic, payload: $0, now: m.eventTime) }
            if m.eventTime - lastCommit >= 60_000 {
                try commit()
                lastCommit = m.eventTime
            }
        }
        try commit()
        let report = try store.report(registry: config.registry, calendar: calendar, from: day, to: day)

        // What the day must have shown for the comparison to mean something.
        if c.randomSeed == nil {
            #expect(truth.craftsmen.allSatisfy { $0.pieces > 0 && $0.picks > 0 && $0.runSeconds > 0 && $0.kwh > 0 && $0.waterL > 0 })
        } else {
            #expect(truth.craftsmen.contains { $0.picks > 0 && $0.runSeconds > 0 && $0.kwh > 0 })
        }
        #expect(pipeline.stats[.unknownDevice] == 0, "every topic belongs to a configured device")
        try expectCraftsmenMatch(report, truth)
        func whole(_ ms: Double) -> Int64 { Int64((ms / 1000).rounded()) }
        for t in truth.workshops {
            let r = try #require(report.workshops.first { $0.workshop == t.workshop })
            #expect(Int64(r.pieces) == t.pieces && Int64(r.picks) == t.picks, "\(t.workshop) pieces \(r.pieces), picks \(r.picks)")
            #expect(whole(r.runMillis) == t.runSeconds, "\(t.workshop) run_seconds \(whole(r.runMillis)) vs \(t.runSeconds)")
            #expect(abs(r.kwh - t.kwh) < 1e-6, "\(t.workshop) kwh \(r.kwh) vs \(t.kwh)")
            #expect(abs(r.waterL - t.waterL) < 1e-6, "\(t.workshop) water \(r.waterL) vs \(t.waterL)")
            #expect(
                whole(r.voltageOutMillis) == t.voltageOutOfBandSeconds,
                "\(t.workshop) voltage_out_of_band_seconds \(whole(r.voltageOutMillis)) vs \(t.voltageOutOfBandSeconds)")
            #expect(
                whole(r.noPowerMillis) == t.noPowerSeconds,
                "\(t.workshop) no_power_seconds \(whole(r.noPowerMillis)) vs \(t.noPowerSeconds)")
        }
        for t in truth.looms {
            let r = try #require(report.looms.first { $0.loom == t.loom })
            #expect(Int64(r.pieces) == t.pieces && Int64(r.picks) == t.picks, "\(t.loom) pieces \(r.pieces), picks \(r.picks)")
            #expect(whole(r.runMillis) == t.runSeconds, "\(t.loom) run_seconds \(whole(r.runMillis)) vs \(t.runSeconds)")
            #expect(Int64(r.stoppages) == t.stoppages, "\(t.loom) stoppages \(r.stoppages) vs \(t.stoppages)")
        }
        // Shelly's NotifyEvent messages are read and ignored, never rejected.
        #expect(pipeline.stats.ignored > 0)
        if !c.faults.isEmpty && c.more {
            #expect(pipeline.stats.resets >= 4, "the Shelly gen1 and ESPHome meters' reboots")
            #expect(pipeline.stats.glitches >= 2)
            #expect(pipeline.stats[.badType] >= 1, "a word where Shelly gen1 writes a number")
            #expect(truth.workshops.contains { $0.noPowerSeconds > 0 })
        } else if !c.faults.isEmpty {
            #expect(pipeline.stats.resets >= 2, "the ESPHome and Shelly reboots")
            #expect(pipeline.stats.glitches >= 3)
            #expect(pipeline.stats[.badJSON] + pipeline.stats[.badType] >= 4, "one garbage message per profile")
            #expect(truth.workshops.contains { $0.noPowerSeconds > 0 && $0.voltageOutOfBandSeconds > 0 })
        }
    }

    static let moreFaults = [
        "reboot@10:00:pm-4c", "reboot@11:00:pm-4d", "reboot@09:30:wm-4e", "glitch@13:30:pm-4c", "glitch@14:30:wm-4e", "garbage@10:10:pm-4d",
        "outage@13:00:pm-4e", "silent@09:00:pm-4d", "reboot@13:40:pm-4e",
    ]

    /// Shelly gen1 meters (a plug for a craftsman, an energy meter on the workshop) and
    /// ESPHome meters (water for a craftsman, energy on the workshop).
    static let moreDevices = """

          - { id: pm-4c, workshop: ws-tenun-04, kind: power, craftsman: c-hadi, profile: shelly-gen1, topic: shellyplug-s-7a1b2c }
          - { id: pm-4d, workshop: ws-tenun-04, kind: power, profile: shelly-gen1, topic: shellyem-3c4d5e, meter: emeter, channel: 1 }
          - { id: wm-4e, workshop: ws-tenun-04, kind: water, craftsman: c-dewi, profile: esphome, topic: flow-4e, sensors: { l: { name: water_total, pulses_per_unit: 450 }, lpm: flow } }
          - { id: pm-4e, workshop: ws-tenun-04, kind: power, profile: esphome, topic: energy-4e, sensors: { kwh: { name: energy, scale: 0.001 }, w: power, v: voltage } }
        """

    /// The devices example: the file once it is in the repository, else the same sentra.
    static func configuration() throws -> Configuration {
        let path = repositoryRoot + "/config/sentra.devices.example.yaml"
        if FileManager.default.fileExists(atPath: path) { return try Configuration.load(path: path) }
        return try Configuration.parse(yaml: devicesExample, file: "sentra.devices.example.yaml")
    }

    static let devicesExample = """
        sentra:
          name: Sentra Tenun Ikat Bandar Kidul, Bengkel Empat
          timezone: Asia/Jakarta
        broker: { host: 127.0.0.1, port: 1883 }
        state_dir: /var/lib/sentra
        log_dir: /var/log/sentra
        ingest:
          max_age: 7d
          max_future: 5m
          staleness: 5m
          voltage_low: 198
          voltage_high: 242
        shifts:
          weaving:
            days: [mon, tue, wed, thu, fri, sat]
            hours: ["07:00-16:00"]
            breaks: ["12:00-13:00"]
            holidays: ["2026-12-25", "2027-01-01"]
          dyeing:
            days: [mon, tue, wed, thu, fri, sat]
            hours: ["08:00-11:00", "13:00-15:00"]
        workshops:
          - { id: ws-tenun-04, name: Bengkel Tenun Empat, shift: weaving, dyeing: dyeing }
        craftsmen:
          - { id: c-dewi, name: Bu Dewi, workshop: ws-tenun-04 }
          - { id: c-hadi, name: Pak Hadi, workshop: ws-tenun-04 }
        looms:
          - { id: loom-41, workshop: ws-tenun-04, craftsman: c-dewi }
          - { id: loom-42, workshop: ws-tenun-04, craftsman: c-dewi }
          - { id: loom-43, workshop: ws-tenun-04, craftsman: c-hadi }
          - { id: loom-44, workshop: ws-tenun-04, craftsman: c-hadi }
        devices:
          - { id: pm-4, workshop: ws-tenun-04, kind: power, profile: tasmota, topic: tasmota-pm4 }
          - id: wm-4
            workshop: ws-tenun-04
            kind: water
            profile: tasmota
            topic: tasmota-wm4
            counters:
              C1: { field: l, pulses_per_unit: 450 }
          - { id: pm-4b, workshop: ws-tenun-04, kind: power, profile: shelly-gen2, topic: shellyplus1pm-ws4, component: "switch:0" }
          - { id: loom-41, workshop: ws-tenun-04, kind: loom, loom: loom-41, profile: esphome, topic: loom-41, sensors: { picks: picks, pieces: pieces }, binary_sensor: running }
          - { id: loom-42, workshop: ws-tenun-04, kind: loom, loom: loom-42, profile: esphome, topic: loom-42, sensors: { picks: picks, pieces: pieces }, binary_sensor: running }
          - { id: loom-43, workshop: ws-tenun-04, kind: loom, loom: loom-43, profile: esphome, topic: loom-43, sensors: { picks: picks, pieces: pieces }, binary_sensor: running }
          - { id: loom-44, workshop: ws-tenun-04, kind: loom, loom: loom-44, profile: esphome, topic: loom-44, sensors: { picks: picks, pieces: pieces }, binary_sensor: running }
        """
}
