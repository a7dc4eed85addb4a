import ArgumentParser
import Foundation
import SentraConfig
import SentraCoop
import SentraCore
import SentraLocale
import SentraStore
import SentraWire

/// `sentractl order`: take, follow, share and close orders (docs/orders.md).
struct OrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order", abstract: "Take orders, share them among craftsmen, follow their progress and close them.",
        subcommands: [Add.self, List.self, Show.self, Change.self, Share.self, Close.self])

    /// What every order subcommand takes besides the common options.
    struct Output: ParsableArguments {
        @Option(help: "table or json.") var format: String = "table"
        @Option(help: "The language of tables, en or id (default: the configuration's).") var language: String?

        func validate() throws {
            guard ["table", "json"].contains(format) else { throw userError("--format '\(format)' is not one of: table, json") }
            if let language, Language(rawValue: language) == nil { throw userError("--language '\(language)' is not one of: en, id") }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take an order for some looms (or all looms of some craftsmen).")
        @OptionGroup var common: Common
        @OptionGroup var output: Output
        @Option(help: "A configured product id.") var product: String
        @Option(help: "Pieces wanted, 1 to 1,000,000.") var wanted: Int
        @Option(help: "The local date it is due by (end of that day), YYYY-MM-DD.") var due: String
        @Option(help: "The looms that work on it, comma-separated.") var looms: String?
        @Option(help: "The craftsmen whose looms work on it, comma-separated.") var craftsmen: String?
        @Option(help: "The order's id (default: o-<next number>).") var id: String?
        @Option(help: "The motif, free text.") var title: String?
        @Option(help: "Rupiah per piece for this order, overriding the product's rate.") var rate: Int64?
        @Option(help: ArgumentHelp(At.help)) var at: String?

        func run() throws {
            let request = OrderRequest(
                id: id, product: product, title: title, wanted: wanted, due: due, looms: list(looms), craftsmen: list(craftsmen), rate: rate
            )
            try withBook(common, output, at: at) { book, now in try book.create(request, now: now) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The open orders (--all: closed ones too) with their progress.")
        @OptionGroup var common: Common
        @OptionGroup var output: Output
        @Flag(help: "Closed orders too.") var all = false

        func run() throws {
            let (book, lang) = try openBook(common, output)
            let answer = try guarded { try book.orders(now: nowMillis(), includeClosed: all) }
            if output.format == "json" {
                print(try WireJSON.text(answer), terminator: "")
            } else {
                print(OrderTables(lang).list(answer.orders), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One order: progress, ETA, looms and each craftsman's share.")
        @OptionGroup var common: Common
        @OptionGroup var output: Output
        @Argument(help: "The order's id.") var id: String

        func run() throws { try withBook(common, output) { book, now in try book.order(id, now: now) } }
    }

    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an open order: only what is given changes.")
        @OptionGroup var common: Common
        @OptionGroup var output: Output
        @Argument(help: "The order's id.") var id: String
        @Option(help: "The motif (empty: none).") var title: String?
        @Option(help: "Pieces wanted.") var wanted: Int?
        @Option(help: "The due date, YYYY-MM-DD.") var due: String?
        @Option(help: "Rupiah per piece for this order.") var rate: Int64?
        @Option(name: .customLong("add-looms"), help: "Looms to put on it, comma-separated.") var addLooms: String?
        @Option(name: .customLong("remove-looms"), help: "Looms to take off it, comma-separated.") var removeLooms: String?
        @Option(name: .customLong("add-craftsmen"), help: "Craftsmen whose looms to put on it, comma-separated.") var addCraftsmen: String?
        @Option(help: ArgumentHelp(At.help)) var at: String?

        func run() throws {
            let change = OrderChange(
                title: title, wanted: wanted, due: due, rate: rate, addLooms: list(addLooms), removeLooms: list(removeLooms),
                addCraftsmen: list(addCraftsmen))
            try withBook(common, output, at: at) { book, now in try book.change(id, change, now: now) }
        }
    }

    struct Share: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a craftsman's share of an order, overriding the suggestion.")
        @OptionGroup var common: Common
        @OptionGroup var output: Output
        @Argument(help: "The order's id.") var id: String
        @Option(help: "The craftsman.") var craftsman: String
        @Option(help: "His pieces of the order.") var pieces: Int

        func run() throws {
            try withBook(common, output) { book, now in try book.change(id, OrderChange(shares: [craftsman: pieces]), now: now) }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close an order: its looms leave it now.")
        @OptionGroup var common: Common
        @OptionGroup var output: Output
        @Argument(help: "The order's id.") var id: String

        func run() throws { try withBook(common, output) { book, now in try book.close(id, now: now) } }
    }
}

/// A comma-separated option as a list (nil stays nil; blanks dropped).
func list(_ s: String?) -> [String]? {
    s.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
}

func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

/// The language of tables: `--language`, else the configuration's.
func tableLanguage(_ c: Configuration, _ flag: String?) -> Language {
    flag.flatMap(Language.init(rawValue:)) ?? .en
}

/// The configuration and the state database opened for writing, as a book; exit 1 for a bad
/// configuration or a state directory where sentrad never ran, 2 for damaged state.
func openBook(_ common: Common, _ output: OrderCommand.Output) throws -> (CoopBook, Language) {
    let c = try common.load()
    let store: ProductionStore
    do {
        store = try ProductionStore.openExisting(path: c.stateDatabasePath)
    } catch {
        printError("sentractl: \(error)")
        throw ExitCode(stateExitCode(opening: error))
    }
    let lang = tableLanguage(c, output.language)
    return (CoopBook(store: store, registry: c.registry, pay: c.pay, calendar: c.calendar, language: lang), lang)
}

/// Runs `body`: a `CoopError` is exit 1 naming what was wrong, anything else exit 2.
func guarded<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as CoopError {
        throw userError(e.description)
    } catch {
        printError("sentractl: the state database failed: \(error)")
        throw ExitCode(2)
    }
}

/// `--at`: when a change happened, if not now.
enum At {
    static let help =
        "When it happened, if earlier: RFC 3339, or YYYY-MM-DD for the start of that local day (at most 366 days ago; default: now)."
    static let maxDaysBack: Int64 = 366

    /// The moment `text` names, checked: not in the future, at most `maxDaysBack` days ago.
    static func millis(_ text: String?, calendar: LocalCalendar, now: Int64) throws -> Int64 {
        guard let text else { return now }
        var cal = calendar
        guard let ms = RFC3339.parse(text) ?? (text.count == 10 ? cal.startOfDay(text) : nil) else {
            throw userError("--at '\(text)' is neither RFC 3339 nor YYYY-MM-DD")
        }
        guard ms <= now else { throw userError("--at \(text) is in the future") }
        guard now - ms <= maxDaysBack * 86_400_000 else { throw userError("--at \(text) is more than \(maxDaysBack) days ago") }
        return ms
    }
}

/// Opens the book, runs `body` at `--at` (else now) and prints the order it answers as a table or JSON.
func withBook(
    _ common: Common, _ output: OrderCommand.Output, at: String? = nil, _ body: (CoopBook, Int64) throws -> OrderDocument
) throws {
    let (book, lang) = try openBook(common, output)
    let moment = try At.millis(at, calendar: book.calendar, now: nowMillis())
    // Done at an earlier moment, shown as it stands now.
    let doc = try guarded { try at == nil ? body(book, moment) : book.order(body(book, moment).id, now: nowMillis()) }
    if output.format == "json" {
        print(try WireJSON.text(doc), terminator: "")
    } else {
        print(OrderTables(lang).show(doc), terminator: "")
    }
}

/// Orders as tables, in a language (every word from the catalogue).
struct OrderTables {
    let c: Catalogue
    let f: LocaleFormat

    init(_ language: Language) {
        c = Catalogue.of(language)
        f = LocaleFormat(language)
    }

    func list(_ orders: [OrderDocument]) -> String {
        guard !orders.isEmpty else { return c["orders.none"] + "\n" }
        let header = [
            "orders.col.id", "orders.col.product", "orders.col.due", "orders.col.wanted", "orders.col.made", "orders.col.left",
            "orders.col.eta", "orders.col.status",
        ].map { c[$0] }
        let rows = orders.map { o in
            [
                o.id, o.productName + (o.title.map { " — \($0)" } ?? ""), f.date(o.due), f.integer(Int64(o.wanted)), f.number(o.made),
                f.number(o.left), eta(o), status(o),
            ]
        }
        return Columns.render(header: header, rows: rows, numeric: [3, 4, 5])
    }

    func show(_ o: OrderDocument) -> String {
        var out = "\(o.id)  \(o.productName)" + (o.title.map { " — \($0)" } ?? "") + "  (\(status(o)))\n"
        out += "\(c["orders.col.due"]): \(f.date(o.due))   \(c["orders.col.wanted"]): \(f.integer(Int64(o.wanted)))   "
        out += "\(c["orders.col.made"]): \(f.number(o.made))   \(c["orders.col.left"]): \(f.number(o.left))\n"
        out += "\(c["orders.col.eta"]): \(eta(o))\n"
        out += c.text("orders.show.rate", ["rate": f.rupiah(o.rate)]) + "\n"
        if let pace = o.ratePerShiftHour { out += c.text("orders.show.pace", ["pace": f.number(pace, fractionDigits: 2)]) + "\n" }
        out += "\n" + c["orders.show.looms"] + "\n"
        out += Columns.render(
            header: ["orders.col.loom", "orders.col.workshop", "orders.col.craftsman", "orders.col.joined", "orders.col.left_at"].map {
                c[$0]
            },
            rows: o.looms.map { [$0.loom, $0.workshop, $0.craftsman, moment($0.joined), $0.left.map(moment) ?? ""] }, numeric: [])
        out += "\n" + c["orders.show.shares"] + "\n"
        out += Columns.render(
            header: [
                "orders.col.craftsman", "orders.col.suggested", "orders.col.assigned", "orders.col.made", "orders.col.usual",
                "orders.col.hours_left", "orders.col.reason",
            ].map { c[$0] },
            rows: o.shares.map { s in
                [
                    "\(s.name) (\(s.craftsman))", f.integer(Int64(s.suggested)), f.integer(Int64(s.assigned)), f.number(s.made),
                    s.usualPerShiftHour.map { f.number($0, fractionDigits: 2) } ?? "", f.number(s.shiftHoursLeft), s.reason,
                ]
            }, numeric: [1, 2, 3, 4, 5])
        return out
    }

    func status(_ o: OrderDocument) -> String {
        let s = c["orders.status.\(o.status)"]
        return o.behind ? "\(s), \(c["orders.behind"])" : s
    }

    func eta(_ o: OrderDocument) -> String { o.eta.map(moment) ?? (o.left > 0 && o.status == "open" ? c["orders.eta.none"] : "") }

    /// An RFC 3339 time in the sentra's offset as `Senin, 23 Nov 2026 14:30`.
    func moment(_ rfc: String) -> String {
        guard rfc.count >= 16 else { return rfc }
        return f.date(String(rfc.prefix(10))) + " " + rfc.dropFirst(11).prefix(5)
    }
}

/// Text in aligned columns: a header, a rule, the rows; `numeric` columns right-aligned.
enum Columns {
    static func render(header: [String], rows: [[String]], numeric: Set<Int>) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, cell) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return numeric.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").trailingSpacesDropped
        }
        var out = [line(header), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// Without trailing spaces (a last column padded for alignment).
    var trailingSpacesDropped: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
