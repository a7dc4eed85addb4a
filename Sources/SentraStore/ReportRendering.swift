import Foundation
import SentraCore
import SentraWire

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
        // Only strings and finite numbers: encoding cannot fail.
        (try? WireJSON.text(document(by: grouping))) ?? ""
    }

    /// The report as its JSON document (`sentractl report --format json`, `GET /api/v1/production`),
    /// numbers rounded as it prints them.
    public func document(by grouping: ReportGrouping) -> ReportDocument {
        let n = { (v: Double) in WireJSON.rounded(v) }
        let ratio = { (v: Double?) in v.map { WireJSON.rounded($0, decimals: 4) } }
        let seconds = { (ms: Double) in Int((ms / 1000).rounded()) }
        var doc = ReportDocument(
            from: from, to: to,
            craftsmen: craftsmen.map { c in
                .init(
                    craftsman: c.craftsman, name: c.name, workshop: c.workshop, pieces: n(c.pieces), picks: n(c.picks),
                    runSeconds: c.runSeconds, kwh: n(c.kwh), waterL: n(c.waterL), kwhPerPiece: ratio(c.kwhPerPiece),
                    litresPerPiece: ratio(c.litresPerPiece), utilisation: ratio(c.utilisation))
            },
            unattributed: unattributed.map { .init(workshop: $0.workshop, kwh: n($0.kwh), waterL: n($0.waterL)) })
        switch grouping {
        case .craftsman: break
        case .loom:
            doc.looms = looms.map { l in
                .init(
                    loom: l.loom, workshop: l.workshop, craftsman: l.craftsman, pieces: n(l.pieces), picks: n(l.picks),
                    runSeconds: seconds(l.runMillis), stopSeconds: seconds(l.stopMillis), faultSeconds: seconds(l.faultMillis),
                    stoppages: n(l.stoppages), utilisation: ratio(l.utilisation))
            }
        case .workshop:
            doc.workshops = workshops.map { w in
                .init(
                    workshop: w.workshop, pieces: n(w.pieces), picks: n(w.picks), runSeconds: seconds(w.runMillis), kwh: n(w.kwh),
                    waterL: n(w.waterL), voltageOutOfBandSeconds: seconds(w.voltageOutMillis), noPowerSeconds: seconds(w.noPowerMillis))
            }
        }
        return doc
    }

    func rows(by grouping: ReportGrouping) -> (header: [String], rows: [[String]]) {
        // Rounded to d places, without trailing zeros: 187, 0.5.
        let f = { (v: Double, d: Int) in NumberFormat.json(WireJSON.rounded(v, decimals: d)) }
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
