import ArgumentParser
import Foundation
import SentraConfig
import SentraCoop
import SentraCore
import SentraLocale
import SentraStore
import SentraWire

/// `sentractl pay`: piece-rate pay sheets for a range of local days (docs/pay.md).
struct PayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pay", abstract: "Piece-rate pay per craftsman over local days: pieces × rate, with electricity and water shown.")
    @OptionGroup var common: Common
    @Option(help: "First local day, YYYY-MM-DD, inclusive.") var from: String
    @Option(help: "Last local day, YYYY-MM-DD, inclusive.") var to: String
    @Option(help: "table, csv or json.") var format: String = "table"
    @Option(help: "The language of the table, en or id (default: the configuration's).") var language: String?

    /// The CSV header: stable, English, whatever the language.
    static let csvHeader = "craftsman,name,workshop,product,order,pieces,rate_idr,amount_idr,kwh,energy_idr,water_l,water_idr"

    func validate() throws {
        guard ["table", "csv", "json"].contains(format) else { throw userError("--format '\(format)' is not one of: table, csv, json") }
        if let language, Language(rawValue: language) == nil { throw userError("--language '\(language)' is not one of: en, id") }
    }

    func run() throws {
        do {
            _ = try DayRange(from: from, to: to, maxDays: DayRange.maxDaysOnCommandLine)
        } catch {
            throw userError(error.description)
        }
        let c = try common.load()
        let store: ProductionStore
        do {
            store = try ProductionStore(readingFrom: c.stateDatabasePath)
        } catch {
            printError("sentractl: \(error)")
            throw ExitCode(stateExitCode(opening: error))
        }
        let lang = tableLanguage(c, language)
        let book = CoopBook(store: store, registry: c.registry, pay: c.pay, calendar: c.calendar, language: lang)
        let doc = try guarded { try book.pay(from: from, to: to) }
        switch format {
        case "json": print(try WireJSON.text(doc), terminator: "")
        case "csv": print(Self.csv(doc), terminator: "")
        default: print(PayTable(lang).render(doc), terminator: "")
        }
    }

    /// One row per pay line; a craftsman's electricity and water on his first row only (so the
    /// columns add up); a craftsman without lines has one row with no product. RFC 4180.
    static func csv(_ doc: PayDocument) -> String {
        var out = csvHeader + "\r\n"
        for p in doc.craftsmen {
            let utilities = [plain(p.kwh), p.energyCost.map(String.init) ?? "", plain(p.waterL), p.waterCost.map(String.init) ?? ""]
            let lines = p.lines.isEmpty ? [nil] : p.lines.map { Optional($0) }
            for (i, l) in lines.enumerated() {
                var row = [p.craftsman, p.name, p.workshop, l?.product ?? "", l?.order ?? ""]
                row += [plain(l?.pieces ?? 0), l.map { String($0.rate) } ?? "", String(l?.amount ?? 0)]
                row += i == 0 ? utilities : ["", "", "", ""]
                out += row.map(field).joined(separator: ",") + "\r\n"
            }
        }
        return out
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break (quotes doubled).
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A number as the JSON shows it: whole without a point, else with its decimals.
    static func plain(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}

/// The pay document as a table per craftsman, in a language.
struct PayTable {
    let c: Catalogue
    let f: LocaleFormat

    init(_ language: Language) {
        c = Catalogue.of(language)
        f = LocaleFormat(language)
    }

    func render(_ doc: PayDocument) -> String {
        var out = c.text("pay.title", ["from": f.date(doc.from), "to": f.date(doc.to)]) + "\n"
        for p in doc.craftsmen {
            out += "\n\(p.name) (\(p.craftsman), \(p.workshop))\n"
            var rows = p.lines.map { l in
                [l.productName, l.order ?? c["pay.no_order"], f.number(l.pieces), f.rupiah(l.rate), f.rupiah(l.amount)]
            }
            rows.append([c["pay.total"], "", f.number(p.pieces), "", f.rupiah(p.amount)])
            out += Columns.render(
                header: ["pay.col.product", "pay.col.order", "pay.col.pieces", "pay.col.rate", "pay.col.amount"].map { c[$0] }, rows: rows,
                numeric: [2, 3, 4])
            let kwh = f.number(p.kwh, fractionDigits: 2)
            out +=
                (p.energyCost.map { c.text("pay.energy_cost", ["kwh": kwh, "cost": f.rupiah($0)]) } ?? c.text("pay.energy", ["kwh": kwh]))
                + "\n"
            let litres = f.number(p.waterL, fractionDigits: 0)
            out +=
                (p.waterCost.map { c.text("pay.water_cost", ["litres": litres, "cost": f.rupiah($0)]) }
                    ?? c.text("pay.water", ["litres": litres]))
                + "\n"
        }
        out += "\n" + c.text("pay.grand_total", ["pieces": f.number(doc.totalPieces), "amount": f.rupiah(doc.totalAmount)]) + "\n"
        out += c["pay.utilities_note"] + "\n"
        return out
    }
}
