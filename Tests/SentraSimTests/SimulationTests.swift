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

    @Test(arguments: [true, false])
    func sameSeedSameStreamOtherSeedDiffers(sendRunS: Bool) throws {
        let cfg = try exampleConfiguration()
        let faults = Self.faults + ["buffer@10:30:loom-05", "buffer@13:10:pm-2"]
        func run(_ seed: UInt64) throws -> (messages: [CollectingSink.Message], truth: TruthReport) {
            try simulate(
                cfg, from: "2026-11-24T06:00", to: "2026-11-24T16:00", seed: seed, faults: faults, randomPerHour: 3, sendRunS: sendRunS)
        }
        let a = try run(7)
        let b = try run(7)
        let c = try run(8)
        #expect(a.messages.count > 10_000)
        #expect(a.messages == b.messages)
        #expect(try a.truth.jsonData() == b.truth.jsonData())
        #expect(a.messages != c.messages)
        #expect(try a.truth.jsonData() != c.truth.jsonData())
        #expect(a.truth.sendsRunS == sendRunS)
        let loomPayloads = a.messages.filter { $0.topic.contains("/loom/") && !$0.topic.hasSuffix("/status") }
        #expect(loomPayloads.contains { String(decoding: $0.payload, as: UTF8.self).contains("\"run_s\"") } == sendRunS)
    }

    /// Every fault kind, and the awkward combinations: a reboot while a reading is held back
    /// to be sent late, a reboot during a network outage, a glitch right before a reboot.
    static let everyFault: [String] = {
        var faults = SimulationTests.faults.map { $0.replacingOccurrences(of: "@", with: "@2026-11-25T") }
        faults += [
            "reboot@2026-11-24T22:00:loom-01", "duplicate@+30m:wm-3", "out-of-order@+45m:pm-2", "disconnect@+1h",
            "buffer@2026-11-25T09:00:loom-05", "reboot@2026-11-25T09:04:loom-05", "buffer@2026-11-25T10:00:pm-1",
            "buffer@2026-11-25T11:58:wm-2", "out-of-order@2026-11-25T10:30:loom-06", "reboot@2026-11-25T10:31:loom-06",
            "glitch@2026-11-25T10:40:loom-08", "reboot@2026-11-25T10:40:10:loom-08", "sag@2026-11-25T10:00:pm-3",
            "outage@2026-11-25T14:00:pm-1",
        ]
        return faults
    }()

    @Test(arguments: [(1, true), (7, true), (1, false), (7, false)])
    func truthMatchesWhatWasPublished(batch: Int, sendRunS: Bool) throws {
        let cfg = try exampleConfiguration()
        // Across midnight, so readings fall on two local days; faults of every kind.
        let run = try simulate(
            cfg, from: "2026-11-24T20:00", to: "2026-11-25T16:00", seed: 42, interval: 20_000, batch: batch, faults: Self.everyFault,
            randomPerHour: 2, sendRunS: sendRunS)
        #expect(run.truth.messages == run.messages.count)

        var counter = IndependentCounter(configuration: cfg)
        for m in run.messages { counter.ingest(topic: m.topic, payload: m.payload) }
        #expect(counter.readings == run.truth.readings)
        // The faults really were in the stream.
        // A repeated or late reading is a `duplicate` (same seq, or lower seq at an earlier ts);
        // the one held back at loom-06 is lost to its reboot and never sent.
        let lateOrRepeated = run.truth.injected.filter { $0.kind == "duplicate" || $0.kind == "out-of-order" }.count
        #expect(lateOrRepeated >= 4)
        #expect(counter.duplicates + counter.outOfOrder >= lateOrRepeated - 1)
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
                #expect(c.runSeconds == wholeSeconds(t.runMs), "\(day) \(c.craftsman) run_seconds")
                #expect(abs(c.kwh - t.kwh) < 1e-6, "\(day) \(c.craftsman) kwh \(c.kwh) vs \(t.kwh)")
                #expect(abs(c.waterL - t.litres) < 1e-6, "\(day) \(c.craftsman) water \(c.waterL) vs \(t.litres)")
                totalPieces += c.pieces
            }
            for u in report.unattributed {
                let t = mine?.unattributed[u.workshop] ?? (0, 0)
                #expect(abs(u.kwh - t.kwh) < 1e-6, "\(day) \(u.workshop) unattributed kwh")
                #expect(abs(u.waterL - t.l) < 1e-6, "\(day) \(u.workshop) unattributed water")
            }
            for l in report.looms {
                let t = counter.loomDays[day]?[l.loom] ?? IndependentCounter.LoomTotals()
                #expect(l.pieces == Int64(t.pieces) && l.picks == Int64(t.picks), "\(day) \(l.loom) pieces, picks")
                #expect(l.runSeconds == wholeSeconds(t.runMs), "\(day) \(l.loom) run_seconds")
                #expect(l.stopSeconds == wholeSeconds(t.stopMs), "\(day) \(l.loom) stop_seconds")
                #expect(l.faultSeconds == wholeSeconds(t.faultMs), "\(day) \(l.loom) fault_seconds")
                #expect(l.stoppages == Int64(t.stoppages), "\(day) \(l.loom) stoppages")
            }
            for w in report.workshops {
                let t = counter.workshopDays[day]?[w.workshop] ?? IndependentCounter.WorkshopTotals()
                #expect(w.runSeconds == wholeSeconds(t.runMs), "\(day) \(w.workshop) run_seconds")
                #expect(abs(w.kwh - t.kwh) < 1e-6 && abs(w.waterL - t.litres) < 1e-6, "\(day) \(w.workshop) kwh, water")
                #expect(w.voltageOutOfBandSeconds == wholeSeconds(t.voltageOutMs), "\(day) \(w.workshop) voltage out of band")
                #expect(w.noPowerSeconds == wholeSeconds(t.noPowerMs), "\(day) \(w.workshop) no power")
            }
        }
        #expect(totalPieces > 0)
        let quality = run.truth.total.workshops
        #expect(quality.contains { $0.voltageOutOfBandSeconds > 0 })
        #expect(run.truth.total.looms.contains { $0.faultSeconds > 0 } && run.truth.total.looms.contains { $0.stoppages > 0 })
        // The total is the sum of the days.
        for c in run.truth.total.craftsmen {
            let days = run.truth.days.values.compactMap { $0.craftsmen.first { $0.craftsman == c.craftsman } }
            #expect(c.picks == days.map(\.picks).reduce(0, +))
            #expect(abs(c.kwh - days.map(\.kwh).reduce(0, +)) < 1e-6)
        }
        #expect(run.truth.total.craftsmen.map(\.craftsman) == cfg.registry.craftsmen.map(\.id))
        #expect(run.truth.total.looms.map(\.loom) == cfg.registry.looms.map(\.id))
        #expect(run.truth.total.workshops.map(\.workshop) == cfg.registry.workshops.map(\.id))
    }

    /// Boards without `run_s` make the same pieces and picks; running time from `state` is
    /// close to the boards' own count.
    @Test func runningTimeFromStateIsCloseToRunS() throws {
        let cfg = try exampleConfiguration()
        let faults = ["reboot@09:30:loom-03", "glitch@10:00:loom-07", "silent@10:30:loom-25", "buffer@11:00:loom-12"]
        let withRunS = try simulate(cfg, from: "2026-11-24T00:00", to: "2026-11-25T00:00", seed: 9, faults: faults)
        let fromState = try simulate(cfg, from: "2026-11-24T00:00", to: "2026-11-25T00:00", seed: 9, faults: faults, sendRunS: false)
        let a = try #require(withRunS.truth.days["2026-11-24"])
        let b = try #require(fromState.truth.days["2026-11-24"])
        #expect(a.craftsmen.map(\.pieces) == b.craftsmen.map(\.pieces))
        #expect(a.craftsmen.map(\.picks) == b.craftsmen.map(\.picks))
        #expect(a.looms.map(\.stoppages) == b.looms.map(\.stoppages))
        #expect(a.craftsmen.map(\.runSeconds) != b.craftsmen.map(\.runSeconds))
        for (x, y) in zip(a.craftsmen, b.craftsmen) {
            #expect(x.runSeconds > 3600)
            #expect(
                abs(Double(x.runSeconds - y.runSeconds)) <= 0.03 * Double(x.runSeconds),
                "\(x.craftsman): \(x.runSeconds) vs \(y.runSeconds)")
        }
        #expect(a.workshops.map(\.kwh) == b.workshops.map(\.kwh))
    }

    /// A device without network: `offline`, silence, `online`, then what it held, in order.
    @Test(arguments: [1, 7])
    func bufferFaultHoldsReadingsAndSendsThemInBatches(batch: Int) throws {
        let cfg = try exampleConfiguration()
        let run = try simulate(
            cfg, from: "2026-11-24T08:00", to: "2026-11-24T12:00", seed: 5, batch: batch, faults: ["buffer@09:00:loom-05"])
        let fault = try #require(run.truth.injected.first { $0.kind == "buffer" })
        #expect(fault.device == "loom-05" && fault.atMs == localMillis("2026-11-24T09:00", cfg))
        let topic = "sentra/ws-bandar-01/loom/loom-05"
        let mine = run.messages.filter { $0.topic.hasPrefix(topic) }
        let offline = try #require(mine.firstIndex { $0.topic == topic + "/status" && $0.payload == Array("offline".utf8) })
        let online = try #require(
            mine.firstIndex { $0.topic == topic + "/status" && $0.payload == Array("online".utf8) && $0.eventTime > fault.atMs })
        #expect(offline < online)
        // Silence in between.
        #expect(online == offline + 1)
        let silence = mine[online].eventTime - mine[offline].eventTime
        #expect(silence >= 5 * 60_000 && silence <= 30 * 60_000 + 10_000)
        // Then batches of at most 50 readings, every one made while the network was down, in order.
        var held: [Reading] = []
        var k = online + 1
        while k < mine.count, mine[k].eventTime == mine[online].eventTime, mine[k].payload.first == UInt8(ascii: "[") {
            let parsed = PayloadParser.parse(mine[k].payload, kind: .loom)
            #expect(parsed.count <= 50)
            for p in parsed {
                guard case .success(let r) = p else {
                    Issue.record("a held reading does not parse")
                    continue
                }
                held.append(r)
            }
            k += 1
        }
        #expect(held.count >= silence / 10_000 - 1 && held.count <= silence / 10_000 + 1)
        let times = held.map { $0.ts! }
        #expect(times == times.sorted() && Set(times).count == times.count)
        #expect(times.first! >= mine[offline].eventTime && times.last! < mine[online].eventTime)
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 == 10_000 })
        // Every held reading counts: the truth equals a re-count of the stream.
        var counter = IndependentCounter(configuration: cfg)
        for m in run.messages { counter.ingest(topic: m.topic, payload: m.payload) }
        #expect(counter.duplicates == 0 && counter.outOfOrder == 0)
        let day = try #require(run.truth.days["2026-11-24"])
        let loom = try #require(day.looms.first { $0.loom == "loom-05" })
        let t = try #require(counter.loomDays["2026-11-24"]?["loom-05"])
        #expect(loom.picks == Int64(t.picks) && loom.runSeconds == wholeSeconds(t.runMs) && loom.stopSeconds == wholeSeconds(t.stopMs))
        #expect(loom.runSeconds + loom.stopSeconds + loom.faultSeconds >= 4 * 3600 - 60)
    }

    /// Faults that would be ambiguous back to back are spaced: no glitch right after a glitch,
    /// no restart numbering from 0 again right after a reading numbered 0.
    @Test func backToBackFaultsStayUnambiguous() throws {
        let cfg = try exampleConfiguration()
        let run = try simulate(
            cfg, from: "2026-11-24T09:00", to: "2026-11-24T10:00", seed: 11,
            faults: ["reboot@+0s:loom-01", "reboot@+10s:loom-01", "glitch@+30m:loom-01", "glitch@+1810s:loom-01", "glitch@+1820s:loom-01"])
        var readings: [Reading] = []
        for m in run.messages where m.topic == "sentra/ws-bandar-01/loom/loom-01" {
            for p in PayloadParser.parse(m.payload, kind: .loom) { if case .success(let r) = p { readings.append(r) } }
        }
        let seqs = readings.prefix(4).map { $0.seq! }
        #expect(seqs == [0, 1, 0, 1], "the second restart waits for the reading after the one numbered 0")
        // Three glitches, none right after another.
        let zeros = readings.indices.dropFirst().filter { readings[$0][.picks] == 0 && readings[$0 - 1][.picks]! > 0 }
        #expect(zeros.count == 3)
        #expect(zip(zeros, zeros.dropFirst()).allSatisfy { $1 - $0 == 2 })
        var counter = IndependentCounter(configuration: cfg)
        for m in run.messages { counter.ingest(topic: m.topic, payload: m.payload) }
        #expect(counter.duplicates == 0 && counter.outOfOrder == 0)
        // (The second restart, 20 s after the first, need not show as a drop at all.)
        #expect(counter.glitches >= 3)
        let loom = try #require(run.truth.days["2026-11-24"]?.looms.first { $0.loom == "loom-01" })
        let t = try #require(counter.loomDays["2026-11-24"]?["loom-01"])
        #expect(loom.picks == Int64(t.picks) && loom.runSeconds == wholeSeconds(t.runMs))
    }

    /// The counter rules the truth applies, case by case, in the board's units.
    @Test func truthCountsIncreasesThroughGlitchesAndRestarts() {
        var t = CounterTrack()
        #expect(t.accept(100, glitch: false, restarted: false) == 0)  // baseline
        #expect(t.accept(130, glitch: false, restarted: false) == 30)
        #expect(t.accept(0, glitch: true, restarted: false) == 0)  // a glitch counts nothing
        #expect(t.accept(150, glitch: false, restarted: false) == 20)  // from the value before it
        #expect(t.accept(5, glitch: false, restarted: true) == 0)  // a restart's first reading waits
        #expect(t.accept(12, glitch: false, restarted: false) == 12)  // the next counts all since the restart
        #expect(t.accept(20, glitch: false, restarted: false) == 8)
        // A restart that does not show: the count since it already reached the last value.
        #expect(t.accept(25, glitch: false, restarted: true) == 5)
        // A glitch's drop, then a restart's first reading: the restart is confirmed at once.
        #expect(t.accept(0, glitch: true, restarted: false) == 0)
        #expect(t.accept(3, glitch: false, restarted: true) == 3)
        #expect(t.accept(9, glitch: false, restarted: false) == 6)
        // A glitch right after a restart's first reading: the next reading counts all since the restart.
        #expect(t.accept(2, glitch: false, restarted: true) == 0)
        #expect(t.accept(0, glitch: true, restarted: false) == 0)
        #expect(t.accept(7, glitch: false, restarted: false) == 7)
        // A glitch under a 0 is no drop.
        var z = CounterTrack()
        #expect(z.accept(0, glitch: false, restarted: false) == 0)
        #expect(z.accept(0, glitch: true, restarted: false) == 0)
        #expect(z.accept(4, glitch: false, restarted: false) == 4)
    }

    @Test func devicesPublishUnderTheRegistrysTopicPrefix() throws {
        let cfg = try exampleConfiguration()
        let r = cfg.registry
        let registry = Registry(
            name: r.name, workshops: r.workshops, craftsmen: r.craftsmen, looms: r.looms, devices: r.devices, topicPrefix: "coop")
        let options = SimulationOptions(from: localMillis("2026-11-24T08:00", cfg), to: localMillis("2026-11-24T08:01", cfg))
        var sim = try Simulation(registry: registry, calendar: cfg.calendar, ingest: cfg.ingest, options: options)
        let sink = CollectingSink()
        try sim.run(into: sink)
        let topics = Set(sink.messages.map(\.topic))
        #expect(topics.allSatisfy { $0.hasPrefix("coop/") })
        for d in r.devices {
            #expect(topics.contains("coop/\(d.workshop)/\(d.kind.rawValue)/\(d.id)"))
            #expect(topics.contains("coop/\(d.workshop)/\(d.kind.rawValue)/\(d.id)/status"))
        }
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
        #expect(try FaultSpec.parse("buffer@+2h:wm-1", calendar: cal) == FaultSpec(kind: .buffer, time: .offset(7200), device: "wm-1"))
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
