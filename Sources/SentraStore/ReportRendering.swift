import Foundation
import SentraCore

/// How `sentractl report` prints.
public enum ReportFormat: String, Sendable, CaseIterable {
    case table, csv, json
}

/// What a report lists, one row each.
public enum ReportGrouping: String, Sendable, CaseIterable {
    case craftsman, loom, workshop
}

extension ProductionReport {
    public func render(_ format: ReportFormat, by grouping: ReportGrouping) -> String {
        switch format {
        case .json: json(by: grouping)
        case .csv: csv(by: grouping)
        case .table: table(by: grouping)
        }
    }

    /// `sentractl report --format json`: `craftsmen` (every configured craftsman) and `unattributed`, always;
    /// `looms` or `workshops` as well when grouped so.
    public func json(by grouping: ReportGrouping) -> String {
        let n = { (v: Double) in JSONText.number(v) }
        let opt = { (v: Double?) in v.map { JSONText.number($0, decimals: 4) } ?? "null" }
        let craftsmen = self.craftsmen.map { c in
            JSONText.object([
                ("craftsman", JSONText.string(c.craftsman)), ("name", JSONText.string(c.name)),
                ("workshop", JSONText.string(c.workshop)), ("pieces", n(c.pieces)), ("picks", n(c.picks)),
                ("run_seconds", String(c.runSeconds)), ("kwh", n(c.kwh)), ("water_l", n(c.waterL)),
                ("kwh_per_piece", opt(c.kwhPerPiece)), ("litres_per_piece", opt(c.litresPerPiece)),
                ("utilisation", opt(c.utilisation)),
            ])
        }
        let un = unattributed.map { u in
            JSONText.object([("workshop", JSONText.string(u.workshop)), ("kwh", n(u.kwh)), ("water_l", n(u.waterL))])
        }
        var pairs: [(String, String)] = [
            ("from", JSONText.string(from)), ("to", JSONText.string(to)),
            ("craftsmen", JSONText.array(craftsmen, pretty: true)), ("unattributed", JSONText.array(un, pretty: true)),
        ]
        switch grouping {
        case .craftsman: break
        case .loom:
            pairs.append(
                (
                    "looms",
                    JSONText.array(
                        looms.map { l in
                            JSONText.object([
                                ("loom", JSONText.string(l.loom)), ("workshop", JSONText.string(l.workshop)),
                                ("craftsman", JSONText.string(l.craftsman)), ("pieces", n(l.pieces)), ("picks", n(l.picks)),
                                ("run_seconds", String(Int((l.runMillis / 1000).rounded()))),
                                ("stop_seconds", String(Int((l.stopMillis / 1000).rounded()))),
                                ("fault_seconds", String(Int((l.faultMillis / 1000).rounded()))),
                                ("stoppages", n(l.stoppages)), ("utilisation", opt(l.utilisation)),
                            ])
                        }, pretty: true)
                ))
        case .workshop:
            pairs.append(
                (
                    "workshops",
                    JSONText.array(
                        workshops.map { w in
                            JSONText.object([
                                ("workshop", JSONText.string(w.workshop)), ("pieces", n(w.pieces)), ("picks", n(w.picks)),
                                ("run_seconds", String(Int((w.runMillis / 1000).rounded()))), ("kwh", n(w.kwh)),
                                ("water_l", n(w.waterL)),
                                ("voltage_out_of_band_seconds", String(Int((w.voltageOutMillis / 1000).rounded()))),
                                ("no_power_seconds", String(Int((w.noPowerMillis / 1000).rounded()))),
                            ])
                        }, pretty: true)
                ))
        }
        return "{\n  " + pairs.map { "\(JSONText.string($0.0)): \($0.1)" }.joined(separator: ",\n  ") + "\n}\n"
    }

    func rows(by grouping: ReportGrouping) -> (header: [String], rows: [[String]]) {
        let f = { (v: Double, d: Int) in JSONText.number(v, decimals: d) }
        let pct = { (v: Double?) in v.map { String(Int(($0 * 100).rounded())) + "%" } ?? "-" }
        let hms = { (ms: Double) -> String in
            let s = Int((ms / 1000).rounded())
            return String(format: "%d:%02d", s / 3600, (s % 3600) / 60)
        }
        switch grouping {
        case .craftsman:
            var rows = craftsmen.map { c in
                [
                    c.craftsman, c.name, c.workshop, f(c.pieces, 0), f(c.picks, 0), hms(c.runMillis), pct(c.utilisation),
                    f(c.kwh, 3), f(c.waterL, 1), c.kwhPerPiece.map { f($0, 3) } ?? "-", c.litresPerPiece.map { f($0, 1) } ?? "-",
                ]
            }
            for u in unattributed {
                rows.append(["(unattributed)", "", u.workshop, "", "", "", "", f(u.kwh, 3), f(u.waterL, 1), "", ""])
            }
            return (["craftsman", "name", "workshop", "pieces", "picks", "running", "util", "kWh", "litres", "kWh/piece", "L/piece"], rows)
        case .loom:
            return (
                ["loom", "workshop", "craftsman", "pieces", "picks", "running", "stopped", "fault", "stoppages", "util"],
                looms.map { l in
                    [
                        l.loom, l.workshop, l.craftsman, f(l.pieces, 0), f(l.picks, 0), hms(l.runMillis), hms(l.stopMillis),
                        hms(l.faultMillis), f(l.stoppages, 0), pct(l.utilisation),
                    ]
                }
            )
        case .workshop:
            return (
                ["workshop", "pieces", "picks", "running", "kWh", "litres", "V out of band", "no power"],
                workshops.map { w in
                    [
                        w.workshop, f(w.pieces, 0), f(w.picks, 0), hms(w.runMillis), f(w.kwh, 3), f(w.waterL, 1),
                        hms(w.voltageOutMillis), hms(w.noPowerMillis),
                    ]
                }
            )
        }
    }

    public func csv(by grouping: ReportGrouping) -> String {
        let (header, rows) = rows(by: grouping)
        let esc = { (s: String) in s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        return ([header] + rows).map { $0.map(esc).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    public func table(by grouping: ReportGrouping) -> String {
        let (header, rows) = rows(by: grouping)
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        let numeric = Set(3..<header.count)
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return numeric.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ")
        }
        let title = from == to ? "Production on \(from)" : "Production from \(from) to \(to)"
        var out = [title, "", line(header), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.joined(separator: "\n") + "\n"
    }
}
