import Foundation
import SentraConfig
import SentraCore
import Testing

@testable import SentraSim

@Suite struct SimulationTests {
    static let faults = [
        "reboot@09:30:loom-03", "glitch@10:00:loom-07", "duplicate@10:05:loom-12", "out-of-order@10:10:loom-20",
        "garbage@10:20:pm-1", "silent@08:30:loom-25", "sag@09:00:pm-2", "outage@11:00:pm-3", "water-failure@09:15:wm-1",
        "stall@14:00:loom-33", "reboot@14:30:pm-1", "glitch@14:40:wm-2", "reboot@08:00",
    ]

    @Test func sameSeedSameStreamOtherSeedDiffers() throws {
        let cfg = try exampleConfiguration()
        let a = try simulate(cfg, from: "2026-11-24T06:00", to: "2026-11-24T16:00", seed: 7, faults: Self.faults, randomPerHour: 3)
        let b = try simulate(cfg, from: "2026-11-24T06:00", to: "2026-11-24T16:00", seed: 7, faults: Self.faults, randomPerHour: 3)
        let c = try simulate(cfg, from: "2026-11-24T06:00", to: "2026-11-24T16:00", seed: 8, faults: Self.faults, randomPerHour: 3)
        #expect(a.messages.count > 10_000)
        #expect(a.messages == b.messages)
        #expect(try a.truth.jsonData() == b.truth.jsonData())
        #expect(a.messages != c.messages)
    }

    @Test(arguments: [1, 7])
    func truthMatchesWhatWasPublished(batch: Int) throws {
        let cfg = try exampleConfiguration()
        // Across midnight, so readings fall on two local days; faults of every kind.
        var faults = Self.faults.map { $0.replacingOccurrences(of: "@", with: "@2026-11-25T") }
        faults += ["reboot@2026-11-24T22:00:loom-01", "duplicate@+30m:wm-3", "out-of-order@+45m:pm-2", "disconnect@+1h"]
        let run = try simulate(
            cfg, from: "2026-11-24T20:00", to: "2026-11-25T16:00", seed: 42, interval: 20_000, batch: batch, faults: faults,
            randomPerHour: 2)
        #expect(run.truth.messages == run.messages.count)

        var counter = IndependentCounter(configuration: cfg)
        for m in run.messages { counter.ingest(topic: m.topic, payload: m.payload) }
        #expect(counter.readings == run.truth.readings)
        // The faults really were in the stream.
        // A late reading is a `duplicate` (lower seq, earlier ts) or `out_of_order` (after a reboot).
        let lateOrRepeated = run.truth.injected.filter { $0.kind == "duplicate" || $0.kind == "out-of-order" }.count
        #expect(lateOrRepeated >= 3)
        #expect(counter.duplicates + counter.outOfOrder >= lateOrRepeated)
        #expect(counter.glitches > 0)
        #expect(counter.resets > 0)
        #expect(counter.rejected > 0)
        let independent = counter.result()

        #expect(Set(run.truth.days.keys) == ["2026-11-24", "2026-11-25"])
        var totalPieces: Int64 = 0
        for (day, report) in run.truth.days {
            let mine = independent[day]
            for c in report.craftsmen {
                let t = mine?.craftsmen[c.craftsman] ?? IndependentCounter.Totals()
                #expect(c.pieces == Int64(t.pieces), "\(day) \(c.craftsman) pieces")
                #expect(c.picks == Int64(t.picks), "\(day) \(c.craftsman) picks")
                #expect(c.runSeconds == Int64(t.runS), "\(day) \(c.craftsman) run_seconds")
                #expect(abs(c.kwh - t.kwh) < 1e-6, "\(day) \(c.craftsman) kwh \(c.kwh) vs \(t.kwh)")
                #expect(abs(c.waterL - t.litres) < 1e-6, "\(day) \(c.craftsman) water \(c.waterL) vs \(t.litres)")
                totalPieces += c.pieces
            }
            for u in report.unattributed {
                let t = mine?.unattributed[u.workshop] ?? (0, 0)
                #expect(abs(u.kwh - t.kwh) < 1e-6, "\(day) \(u.workshop) unattributed kwh")
                #expect(abs(u.waterL - t.l) < 1e-6, "\(day) \(u.workshop) unattributed water")
            }
        }
        #expect(totalPieces > 0)
        // The total is the sum of the days.
        for c in run.truth.total.craftsmen {
            let days = run.truth.days.values.compactMap { $0.craftsmen.first { $0.craftsman == c.craftsman } }
            #expect(c.picks == days.map(\.picks).reduce(0, +))
            #expect(abs(c.kwh - days.map(\.kwh).reduce(0, +)) < 1e-6)
        }
        #expect(run.truth.total.craftsmen.map(\.craftsman) == cfg.registry.craftsmen.map(\.id))
    }

    @Test func alertWorthyFaultsAreRecordedAndVisible() throws {
        let cfg = try exampleConfiguration()
        let run = try simulate(
            cfg, from: "2026-11-24T06:00", to: "2026-11-24T16:00", seed: 3,
            faults: ["sag@09:00:pm-2", "water-failure@09:15:wm-1", "stall@14:00:loom-33", "silent@08:30:loom-25", "outage@11:00:pm-3"])
        let rules = Set(run.truth.faults.map(\.rule))
        #expect(rules == ["voltage_sag", "water_low_flow", "loom_stalled", "device_silent", "power_outage"])
        let sag = try #require(run.truth.faults.first { $0.rule == "voltage_sag" })
        #expect(sag.device == "pm-2" && sag.startMs == localMillis("2026-11-24T09:00", cfg))
        #expect(sag.endMs - sag.startMs >= 45_000)
        // During the sag, pm-2 reports below 198 V; outside it, above.
        for m in run.messages where m.topic == "sentra/ws-bandar-02/power/pm-2" {
            guard case .success(let r) = PayloadParser.parse(m.payload, kind: .power)[0] else { continue }
            let inSag = r.ts! >= sag.startMs && r.ts! < sag.endMs
            #expect((r[.v]! < 198) == inSag)
        }
        // The silent loom says nothing in its window.
        let silent = try #require(run.truth.faults.first { $0.rule == "device_silent" })
        let heard = run.messages.filter { $0.topic.hasSuffix("/loom-25") && $0.eventTime >= silent.startMs && $0.eventTime < silent.endMs }
        #expect(heard.isEmpty)
        #expect(silent.endMs - silent.startMs >= 5 * 60_000)
        // The stalled loom says `run` while its picks stand still.
        let stall = try #require(run.truth.faults.first { $0.rule == "loom_stalled" })
        var picks = Set<Double>()
        for m in run.messages where m.topic.hasSuffix("/loom-33") && m.eventTime >= stall.startMs && m.eventTime < stall.endMs {
            guard case .success(let r) = PayloadParser.parse(m.payload, kind: .loom)[0] else { continue }
            #expect(r.state == .run)
            picks.insert(r[.picks]!)
        }
        #expect(picks.count == 1)
        #expect(stall.endMs - stall.startMs >= 15 * 60_000)
    }

    @Test func faultSpecsParse() throws {
        let cfg = try exampleConfiguration()
        let cal = cfg.calendar
        #expect(try FaultSpec.parse("reboot", calendar: cal) == FaultSpec(kind: .reboot))
        #expect(try FaultSpec.parse("glitch:loom-01", calendar: cal) == FaultSpec(kind: .glitch, device: "loom-01"))
        #expect(try FaultSpec.parse("sag@09:30:pm-1", calendar: cal) == FaultSpec(kind: .sag, time: .timeOfDay(34_200), device: "pm-1"))
        #expect(try FaultSpec.parse("sag@09:30:15", calendar: cal) == FaultSpec(kind: .sag, time: .timeOfDay(34_215)))
        #expect(try FaultSpec.parse("out_of_order@+90m", calendar: cal) == FaultSpec(kind: .outOfOrder, time: .offset(5400)))
        #expect(
            try FaultSpec.parse("water-failure@2026-11-24T09:00:wm-1", calendar: cal)
                == FaultSpec(kind: .waterFailure, time: .absolute(localMillis("2026-11-24T09:00", cfg)), device: "wm-1"))
        #expect(throws: SimulationError.self) { try FaultSpec.parse("meltdown", calendar: cal) }
        #expect(throws: SimulationError.self) { try FaultSpec.parse("sag@25:00", calendar: cal) }
    }

    @Test func numbersAreWrittenExactly() {
        var w = ByteWriter()
        w.append(fixed: 1_823_222, decimals: 3)
        w.append(byte: UInt8(ascii: " "))
        w.append(fixed: 5, decimals: 3)
        w.append(byte: UInt8(ascii: " "))
        w.append(rounded: 220.449, decimals: 1)
        w.append(byte: UInt8(ascii: " "))
        w.append(int: -42)
        #expect(String(decoding: w.bytes, as: UTF8.self) == "1823.222 0.005 220.4 -42")
    }

    @Test func pacerMapsEventTimeToWallTime() {
        let p = Pacer(speed: 3600, eventStart: 0, wallStart: 1000)
        #expect(p.delay(eventTime: 3_600_000, now: 1000) == 1000)
        #expect(p.delay(eventTime: 3_600_000, now: 5000) == 0)
        #expect(Pacer(speed: 0, eventStart: 0, wallStart: 0).delay(eventTime: .max / 2, now: 0) == 0)
    }
}
