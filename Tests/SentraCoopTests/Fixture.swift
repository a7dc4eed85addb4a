import Foundation
import GRDB
import SentraCore
import SentraLocale
import SentraTestSupport

@testable import SentraCoop
@testable import SentraStore

/// A real state database in a temporary directory, one workshop working Monday to Saturday
/// 07:00–16:00 with a break 12:00–13:00, three craftsmen with a loom each, and hourly rows
/// written by hand.
struct Fixture {
    let store: ProductionStore
    let registry: Registry
    static let pay = PaySettings(
        products: [
            Product(id: "sarung-ikat", name: "Sarung tenun ikat", rate: 55000),
            Product(id: "selendang-ikat", name: "Selendang ikat", rate: 25000),
        ], defaultProduct: "sarung-ikat", kwhTariff: 1444.70, waterTariffPerM3: 7500)

    init(_ name: String = #function) throws {
        store = try ProductionStore(path: temporaryDirectory(name) + "/sentra.sqlite")
        registry = Registry(
            name: "test", workshops: [Workshop(id: "ws-1", name: "Satu", shift: ShiftWalkTests.weaving)],
            craftsmen: [
                Craftsman(id: "c-1", name: "Pak Satu", workshop: "ws-1"), Craftsman(id: "c-2", name: "Bu Dua", workshop: "ws-1"),
                Craftsman(id: "c-3", name: "Pak Tiga", workshop: "ws-1"),
            ],
            looms: [
                Loom(id: "loom-1", workshop: "ws-1", assignments: [Assignment(craftsman: "c-1", since: .min)]),
                Loom(id: "loom-2", workshop: "ws-1", assignments: [Assignment(craftsman: "c-2", since: .min)]),
                Loom(id: "loom-3", workshop: "ws-1", assignments: [Assignment(craftsman: "c-3", since: .min)]),
            ], devices: [])
    }

    func book(_ language: Language = .en) -> CoopBook {
        CoopBook(store: store, registry: registry, pay: Self.pay, calendar: ShiftWalkTests.calendar, language: language)
    }

    /// `pieces` made on `loom` by `craftsman` in the local hour starting at `local` (Jakarta).
    func pieces(_ local: String, _ loom: String, _ craftsman: String, _ pieces: Double) throws {
        let hour = at(local) / 1000
        try store.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO hourly (hour, day, device, kind, workshop, loom, craftsman, pieces)
                    VALUES (?, ?, ?, 'loom', 'ws-1', ?, ?, ?)
                    """, arguments: [hour, String(local.prefix(10)), "ws-1/loom/\(loom)", loom, craftsman, pieces])
        }
    }

    /// `pieces` per hour on `loom` for each of the local hours `hours` of `day`.
    func pieces(day: String, hours: [Int], _ loom: String, _ craftsman: String, each: Double) throws {
        for h in hours { try pieces("\(day)T\(h < 10 ? "0" : "")\(h):00:00", loom, craftsman, each) }
    }

    /// A craftsman's own meter: kWh and litres in one hour.
    func meter(_ local: String, craftsman: String, kwh: Double, litres: Double) throws {
        try store.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO hourly (hour, day, device, kind, workshop, loom, craftsman, kwh, water_l)
                    VALUES (?, ?, ?, 'power', 'ws-1', '', ?, ?, ?)
                    """, arguments: [at(local) / 1000, String(local.prefix(10)), "ws-1/power/pm-\(craftsman)", craftsman, kwh, litres])
        }
    }

    /// A daily roll-up row (no loom), as pruning leaves them.
    func daily(_ day: String, craftsman: String, pieces: Double) throws {
        try store.pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO daily (day, craftsman, workshop, pieces, picks, run_ms, kwh, water_l) VALUES (?, ?, 'ws-1', ?, 0, 0, 0, 0)",
                arguments: [day, craftsman, pieces])
        }
    }
}
