import Foundation
import SentraSim
import SentraWire
import Testing

/// Delivered means counted: a day of readings for the example sentra waits at the broker
/// (QoS 1, the daemon's persistent session) and the daemon is killed with SIGKILL three times
/// while it drains that backlog: right after a message is journaled, while it replays the
/// journal after that kill, and inside a commit's transaction. Every craftsman's pieces, picks
/// and running seconds then equal the simulator's own truth exactly, and kWh and litres to the
/// meters' resolution: nothing the broker handed over was lost or counted twice.
@Suite(.serialized) struct CrashSafetyTests {
    struct Row: Equatable, CustomStringConvertible {
        var pieces: Int, picks: Int, runSeconds: Int, kwh: Double, water: Double
        var description: String { "pieces \(pieces) picks \(picks) run_s \(runSeconds) kWh \(kwh) L \(water)" }
    }

    struct Totals {
        var craftsmen: [String: Row] = [:]
        var unattributed: [String: (kwh: Double, water: Double)] = [:]
        var workshops: [String: (voltageOut: Int, noPower: Int)] = [:]
    }

    /// What `sentractl report --format json` says.
    static func totals(_ report: ReportDocument) -> Totals {
        var t = Totals()
        for c in report.craftsmen {
            t.craftsmen[c.craftsman] = Row(
                pieces: Int(c.pieces), picks: Int(c.picks), runSeconds: c.runSeconds, kwh: c.kwh, water: c.waterL)
        }
        for u in report.unattributed { t.unattributed[u.workshop] = (u.kwh, u.waterL) }
        for w in report.workshops ?? [] { t.workshops[w.workshop] = (w.voltageOutOfBandSeconds, w.noPowerSeconds) }
        return t
    }

    /// What the simulator's truth says for a day.
    static func totals(_ truth: PeriodReport) -> Totals {
        var t = Totals()
        for c in truth.craftsmen {
            t.craftsmen[c.craftsman] = Row(
                pieces: Int(c.pieces), picks: Int(c.picks), runSeconds: Int(c.runSeconds), kwh: c.kwh, water: c.waterL)
        }
        for u in truth.unattributed { t.unattributed[u.workshop] = (u.kwh, u.waterL) }
        for w in truth.workshops { t.workshops[w.workshop] = (Int(w.voltageOutOfBandSeconds), Int(w.noPowerSeconds)) }
        return t
    }

    /// Yesterday in Asia/Jakarta: inside the daemon's accepted event-time window.
    static var yesterday: String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "Asia/Jakarta")!
        let d = cal.date(byAdding: .day, value: -1, to: Date())!
        let c = cal.dateComponents([.year, .month, .day], from: d)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// Starts the daemon once so the broker holds its persistent session, stops it, and
    /// publishes the day with the simulator while it is away; returns the truth for the day.
    static func backlog(
        broker: Broker, daemon: Daemon, day: String, simArgs: [String]
    ) async throws -> PeriodReport {
        let first = try await daemon.start()
        try await eventually("the daemon's subscription") { first.output.contains("subscribed to the device topics") }
        try await daemon.terminate()
        let truthFile = daemon.dir.appendingPathComponent("truth.json").path
        let sim = try Child(
            Paths.binary("sentra-sim"),
            [
                "--config", Paths.exampleConfig, "--broker", broker.address, "--from", day, "--to", day, "--speed", "0", "--qos", "1",
                "--seed", "7", "--interval", "30", "--truth", truthFile, "--quiet",
            ] + simArgs, log: daemon.dir.appendingPathComponent("sim.log"))
        #expect(try await sim.wait(timeout: 600) == 0, "sentra-sim: \(sim.output)")
        let truth = try JSONDecoder().decode(TruthReport.self, from: Data(contentsOf: URL(fileURLWithPath: truthFile)))
        return try #require(truth.days[day])
    }

    /// Runs the daemon with a fault point set until it kills itself there.
    static func runUntilKilled(_ daemon: Daemon, fault: String) async throws {
        let c = try await daemon.start(environment: ["SENTRA_FAULT": fault], waitForSubscription: false)
        let status = try await c.wait(timeout: 120)
        #expect(status == 128 + 9, "sentrad with SENTRA_FAULT=\(fault) should have killed itself: \(c.output)")
        #expect(c.output.contains("fault injection: SIGKILL at"), "\(c.output.suffix(2000))")
        daemon.child = nil
    }

    func killedThreeTimesWhileDrainingCountsExactly(simArgs: [String]) async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        let day = Self.yesterday
        let truth = Self.totals(try await Self.backlog(broker: broker, daemon: daemon, day: day, simArgs: simArgs))
        #expect(truth.craftsmen.values.contains { $0.pieces > 0 && $0.runSeconds > 0 })

        // 1: right after the 30,000th message of the backlog is in the journal.
        try await Self.runUntilKilled(daemon, fault: "received:30000")
        // 2: while the next start replays what that run journaled and had not committed.
        try await Self.runUntilKilled(daemon, fault: "replay:5000")
        // 3: inside the transaction of the 2nd commit that counts readings (the replay's is the
        // 1st), while the rest of the backlog drains.
        try await Self.runUntilKilled(daemon, fault: "commit:2")
        try await daemon.start()
        // What each kill left in the journal, received and not counted: replayed at the next start.
        var replayed: [Int] = []
        for run in 3...5 {
            let log = (try? String(contentsOf: daemon.dir.appendingPathComponent("sentrad-\(run).log"), encoding: .utf8)) ?? ""
            let line = log.split(separator: "\n").first { $0.contains("replaying the receive journal") } ?? ""
            let n = line.split(separator: " ").first { $0.hasPrefix("sentra.bytes=") }.flatMap { Int($0.dropFirst(13)) }
            replayed.append(n ?? 0)
        }
        print("CrashSafetyTests \(simArgs): journal bytes replayed after each kill: \(replayed)")
        #expect(replayed.allSatisfy { $0 > 0 }, "every kill left readings that only the journal had: \(replayed)")

        var report = Totals()
        var last = ""
        let workshopOf = try craftsmanWorkshops()
        do {
            try await eventually("the report to equal the truth", timeout: 300) {
                let (status, out) = try daemon.ctl(["report", "--date", day, "--format", "json", "--by", "workshop"])
                guard status == 0 else { return false }
                last = out
                report = Self.totals(try WireJSON.decode(ReportDocument.self, from: out))
                return report.craftsmen.mapValues { [$0.pieces, $0.picks, $0.runSeconds] }
                    == truth.craftsmen.mapValues { [$0.pieces, $0.picks, $0.runSeconds] }
                    && Self.metersMatch(report, truth)
            }
        } catch {
            Issue.record("report: \(last)")
        }
        for (c, t) in truth.craftsmen {
            let r = try #require(report.craftsmen[c])
            #expect(
                r.pieces == t.pieces && r.picks == t.picks && r.runSeconds == t.runSeconds,
                "\(c) (\(workshopOf[c] ?? "?")): report \(r) truth \(t)")
            // Energy and water per craftsman to the meters' resolution (0.001 kWh, 0.1 L).
            #expect(abs(r.kwh - t.kwh) < 0.001, "\(c) kWh: report \(r.kwh) truth \(t.kwh)")
            #expect(abs(r.water - t.water) < 0.1, "\(c) litres: report \(r.water) truth \(t.water)")
        }
        for (w, t) in truth.unattributed {
            let r = report.unattributed[w] ?? (0, 0)
            #expect(abs(r.kwh - t.kwh) < 0.001 && abs(r.water - t.water) < 0.1, "\(w) unattributed: report \(r) truth \(t)")
        }
        for (w, t) in truth.workshops {
            let r = report.workshops[w]
            #expect(
                r?.voltageOut == t.voltageOut && r?.noPower == t.noPower, "\(w) power quality: report \(String(describing: r)) truth \(t)")
        }
        try await daemon.terminate()
    }

    /// Every meter reading is in: per craftsman and unattributed, to the meters' resolution.
    static func metersMatch(_ r: Totals, _ t: Totals) -> Bool {
        t.craftsmen.allSatisfy { c, x in
            guard let y = r.craftsmen[c] else { return false }
            return abs(y.kwh - x.kwh) < 0.001 && abs(y.water - x.water) < 0.1
        }
            && t.unattributed.allSatisfy { w, x in
                let y = r.unattributed[w] ?? (0, 0)
                return abs(y.kwh - x.kwh) < 0.001 && abs(y.water - x.water) < 0.1
            }
    }

    /// Boards that send `run_s` (running time from the counter).
    @Test func withRunCountersKilledThreeTimesWhileDrainingCountsExactly() async throws {
        try await killedThreeTimesWhileDrainingCountsExactly(simArgs: [])
    }

    /// Boards that send only `state`, as most do: running time from state intervals, which a
    /// lost reading would cut short.
    @Test func withStateOnlyKilledThreeTimesWhileDrainingCountsExactly() async throws {
        try await killedThreeTimesWhileDrainingCountsExactly(simArgs: ["--no-run-s"])
    }

    /// A loom board and a power meter lose the network: each says `offline` (its Last Will),
    /// keeps measuring, and uploads what it buffered when it is back. Running time and
    /// power-quality seconds equal the truth: no interval is booked twice.
    @Test func anOfflineSpellThenABufferedUploadIsCountedOnce() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        let day = Self.yesterday
        let truth = Self.totals(
            try await Self.backlog(
                broker: broker, daemon: daemon, day: day,
                simArgs: ["--no-run-s", "--fault", "buffer@09:00:loom-02", "--fault", "buffer@10:00:pm-1", "--fault", "sag@10:05:pm-1"]))
        try await daemon.start()
        var report = Totals()
        try await eventually("the report to equal the truth", timeout: 300) {
            let (status, out) = try daemon.ctl(["report", "--date", day, "--format", "json", "--by", "workshop"])
            guard status == 0 else { return false }
            report = Self.totals(try WireJSON.decode(ReportDocument.self, from: out))
            return report.craftsmen.mapValues(\.runSeconds) == truth.craftsmen.mapValues(\.runSeconds)
                && report.workshops.mapValues { [$0.voltageOut, $0.noPower] } == truth.workshops.mapValues { [$0.voltageOut, $0.noPower] }
        }
        #expect(report.craftsmen.mapValues(\.runSeconds) == truth.craftsmen.mapValues(\.runSeconds))
        #expect((truth.workshops["ws-bandar-01"]?.voltageOut ?? 0) > 0, "the sag during the buffered spell shows in power quality")
        #expect(report.workshops.mapValues { [$0.voltageOut, $0.noPower] } == truth.workshops.mapValues { [$0.voltageOut, $0.noPower] })
        try await daemon.terminate()
    }

    /// The example's craftsmen and their workshops, as `sentractl registry` tells.
    func craftsmanWorkshops() throws -> [String: String] {
        let (_, out) = try run(Paths.binary("sentractl"), ["registry", "--config", Paths.exampleConfig, "--format", "json"])
        let registry = try WireJSON.decode(RegistryDocument.self, from: out)
        return Dictionary(registry.craftsmen.map { ($0.id, $0.workshop) }, uniquingKeysWith: { a, _ in a })
    }
}
