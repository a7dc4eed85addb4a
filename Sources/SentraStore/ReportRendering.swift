import Foundation
import SentraCore
import SentraLocale
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
    /// The report in `format`; a table in `language` (JSON and CSV are the same in every language).
    public func render(_ format: ReportFormat, by grouping: ReportGrouping, language: Language = .en) -> String {
        switch format {
        case .json: json(by: grouping)
        case .csv: csv(by: grouping)
        case .table: table(by: grouping, language: language)
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

    /// The columns: the CSV's name and the catalogue key of the table's header.
    static let columns: [ReportGrouping: [(csv: String, key: String)]] = [
        .craftsman: [
            ("craftsman", "craftsman"), ("name", "name"), ("workshop", "workshop"), ("pieces", "pieces"), ("picks", "picks"),
            ("running", "running"), ("util", "util"), ("kWh", "kwh"), ("litres", "litres"), ("kWh/piece", "kwh_per_piece"),
            ("L/piece", "litres_per_piece"),
        ],
        .loom: [
            ("loom", "loom"), ("workshop", "workshop"), ("craftsman", "craftsman"), ("pieces", "pieces"), ("picks", "picks"),
            ("running", "running"), ("stopped", "stopped"), ("fault", "fault"), ("stoppages", "stoppages"), ("util", "util"),
        ],
        .workshop: [
            ("workshop", "workshop"), ("pieces", "pieces"), ("picks", "picks"), ("running", "running"), ("kWh", "kwh"),
            ("litres", "litres"), ("V out of band", "voltage_out"), ("no power", "no_power"),
        ],
    ]

    /// The rows: for CSV (`language` nil) plain numbers and English names; for a table, numbers
    /// and words in `language`.
    func rows(by grouping: ReportGrouping, language: Language? = nil) -> (header: [String], rows: [[String]]) {
        let lf = language.map(LocaleFormat.init)
        let words = language.map(Catalogue.of)
        // Rounded to d places, without trailing zeros: 187, 0.5 (`1.234,5` in an Indonesian table).
        let f = { (v: Double, d: Int) in
            lf?.number(WireJSON.rounded(v, decimals: d), fractionDigits: d) ?? NumberFormat.json(WireJSON.rounded(v, decimals: d))
        }
        let pct = { (v: Double?) in
            v.map { p in lf.map { $0.integer(Int64((p * 100).rounded())) } ?? String(Int((p * 100).rounded())) }.map { $0 + "%" } ?? "-"
        }
        let header = (Self.columns[grouping] ?? []).map { c in words.map { $0.text("report.col.\(c.key)") } ?? c.csv }
        let nobody = words?.text("report.unattributed") ?? "(unattributed)"
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
                rows.append([nobody, "", u.workshop, "", "", "", "", f(u.kwh, 3), f(u.waterL, 1), "", ""])
            }
            return (header, rows)
        case .loom:
            return (
                header,
                looms.map { l in
                    [
                        l.loom, l.workshop, l.craftsman, f(l.pieces, 0), f(l.picks, 0), hms(l.runMillis), hms(l.stopMillis),
                        hms(l.faultMillis), f(l.stoppages, 0), pct(l.utilisation),
                    ]
                }
            )
        case .workshop:
            return (
                header,
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

    /// `sentractl report --format table`: a title, the header and the rows, in `language`.
    public func table(by grouping: ReportGrouping, language: Language = .en) -> String {
        let (header, rows) = rows(by: grouping, language: language)
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        let numeric = Set(3..<header.count)
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return numeric.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ")
        }
        let words = Catalogue.of(language)
        let lf = LocaleFormat(language)
        let title =
            from == to
            ? words.text("report.title_day", ["date": lf.date(from)])
            : words.text("report.title_range", ["from": lf.date(from), "to": lf.date(to)])
        var out = [title, "", line(header), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.joined(separator: "\n") + "\n"
    }
}
