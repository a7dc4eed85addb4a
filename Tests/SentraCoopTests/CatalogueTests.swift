import SentraLocale
import Testing

/// The words of orders and pay: both catalogues have the same keys, in the same order, in their
/// sections, and every key the code names is there.
@Suite struct CoopCatalogueTests {
    /// The keys of section `name` of a catalogue's text, in order.
    func keys(_ language: Language, section name: String) -> [String] {
        var inside = false
        var out: [String] = []
        for line in Catalogue.shippedText(language).split(separator: "\n") {
            if line.hasPrefix("# --- ") {
                inside = line == "# --- \(name) ---"
                continue
            }
            if inside, !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") {
                out.append(line[..<eq].trimmingCharacters(in: .whitespaces))
            }
        }
        return out
    }

    @Test(arguments: ["Orders", "Pay"]) func bothLanguagesHaveTheSameKeys(_ section: String) {
        let en = keys(.en, section: section)
        #expect(!en.isEmpty)
        #expect(en == keys(.id, section: section))
    }

    @Test func everyKeyTheCodeNamesIsThere() {
        let named = [
            "orders.reason.capacity", "orders.reason.no_hours", "orders.reason.no_history", "orders.reason.equal_no_history",
            "orders.reason.equal_no_hours", "orders.reason.not_on_looms", "orders.none", "orders.behind", "orders.eta.none",
            "orders.show.rate", "orders.show.pace", "orders.show.looms", "orders.show.shares", "orders.status.open",
            "orders.status.closed", "pay.title", "pay.no_order", "pay.total", "pay.energy", "pay.energy_cost", "pay.water",
            "pay.water_cost", "pay.utilities_note", "pay.grand_total",
        ]
        for language in Language.allCases {
            let c = Catalogue.of(language)
            for key in named { #expect(c.entries[key] != nil, "\(language): \(key)") }
        }
        // Indonesian as the cooperative speaks it.
        #expect(Catalogue.of(.id)["pay.title"].hasPrefix("Upah borongan"))
        #expect(Catalogue.of(.id)["orders.col.eta"] == "Perkiraan selesai")
    }
}
