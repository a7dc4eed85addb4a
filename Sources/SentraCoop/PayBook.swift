import SentraCore
import SentraStore
import SentraWire

extension CoopBook {
    /// How the pay document rounds (its `rounding`).
    public static let payRounding = "half_away_from_zero"

    /// Piece-rate pay for local days `from` through `to`, inclusive (docs/pay.md): each hourly
    /// loom row's pieces at the rate of the order its loom was on in that hour (the order's
    /// own rate, else its product's), else at the default product's; daily roll-ups (no loom)
    /// at the default product's. At most `DayRange.maxDaysOnCommandLine` days.
    public func pay(from: String, to: String) throws -> PayDocument {
        let range: DayRange
        do {
            range = try DayRange(from: from, to: to, maxDays: DayRange.maxDaysOnCommandLine)
        } catch {
            throw CoopError.invalid(field: error.field.rawValue, message: error.message { $0.rawValue })
        }
        var cal = calendar
        let start = cal.startOfDay(daysSinceEpoch: range.firstDay) / 1000
        let end = cal.startOfDay(daysSinceEpoch: range.lastDay + 1) / 1000
        let memberships = Memberships(try store.orderLooms(), calendar: calendar)
        let orders = Dictionary(try store.coopOrders(includeClosed: true).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var lines = PayLines()
        for row in try store.loomHourPieces(fromHour: start, toHour: end) where !row.craftsman.isEmpty {
            let order = memberships.order(loom: row.loom, hourMs: row.hour * 1000).flatMap { orders[$0] }
            if let order {
                lines.add(row.craftsman, product: order.product, order: order.id, rate: rate(of: order), pieces: row.pieces)
            } else {
                lines.add(
                    row.craftsman, product: pay.fallbackProduct?.id ?? "", order: nil, rate: pay.fallbackProduct?.rate ?? 0,
                    pieces: row.pieces)
            }
        }
        for row in try store.dailyPieces(from: range.from, to: range.to) where !row.craftsman.isEmpty && row.pieces != 0 {
            lines.add(
                row.craftsman, product: pay.fallbackProduct?.id ?? "", order: nil, rate: pay.fallbackProduct?.rate ?? 0, pieces: row.pieces)
        }
        let report = try store.report(registry: registry, calendar: calendar, days: range)
        let craftsmen = report.craftsmen.map { row in sheet(row, lines: lines.lines[row.craftsman] ?? [:]) }
        return PayDocument(
            from: range.from, to: range.to, currency: "IDR", rounding: Self.payRounding, craftsmen: craftsmen,
            totalPieces: WireJSON.rounded(craftsmen.reduce(0) { $0 + $1.pieces }), totalAmount: craftsmen.reduce(0) { $0 + $1.amount })
    }

    /// One craftsman's sheet from his lines and his report row (energy and water).
    func sheet(_ row: ProductionReport.CraftsmanRow, lines: [PayLines.Key: Double]) -> PayDocument.PayCraftsman {
        // Hours with running time but no piece leave lines of 0 pieces: not shown.
        let sorted = lines.filter { $0.value != 0 }.sorted { a, b in
            (a.key.order ?? "", a.key.product, a.key.rate) < (b.key.order ?? "", b.key.product, b.key.rate)
        }
        let payLines = sorted.map { k, pieces in
            PayDocument.PayLine(
                product: k.product, productName: pay.product(k.product)?.name ?? k.product, order: k.order,
                pieces: WireJSON.rounded(pieces),
                rate: k.rate, amount: Self.roundHalfAway(pieces * Double(k.rate)))
        }
        return PayDocument.PayCraftsman(
            craftsman: row.craftsman, name: row.name, workshop: row.workshop, lines: payLines,
            pieces: WireJSON.rounded(lines.values.reduce(0, +)), amount: payLines.reduce(0) { $0 + $1.amount },
            kwh: WireJSON.rounded(row.kwh), energyCost: pay.kwhTariff.map { Self.roundHalfAway(row.kwh * $0) },
            waterL: WireJSON.rounded(row.waterL), waterCost: pay.waterTariffPerM3.map { Self.roundHalfAway(row.waterL / 1000 * $0) })
    }

    /// `x` to a whole number, halves away from zero.
    public static func roundHalfAway(_ x: Double) -> Int64 {
        guard x.isFinite, abs(x) < 9e18 else { return 0 }
        return Int64(x.rounded(.toNearestOrAwayFromZero))
    }
}

/// Pieces per craftsman and (product, order, rate).
struct PayLines {
    struct Key: Hashable {
        var product: String
        var order: String?
        var rate: Int64
    }
    var lines: [String: [Key: Double]] = [:]

    mutating func add(_ craftsman: String, product: String, order: String?, rate: Int64, pieces: Double) {
        lines[craftsman, default: [:]][Key(product: product, order: order, rate: rate), default: 0] += pieces
    }
}
