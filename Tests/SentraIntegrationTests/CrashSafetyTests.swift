import Foundation
import Testing

/// Issue 3: a day of readings for the example sentra through a real broker with QoS 1; the
/// daemon is killed with SIGKILL twice in the middle; the report equals the simulator's truth.
@Suite(.serialized) struct CrashSafetyTests {
    struct Row: Equatable, CustomStringConvertible {
        var pieces: Int, picks: Int, runSeconds: Int, kwh: Double, water: Double
        var description: String { "pieces \(pieces) picks \(picks) run_s \(runSeconds) kWh \(kwh) L \(water)" }
    }

    static func rows(_ obj: [String: Any]) -> (craftsmen: [String: Row], workshops: [String: (kwh: Double, water: Double)]) {
        var out: [String: Row] = [:]
        for c in (obj["craftsmen"] as? [[String: Any]]) ?? [] {
            let num = { (k: String) in (c[k] as? NSNumber)?.doubleValue ?? 0 }
            out[c["craftsman"] as? String ?? "?"] = Row(
                pieces: Int(num("pieces")), picks: Int(num("picks")), runSeconds: Int(num("run_seconds")), kwh: num("kwh"),
                water: num("water_l"))
        }
        var un: [String: (Double, Double)] = [:]
        for u in (obj["unattributed"] as? [[String: Any]]) ?? [] {
            un[u["workshop"] as? String ?? "?"] = ((u["kwh"] as? NSNumber)?.doubleValue ?? 0, (u["water_l"] as? NSNumber)?.doubleValue ?? 0)
        }
        return (out, un)
    }

    /// Yesterday in Asia/Jakarta: inside the daemon's accepted event-time window.
    static var yesterday: String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "Asia/Jakarta")!
        let d = cal.date(byAdding: .day, value: -1, to: Date())!
        let c = cal.dateComponents([.year, .month, .day], from: d)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    @Test func killedTwiceTheReportStillEqualsTheTruth() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        let day = Self.yesterday
        let truthFile = daemon.dir.appendingPathComponent("truth.json").path
        let sim = try Child(
            Paths.binary("sentra-sim"),
            [
                "--config", Paths.exampleConfig, "--broker", broker.address, "--from", day, "--to", day, "--speed", "0", "--qos", "1",
                "--seed", "7", "--interval", "30", "--truth", truthFile, "--quiet",
            ], log: daemon.dir.appendingPathComponent("sim.log"))

        var runStarted = nowMillis() - 60_000
        for kill in 1...2 {
            // This run has committed 4,000 readings of its own: kill it in the middle of the day.
            try await eventually("readings before kill \(kill)", timeout: 120) {
                let s = try daemon.stats()
                return ((s?["since_ms"] as? NSNumber)?.int64Value ?? 0) >= runStarted && ((s?["accepted"] as? Int) ?? 0) >= 4000
            }
            try await daemon.kill9()
            runStarted = nowMillis()
            try await daemon.start()
        }
        #expect(try await sim.wait(timeout: 300) == 0, "sentra-sim: \(sim.output)")
        let truthData = try Data(contentsOf: URL(fileURLWithPath: truthFile))
        let truthObj = try #require(try JSONSerialization.jsonObject(with: truthData) as? [String: Any])
        let truthDay = try #require((truthObj["days"] as? [String: Any])?[day] as? [String: Any])
        let truth = Self.rows(truthDay)
        #expect(truth.craftsmen.values.contains { $0.pieces > 0 })

        let workshopOf = Dictionary(uniqueKeysWithValues: (try Configuration_craftsmen()).map { ($0.id, $0.workshop) })
        func totals(_ x: (craftsmen: [String: Row], workshops: [String: (kwh: Double, water: Double)])) -> [String: [Double]] {
            var out: [String: [Double]] = [:]
            for (c, r) in x.craftsmen {
                let w = workshopOf[c] ?? "?"
                out[w, default: [0, 0]][0] += r.kwh
                out[w, default: [0, 0]][1] += r.water
            }
            for (w, u) in x.workshops {
                out[w, default: [0, 0]][0] += u.kwh
                out[w, default: [0, 0]][1] += u.water
            }
            return out
        }
        let tw = totals(truth)
        var report = Self.rows([:])
        var last = ""
        do {
            try await eventually("the report to equal the truth", timeout: 180) {
                let (status, out) = try daemon.ctl(["report", "--date", day, "--format", "json"])
                guard status == 0, let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else { return false }
                last = out
                report = Self.rows(obj)
                let rw = totals(report)
                let metersDone = tw.allSatisfy { w, t in abs((rw[w]?[0] ?? 0) - t[0]) < 0.0005 && abs((rw[w]?[1] ?? 0) - t[1]) < 0.05 }
                return metersDone
                    && report.craftsmen.mapValues { [$0.pieces, $0.picks, $0.runSeconds] }
                        == truth.craftsmen.mapValues { [$0.pieces, $0.picks, $0.runSeconds] }
            }
        } catch {
            Issue.record("report: \(last)")
            throw error
        }
        // Counters are exact whatever the crashes took: pieces, picks, running seconds.
        for (c, t) in truth.craftsmen {
            let r = try #require(report.craftsmen[c])
            #expect(r.pieces == t.pieces && r.picks == t.picks && r.runSeconds == t.runSeconds, "\(c): report \(r) truth \(t)")
        }
        // Energy and water per workshop are exact to the meters' resolution. (How a workshop
        // meter's hour is split among craftsmen follows the running time the daemon saw in
        // that hour; a reading lost in a crash moves its running time to the next reading's
        // hour, so the split, not the total, may shift inside a workshop.)
        let rw = totals(report)
        for (w, t) in tw {
            let r = rw[w] ?? [0, 0]
            #expect(abs(r[0] - t[0]) < 0.0005, "\(w) kWh: report \(r[0]) truth \(t[0])")
            #expect(abs(r[1] - t[1]) < 0.05, "\(w) litres: report \(r[1]) truth \(t[1])")
        }
        try await daemon.terminate()
    }

    /// The example's craftsmen and their workshops, as `sentractl registry` tells.
    func Configuration_craftsmen() throws -> [(id: String, workshop: String)] {
        let (_, out) = try run(Paths.binary("sentractl"), ["registry", "--config", Paths.exampleConfig, "--format", "json"])
        let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        return ((obj?["craftsmen"] as? [[String: Any]]) ?? []).map { ($0["id"] as? String ?? "", $0["workshop"] as? String ?? "") }
    }
}
