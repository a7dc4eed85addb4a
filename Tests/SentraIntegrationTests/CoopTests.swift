import Foundation
import SentraSim
import SentraWire
import Testing

/// Orders and pay end to end: real mosquitto, the built sentrad, a day of the example sentra
/// replayed by sentra-sim. Orders are taken with `sentractl order add` before the replay, from
/// the start of that day; afterwards an order's progress equals the simulator's truth for its
/// looms, and `sentractl pay` pays exactly the truth's pieces at the configured rates.
@Suite(.serialized) struct CoopTests {
    /// The example's rates (config/sentra.example.yaml), rupiah per piece.
    static let sarung: Int64 = 55000
    static let selendang: Int64 = 25000
    /// o-wati's own rate.
    static let watiRate: Int64 = 60000
    static let selLooms: Set = ["loom-07", "loom-08"]

    /// The latest working day of the example (Monday to Saturday, not a holiday) before today
    /// in Jakarta, and the date two weeks after today.
    static func days() -> (day: String, due: String) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "Asia/Jakarta")!
        func ymd(_ d: Date) -> String {
            let c = cal.dateComponents([.year, .month, .day], from: d)
            return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        }
        var d = cal.date(byAdding: .day, value: -1, to: Date())!
        while cal.component(.weekday, from: d) == 1 || ["2026-12-25", "2027-01-01"].contains(ymd(d)) {
            d = cal.date(byAdding: .day, value: -1, to: d)!
        }
        return (ymd(d), ymd(cal.date(byAdding: .day, value: 14, to: Date())!))
    }

    /// What each craftsman is owed for the day by hand: each loom's pieces in the truth at its order's rate.
    static func expectedPay(_ truth: PeriodReport) -> [String: (pieces: Int64, amount: Int64)] {
        var out: [String: (pieces: Int64, amount: Int64)] = [:]
        for l in truth.looms {
            let rate = selLooms.contains(l.loom) ? selendang : l.craftsman == "c-wati" ? watiRate : sarung
            out[l.craftsman, default: (0, 0)].pieces += l.pieces
            out[l.craftsman, default: (0, 0)].amount += l.pieces * rate
        }
        return out
    }

    // Long: one story from taking the orders to checking the pay sheets in three formats.
    @Test func ordersFollowTheTruthAndPayIsPiecesTimesRates() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        let (day, due) = Self.days()
        // The daemon's first run creates the state database and its session at the broker.
        let first = try await daemon.start()
        try await eventually("the daemon's subscription") { first.output.contains("subscribed to the device topics") }
        try await daemon.terminate()
        // Two orders from the start of the day: selendang on two of c-siti's five looms, and
        // sarung at its own rate on all of c-wati's looms.
        var (status, out) = try daemon.ctl([
            "order", "add", "--id", "o-sel", "--product", "selendang-ikat", "--wanted", "1000", "--due", due, "--looms",
            "loom-07,loom-08", "--at", day, "--format", "json",
        ])
        #expect(status == 0, "order add: \(out)")
        (status, out) = try daemon.ctl([
            "order", "add", "--id", "o-wati", "--product", "sarung-ikat", "--wanted", "500", "--due", due, "--craftsmen", "c-wati",
            "--rate", String(Self.watiRate), "--at", day, "--format", "json",
        ])
        #expect(status == 0, "order add: \(out)")
        let wati = try WireJSON.decode(OrderDocument.self, from: out)
        #expect(wati.looms.count == 5 && wati.rate == Self.watiRate)

        let truth = try await Self.replay(day, broker: broker, daemon: daemon)
        try await daemon.start()
        try await eventually("the report to equal the truth", timeout: 300) {
            let (status, out) = try daemon.ctl(["report", "--date", day, "--format", "json"])
            guard status == 0 else { return false }
            let report = try WireJSON.decode(ReportDocument.self, from: out)
            let pieces = Dictionary(uniqueKeysWithValues: report.craftsmen.map { ($0.craftsman, Int64($0.pieces)) })
            return truth.craftsmen.allSatisfy { pieces[$0.craftsman] == $0.pieces }
        }
        // sentractl writes beside the running daemon (SQLite's busy timeout waits for its commits).
        let shared = try WireJSON.decode(
            OrderDocument.self,
            from: try Self.ctl(daemon, ["order", "share", "o-sel", "--craftsman", "c-siti", "--pieces", "900", "--format", "json"]))
        #expect(shared.shares.first?.assigned == 900)
        try await daemon.terminate()

        // Progress: the truth's pieces of the order's looms since they joined (the whole day).
        let sel = try WireJSON.decode(OrderDocument.self, from: try Self.ctl(daemon, ["order", "show", "o-sel", "--format", "json"]))
        let selTruth = truth.looms.filter { Self.selLooms.contains($0.loom) }.reduce(0) { $0 + $1.pieces }
        #expect(selTruth > 0, "the simulator wove on loom-07 and loom-08")
        #expect(sel.made == Double(selTruth))
        #expect(sel.left == Double(1000 - selTruth))
        #expect(sel.shares.map(\.craftsman) == ["c-siti"] && sel.shares.first?.made == Double(selTruth))
        #expect(sel.shares.first?.suggested == 1000)
        let watiNow = try WireJSON.decode(OrderDocument.self, from: try Self.ctl(daemon, ["order", "show", "o-wati", "--format", "json"]))
        #expect(watiNow.made == Double(truth.craftsmen.first { $0.craftsman == "c-wati" }?.pieces ?? -1))

        // Pay as JSON: pieces × rates, by hand, for every craftsman.
        let expected = Self.expectedPay(truth)
        let pay = try WireJSON.decode(
            PayDocument.self, from: try Self.ctl(daemon, ["pay", "--from", day, "--to", day, "--format", "json"]))
        for c in truth.craftsmen {
            let sheet = try #require(pay.craftsmen.first { $0.craftsman == c.craftsman })
            #expect(sheet.pieces == Double(c.pieces), "\(c.craftsman) pieces")
            #expect(sheet.amount == expected[c.craftsman]?.amount, "\(c.craftsman) amount")
        }
        #expect(pay.totalAmount == expected.values.reduce(0) { $0 + $1.amount })
        #expect(pay.craftsmen.first { $0.craftsman == "c-siti" }?.lines.compactMap(\.order) == ["o-sel"])

        // Pay as CSV: the same numbers, parsed as RFC 4180.
        let csv = try Self.ctl(daemon, ["pay", "--from", day, "--to", day, "--format", "csv", "--language", "id"])
        let rows = try CSV.parse(csv)
        #expect(
            rows.first
                == "craftsman,name,workshop,product,order,pieces,rate_idr,amount_idr,kwh,energy_idr,water_l,water_idr"
                .split(separator: ",").map(String.init))
        var fromCSV: [String: (pieces: Int64, amount: Int64, energy: Int64)] = [:]
        for r in rows.dropFirst() {
            try #require(r.count == 12, "\(r)")
            fromCSV[r[0], default: (0, 0, 0)].pieces += Int64(r[5]) ?? -1_000_000
            fromCSV[r[0], default: (0, 0, 0)].amount += Int64(r[7]) ?? -1_000_000
            fromCSV[r[0], default: (0, 0, 0)].energy += Int64(r[9]) ?? 0
        }
        for c in truth.craftsmen {
            #expect(fromCSV[c.craftsman]?.pieces == c.pieces, "\(c.craftsman) CSV pieces")
            #expect(fromCSV[c.craftsman]?.amount == expected[c.craftsman]?.amount, "\(c.craftsman) CSV amount")
            #expect(fromCSV[c.craftsman]?.energy == pay.craftsmen.first { $0.craftsman == c.craftsman }?.energyCost ?? 0)
        }
        // Electricity at 1,444.70 per kWh of the report, to the rupiah.
        let report = try WireJSON.decode(
            ReportDocument.self, from: try Self.ctl(daemon, ["report", "--date", day, "--format", "json"]))
        for r in report.craftsmen where r.kwh > 0 {
            let cost = pay.craftsmen.first { $0.craftsman == r.craftsman }?.energyCost ?? -1
            #expect(abs(Double(cost) - r.kwh * 1444.70) <= 0.5 + 1e-6, "\(r.craftsman) energy \(cost) for \(r.kwh) kWh")
        }
        // The table is Indonesian when asked, rupiah as Rp 1.250.000.
        let table = try Self.ctl(daemon, ["pay", "--from", day, "--to", day, "--language", "id"])
        #expect(table.contains("Upah borongan") && table.contains("Rp 25.000"))

        // Exit codes: a value that parses but is wrong is 1, naming it; a malformed command line 64.
        for (args, code, says) in [
            (["order", "show", "o-none"], Int32(1), "no order 'o-none'"),
            (
                ["order", "add", "--product", "songket", "--wanted", "5", "--due", due, "--looms", "loom-01"], 1,
                "unknown product 'songket'"
            ),
            (["order", "close", "o-sel", "--format", "xml"], 1, "--format"),
            (["pay", "--from", "2026-13-01", "--to", day], 1, "--from '2026-13-01'"),
            (["order", "add", "--wanted", "many"], 64, "--wanted"),
        ] {
            let (status, out) = try daemon.ctl(args)
            #expect(status == code && out.contains(says), "sentractl \(args.joined(separator: " ")): \(status) \(out)")
        }
    }

    /// sentractl's output when it exits 0; a failed expectation naming the command otherwise.
    static func ctl(_ daemon: Daemon, _ args: [String]) throws -> String {
        let (status, out) = try daemon.ctl(args)
        try #require(status == 0, "sentractl \(args.joined(separator: " ")): \(out)")
        return out
    }

    /// Publishes `day` with the simulator while the daemon is away; the truth for the day.
    static func replay(_ day: String, broker: Broker, daemon: Daemon) async throws -> PeriodReport {
        let truthFile = daemon.dir.appendingPathComponent("truth.json").path
        let sim = try Child(
            Paths.binary("sentra-sim"),
            [
                "--config", Paths.exampleConfig, "--broker", broker.address, "--from", day, "--to", day, "--speed", "0", "--qos", "1",
                "--seed", "11", "--interval", "30", "--truth", truthFile, "--quiet",
            ], log: daemon.dir.appendingPathComponent("sim.log"))
        #expect(try await sim.wait(timeout: 600) == 0, "sentra-sim: \(sim.output)")
        let truth = try JSONDecoder().decode(TruthReport.self, from: Data(contentsOf: URL(fileURLWithPath: truthFile)))
        return try #require(truth.days[day])
    }
}

/// RFC 4180: fields separated by commas, records by CRLF; a quoted field may hold commas,
/// line breaks and doubled quotes.
enum CSV {
    static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.unicodeScalars.append("\"")
                        chars = chars.dropFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\r" && chars.first == "\n" {
                chars = chars.dropFirst()
                row.append(field)
                rows.append(row)
                (row, field) = ([], "")
            } else if c == "\r" || c == "\n" || c == "\"" {
                throw TestFailure("not RFC 4180: a bare \(c == "\"" ? "quote" : "line break") inside a field")
            } else {
                field.unicodeScalars.append(c)
            }
        }
        if quoted { throw TestFailure("not RFC 4180: a quoted field never closed") }
        if !field.isEmpty || !row.isEmpty { throw TestFailure("not RFC 4180: the last record has no CRLF") }
        return rows
    }
}
