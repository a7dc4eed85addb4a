import Foundation
import SentraLocale
import SentraWire

/// `GET /pay` and `/me/pay`: the pay sheets as a printable page, one sheet per craftsman
/// (each breaks to a new page when printed), every word from the catalogue, numbers and
/// dates as the page's language writes them. No script.
enum PayPage {
    /// `workshops`: each workshop's name by id (an id missing is shown as it is).
    static func html(_ doc: PayDocument, language: Language, showTotal: Bool, workshops: [String: String] = [:]) -> String {
        let t = Catalogue.of(language)
        let f = LocaleFormat(language)
        let e = HTMLText.escape
        let period = t.text("ui.pay.period", ["from": f.date(doc.from), "to": f.date(doc.to)])
        var out = """
            <!doctype html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
            <title>\(e(t["ui.pay.title"])) · \(e(period))</title>
            <style>\(style)</style></head><body>

            """
        if doc.craftsmen.isEmpty { out += "<p class=\"none\">\(e(t["ui.pay.none"]))</p>\n" }
        // The total on top: the last sheet's page break must not leave a page for it alone.
        if showTotal && !doc.craftsmen.isEmpty {
            out +=
                "<p class=\"grand\" id=\"grand-total\">"
                + e(t.text("ui.pay.grand_total", ["pieces": f.number(doc.totalPieces), "amount": f.rupiah(doc.totalAmount)]))
                + "</p>\n"
        }
        for c in doc.craftsmen { out += sheet(c, workshop: workshops[c.workshop] ?? c.workshop, period: period, t: t, f: f) }
        return out + "</body></html>\n"
    }

    /// One craftsman's sheet: his lines, total, electricity and water, and a place to sign.
    static func sheet(_ c: PayDocument.PayCraftsman, workshop: String, period: String, t: Catalogue, f: LocaleFormat) -> String {
        let e = HTMLText.escape
        var rows = ""
        for l in c.lines {
            rows += "<tr><td>\(e(l.productName))</td><td>\(e(l.order ?? t["ui.pay.no_order"]))</td>"
            rows += "<td class=\"n\">\(e(f.number(l.pieces)))</td><td class=\"n\">\(e(f.rupiah(l.rate)))</td>"
            rows += "<td class=\"n\">\(e(f.rupiah(l.amount)))</td></tr>\n"
        }
        let kwh = f.number(c.kwh, fractionDigits: 2)
        let litres = f.number(c.waterL, fractionDigits: 0)
        let energy =
            c.energyCost.map { t.text("ui.pay.energy", ["kwh": kwh, "cost": f.rupiah($0)]) }
            ?? t.text("ui.pay.energy_no_tariff", ["kwh": kwh])
        let water =
            c.waterCost.map { t.text("ui.pay.water", ["litres": litres, "cost": f.rupiah($0)]) }
            ?? t.text("ui.pay.water_no_tariff", ["litres": litres])
        return """
            <section class="sheet" data-craftsman="\(e(c.craftsman))">
            <h1>\(e(t["ui.pay.sheet"]))</h1>
            <p class="who"><strong>\(e(c.name))</strong> · \(e(workshop))<br>\(e(period))</p>
            <table><thead><tr><th>\(e(t["ui.pay.product"]))</th><th>\(e(t["ui.pay.order"]))</th>
            <th class="n">\(e(t["ui.pay.pieces"]))</th><th class="n">\(e(t["ui.pay.rate"]))</th><th class="n">\(e(t["ui.pay.amount"]))</th></tr></thead>
            <tbody>
            \(rows)</tbody>
            <tfoot><tr><th colspan="2">\(e(t["ui.pay.total"]))</th><th class="n">\(e(f.number(c.pieces)))</th><th></th>
            <th class="n amount">\(e(f.rupiah(c.amount)))</th></tr></tfoot></table>
            <p>\(e(energy))<br>\(e(water))</p>
            <p class="note">\(e(t["ui.pay.utilities_note"])) \(e(t["ui.pay.rounding"]))</p>
            <p class="sign">\(e(t["ui.pay.signature"])):</p>
            </section>

            """
    }

    static let style = """
        body{font:14px system-ui,sans-serif;color:#111;max-width:46rem;margin:1rem auto;padding:0 1rem}
        .sheet{break-after:page;page-break-after:always;padding:1rem 0;border-bottom:1px dashed #999}
        .sheet:last-of-type{border-bottom:0;break-after:auto;page-break-after:auto}h1{font-size:1.3rem;margin:0 0 .4rem}
        table{width:100%;border-collapse:collapse;margin:.6rem 0}th,td{border-bottom:1px solid #ccc;padding:.3rem;text-align:left}
        .n{text-align:right;font-variant-numeric:tabular-nums}tfoot th{border-top:2px solid #111}
        .note{color:#555;font-size:.85rem}.sign{margin-top:3rem;border-top:1px solid #111;width:14rem;padding-top:.2rem}
        @media print{body{margin:0}.sheet{border:0}}
        """
}
