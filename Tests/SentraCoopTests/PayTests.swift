import Foundation
import SentraConfig
import SentraCore
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraCoop
@testable import SentraStore

/// Piece-rate pay over hand-built rows equals the arithmetic done by hand.
@Suite struct PayTests {
    @Test func payEqualsHandArithmetic() throws {
        let f = try Fixture()
        let book = f.book()
        let monday = "2026-11-23"
        // o-sel: selendang (Rp 25.000) on loom-1 and loom-2 from 07:00; loom-2 leaves it at 12:30.
        _ = try book.create(
            OrderRequest(id: "o-sel", product: "selendang-ikat", wanted: 100, due: "2026-11-30", looms: ["loom-1", "loom-2"]),
            now: at("2026-11-23T07:00:00"))
        // o-own: sarung at the order's own rate, Rp 30.001, on loom-3.
        _ = try book.create(
            OrderRequest(id: "o-own", product: "sarung-ikat", wanted: 10, due: "2026-11-30", looms: ["loom-3"], rate: 30001),
            now: at("2026-11-23T07:00:00"))
        _ = try book.change("o-sel", OrderChange(removeLooms: ["loom-2"]), now: at("2026-11-23T12:30:00"))
        // loom-1 (c-1): 1 an hour 07–11 and 13–15: 8 pieces, all o-sel's.
        try f.pieces(day: monday, hours: [7, 8, 9, 10, 11, 13, 14, 15], "loom-1", "c-1", each: 1)
        // loom-2 (c-2): 07–11 (5) and 12:00 (1; that hour began before it left) are o-sel's; 13–15 (3) on no order.
        try f.pieces(day: monday, hours: [7, 8, 9, 10, 11, 12, 13, 14, 15], "loom-2", "c-2", each: 1)
        // loom-3 (c-3): 4.5 pieces for o-own.
        try f.pieces(day: monday, hours: [8, 9, 10], "loom-3", "c-3", each: 1.5)
        // A Sunday rolled up into a daily row (no loom): 2 pieces for c-1 at the default product.
        try f.daily("2026-11-22", craftsman: "c-1", pieces: 2)
        // c-1's own meters: 2.5 kWh and 1,500 L.
        try f.meter("2026-11-23T09:00:00", craftsman: "c-1", kwh: 2.5, litres: 1500)

        let pay = try book.pay(from: "2026-11-22", to: monday)
        let byID = Dictionary(uniqueKeysWithValues: pay.craftsmen.map { ($0.craftsman, $0) })
        let c1 = try #require(byID["c-1"])
        // 8 × 25.000 = 200.000 (o-sel) and 2 × 55.000 = 110.000 (no order).
        #expect(lines(c1) == [["sarung-ikat", "", "2", "55000", "110000"], ["selendang-ikat", "o-sel", "8", "25000", "200000"]])
        #expect(c1.pieces == 10 && c1.amount == 310_000)
        // 2.5 kWh × 1.444,70 = 3.611,75 → 3.612; 1,5 m³ × 7.500 = 11.250.
        #expect(c1.kwh == 2.5 && c1.energyCost == 3612 && c1.waterL == 1500 && c1.waterCost == 11250)
        let c2 = try #require(byID["c-2"])
        // 6 × 25.000 = 150.000 (o-sel) and 3 × 55.000 = 165.000 (after it left).
        #expect(lines(c2) == [["sarung-ikat", "", "3", "55000", "165000"], ["selendang-ikat", "o-sel", "6", "25000", "150000"]])
        #expect(c2.amount == 315_000 && c2.energyCost == 0 && c2.waterCost == 0)
        let c3 = try #require(byID["c-3"])
        // 4,5 × 30.001 = 135.004,5 → 135.005 (half away from zero).
        #expect(lines(c3) == [["sarung-ikat", "o-own", "4.5", "30001", "135005"]])
        #expect(pay.totalPieces == 23.5 && pay.totalAmount == 310_000 + 315_000 + 135_005)
        #expect(pay.currency == "IDR" && pay.rounding == "half_away_from_zero")
        // The pay's pieces equal the production report's for the same days.
        let report = try f.store.report(registry: f.registry, calendar: ShiftWalkTests.calendar, from: "2026-11-22", to: monday)
        #expect(Dictionary(uniqueKeysWithValues: report.craftsmen.map { ($0.craftsman, $0.pieces) }) == byID.mapValues(\.pieces))
    }

    func lines(_ c: PayDocument.PayCraftsman) -> [[String]] {
        c.lines.map {
            [
                $0.product, $0.order ?? "", "\($0.pieces == $0.pieces.rounded() ? String(Int($0.pieces)) : String($0.pieces))",
                String($0.rate), String($0.amount),
            ]
        }
    }

    @Test func aBadRangeNamesItsField() throws {
        let book = try Fixture().book()
        #expect(throws: CoopError.self) { try book.pay(from: "2026-11-30", to: "2026-11-01") }
        do {
            _ = try book.pay(from: "2026-13-01", to: "2026-12-01")
            Issue.record("a month 13 was accepted")
        } catch let CoopError.invalid(field, message) {
            #expect(field == "from" && message.contains("2026-13-01"))
        }
    }

    @Test func roundingIsHalfAwayFromZero() {
        #expect(CoopBook.roundHalfAway(2.5) == 3)
        #expect(CoopBook.roundHalfAway(-2.5) == -3)
        #expect(CoopBook.roundHalfAway(2.4999) == 2)
    }
}

/// `products:` and `pay:` in the configuration: read as written, every mistake named by file, line and key.
@Suite struct PayConfigurationTests {
    /// The example configuration without its own products and pay, then `tail`.
    func parse(_ tail: String) throws -> Configuration {
        let text = try String(contentsOfFile: exampleConfigPath, encoding: .utf8)
        let head = text.range(of: "\n# What the sentra weaves").map { String(text[..<$0.lowerBound]) } ?? text
        return try Configuration.parse(yaml: head + "\n" + tail, file: "test.yaml")
    }

    func errors(_ tail: String) -> [ConfigurationError] {
        do {
            _ = try parse(tail)
            return []
        } catch let e as ConfigurationErrors {
            return e.errors
        } catch {
            return [ConfigurationError(file: "", line: 0, key: "-", message: "\(error)")]
        }
    }

    @Test func theExampleReadsAsWritten() throws {
        let c = try Configuration.load(path: exampleConfigPath)
        #expect(c.pay.products.map(\.id) == ["sarung-ikat", "selendang-ikat", "kain-panjang"])
        #expect(c.pay.products.allSatisfy { $0.rate > 0 })
        #expect(c.pay.defaultProduct == "sarung-ikat")
        #expect(c.pay.kwhTariff == 1444.70 && c.pay.waterTariffPerM3 == 7500)
    }

    @Test func mistakesAreNamedByLineAndKey() throws {
        let tail = """
            products:
              - { id: sarung-ikat, name: Sarung, rate: 55000 }
              - { id: selendang-ikat, name: Selendang, rate: 12.5 }
              - { id: sarung-ikat, name: Lagi, rate: 1 }
              - { id: Kain Panjang, name: Kain, rate: 70000 }
              - { id: kain-2, name: Kain, rate: 0 }
            pay:
              default_product: songket
              tariffs: { kwh: -1 }
            """
        let text = try String(contentsOfFile: exampleConfigPath, encoding: .utf8)
        let base = (text.range(of: "\n# What the sentra weaves").map { String(text[..<$0.lowerBound]) } ?? text)
            .split(separator: "\n", omittingEmptySubsequences: false).count
        let found = errors(tail).map { "\($0.line - base): \($0.key)" }
        #expect(
            found == [
                "3: products[1].rate", "4: products[2].id", "5: products[3].id", "6: products[4].rate", "8: pay.default_product",
                "9: pay.tariffs.kwh",
            ], "\(errors(tail))")
        #expect(errors(tail).allSatisfy { $0.file == "test.yaml" })
    }

    @Test func noProductsNoPay() throws {
        let c = try parse("")
        #expect(c.pay == PaySettings())
    }
}
