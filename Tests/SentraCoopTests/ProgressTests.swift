import SentraCore
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraCoop
@testable import SentraStore

/// Progress, pace, ETA and `behind` of orders over hand-built hourly rows in a real SQLite file.
@Suite struct ProgressTests {
    static let morning = [7, 8, 9, 10, 11]
    static let afternoon = [13, 14, 15]

    @Test func etaFromTheLastEightShiftHours() throws {
        let f = try Fixture()
        let book = f.book()
        _ = try book.create(
            OrderRequest(id: "o-a", product: "selendang-ikat", wanted: 55, due: "2026-11-25", looms: ["loom-1", "loom-2"]),
            now: at("2026-11-23T07:00:00"))
        // Monday: 1 piece an hour on each loom for the 8 shift hours (16); Tuesday 07–10: 3 an hour each (18).
        for (loom, c) in [("loom-1", "c-1"), ("loom-2", "c-2")] {
            try f.pieces(day: "2026-11-23", hours: Self.morning + Self.afternoon, loom, c, each: 1)
            try f.pieces(day: "2026-11-24", hours: [7, 8, 9], loom, c, each: 3)
        }
        // Another loom's pieces are not the order's.
        try f.pieces(day: "2026-11-23", hours: [9], "loom-3", "c-3", each: 5)
        let o = try book.order("o-a", now: at("2026-11-24T10:00:00"))
        #expect(o.made == 34)
        #expect(o.left == 21)
        // The last 8 shift hours before Tuesday 10:00: Tuesday 07–10 (3), Monday 13–16 (3) and
        // 10–12 (2). Pieces: Monday 10, 11, 13, 14, 15 on 2 looms (10) + Tuesday (18) = 28 → 3.5 an hour.
        #expect(o.ratePerShiftHour == 3.5)
        // 21 left at 3.5 an hour = 6 shift hours: Tuesday 10–12 (2), 13–16 (3), Wednesday 07–08 (1).
        #expect(o.eta == "2026-11-25T08:00:00+07:00")
        #expect(!o.behind)
        #expect(o.shares.map(\.made) == [17, 17])
        // Due a day earlier, the same ETA is late.
        _ = try book.change("o-a", OrderChange(due: "2026-11-24"), now: at("2026-11-24T10:00:00"))
        #expect(try book.order("o-a", now: at("2026-11-24T10:00:00")).behind)
        let forecast = try #require(try book.forecasts(now: at("2026-11-24T10:00:00")).first)
        #expect(
            forecast
                == OrderForecast(
                    id: "o-a", workshop: "ws-1", left: 21, etaMillis: at("2026-11-25T08:00:00"), due: "2026-11-24",
                    dueEndMillis: at("2026-11-25T00:00:00"), behind: true))
    }

    @Test func aYoungOrderIsPacedOverItsOwnHours() throws {
        let f = try Fixture()
        let book = f.book()
        // Joined at 10:20: the hour from 10:00 counts, the one before does not.
        _ = try book.create(
            OrderRequest(id: "o-b", product: "sarung-ikat", wanted: 10, due: "2026-11-30", looms: ["loom-1"]),
            now: at("2026-11-23T10:20:00"))
        try f.pieces("2026-11-23T09:00:00", "loom-1", "c-1", 4)
        try f.pieces("2026-11-23T10:00:00", "loom-1", "c-1", 2)
        try f.pieces("2026-11-23T11:00:00", "loom-1", "c-1", 1)
        let o = try book.order("o-b", now: at("2026-11-23T12:00:00"))
        #expect(o.made == 3)
        // Two shift hours since 10:00, 3 pieces: 1.5 an hour; 7 left = 4 h 40 min: 13:00–16:00 (3), Tuesday 07:00 + 1 h 40 min.
        #expect(o.ratePerShiftHour == 1.5)
        #expect(o.eta == "2026-11-24T08:40:00+07:00")
        #expect(!o.behind)
    }

    @Test func noPaceIsBehindOnlyAfterAShiftHour() throws {
        let f = try Fixture()
        let book = f.book()
        _ = try book.create(
            OrderRequest(id: "o-c", product: "sarung-ikat", wanted: 10, due: "2026-11-30", looms: ["loom-1"]),
            now: at("2026-11-23T07:00:00"))
        let early = try book.order("o-c", now: at("2026-11-23T07:30:00"))
        #expect(early.eta == nil && !early.behind)
        let later = try book.order("o-c", now: at("2026-11-23T08:30:00"))
        #expect(later.eta == nil && later.behind && later.ratePerShiftHour == 0)
        // Taken at 10:50: still not behind at 11:45 (55 shift minutes), behind at 11:51.
        _ = try book.create(
            OrderRequest(id: "o-d", product: "sarung-ikat", wanted: 10, due: "2026-11-30", looms: ["loom-2"]),
            now: at("2026-11-23T10:50:00"))
        #expect(try !book.order("o-d", now: at("2026-11-23T11:45:00")).behind)
        #expect(try book.order("o-d", now: at("2026-11-23T11:51:00")).behind)
        // Past the due date with pieces left: behind.
        try f.pieces(day: "2026-11-23", hours: [8], "loom-1", "c-1", each: 1)
        #expect(try book.order("o-c", now: at("2026-12-01T08:00:00")).behind)
        // Done: not behind, no ETA.
        try f.pieces(day: "2026-11-24", hours: [8], "loom-1", "c-1", each: 9)
        let done = try book.order("o-c", now: at("2026-12-01T08:00:00"))
        #expect(done.left == 0 && !done.behind && done.eta == nil)
    }

    @Test func aLoomMovedToAnotherOrderCountsThereFromThatHour() throws {
        let f = try Fixture()
        let book = f.book()
        _ = try book.create(
            OrderRequest(id: "o-1", product: "sarung-ikat", wanted: 100, due: "2026-11-30", looms: ["loom-1", "loom-2"]),
            now: at("2026-11-23T07:00:00"))
        try f.pieces(day: "2026-11-23", hours: Self.morning + Self.afternoon, "loom-1", "c-1", each: 1)
        // loom-1 joins o-2 at 10:30: the 10:00 hour and after are o-2's; 07–09 stay o-1's.
        _ = try book.create(
            OrderRequest(id: "o-2", product: "selendang-ikat", wanted: 5, due: "2026-11-30", looms: ["loom-1"]),
            now: at("2026-11-23T10:30:00"))
        let now = at("2026-11-23T16:00:00")
        #expect(try book.order("o-1", now: now).made == 3)
        #expect(try book.order("o-2", now: now).made == 5)
        #expect(try book.order("o-1", now: now).looms.map(\.left) == ["2026-11-23T10:30:00+07:00", nil])
    }

    @Test func sharesFollowCapacityAndOverrides() throws {
        let f = try Fixture()
        let book = f.book()
        // History: c-1 made 16 a day on 3 working days, c-2 made 8, c-3 nothing.
        for day in ["2026-11-18", "2026-11-19", "2026-11-20"] {
            try f.pieces(day: day, hours: Self.morning + Self.afternoon, "loom-1", "c-1", each: 2)
            try f.pieces(day: day, hours: Self.morning + Self.afternoon, "loom-2", "c-2", each: 1)
        }
        // Monday 07:00 to the end of Tuesday: 16 shift hours each. Capacities 2 × 16 = 32 and 1 × 16 = 16; c-3 none.
        let o = try book.create(
            OrderRequest(id: "o-s", product: "sarung-ikat", wanted: 10, due: "2026-11-24", craftsmen: ["c-1", "c-2", "c-3"]),
            now: at("2026-11-23T07:00:00"))
        #expect(o.shares.map(\.craftsman) == ["c-1", "c-2", "c-3"])
        #expect(o.shares.map(\.usualPerShiftHour) == [2, 1, nil])
        #expect(o.shares.map(\.shiftHoursLeft) == [16, 16, 16])
        #expect(o.shares.map(\.capacity) == [32, 16, nil])
        // 10 × 32/48 = 6.67, 10 × 16/48 = 3.33: 6 and 3, the one left to the larger remainder (.67).
        #expect(o.shares.map(\.suggested) == [7, 3, 0])
        #expect(o.shares[0].reason.contains("32"))
        let changed = try book.change("o-s", OrderChange(shares: ["c-3": 2]), now: at("2026-11-23T07:00:00"))
        #expect(changed.shares.map(\.assigned) == [7, 3, 2])
        #expect(changed.shares.map(\.suggested) == [7, 3, 0])
        let id = try f.book(.id).order("o-s", now: at("2026-11-23T07:00:00"))
        #expect(id.shares[2].reason.contains("hari kerja"))
    }

    @Test func badRequestsNameTheField() throws {
        let book = try Fixture().book()
        let now = at("2026-11-23T07:00:00")
        func field(_ r: OrderRequest) -> String? {
            do {
                _ = try book.create(r, now: now)
                return nil
            } catch let CoopError.invalid(field, _) {
                return field
            } catch {
                return "\(error)"
            }
        }
        #expect(field(OrderRequest(product: "songket", wanted: 1, due: "2026-11-30", looms: ["loom-1"])) == "product")
        #expect(field(OrderRequest(product: "sarung-ikat", wanted: 0, due: "2026-11-30", looms: ["loom-1"])) == "wanted")
        #expect(field(OrderRequest(product: "sarung-ikat", wanted: 1, due: "2026-02-30", looms: ["loom-1"])) == "due")
        #expect(field(OrderRequest(product: "sarung-ikat", wanted: 1, due: "2026-11-22", looms: ["loom-1"])) == "due")
        // Past the ten years every read of the order would walk the shift calendar through.
        #expect(field(OrderRequest(product: "sarung-ikat", wanted: 1, due: "2199-12-31", looms: ["loom-1"])) == "due")
        #expect(field(OrderRequest(product: "sarung-ikat", wanted: 1, due: "2026-11-30", looms: ["loom-9"])) == "looms")
        #expect(field(OrderRequest(product: "sarung-ikat", wanted: 1, due: "2026-11-30")) == "looms")
        #expect(field(OrderRequest(product: "sarung-ikat", wanted: 1, due: "2026-11-30", craftsmen: ["c-9"])) == "craftsmen")
        #expect(field(OrderRequest(product: "sarung-ikat", wanted: 1, due: "2026-11-30", looms: ["loom-1"], rate: 0)) == "rate")
        #expect(field(OrderRequest(id: "Bad Id", product: "sarung-ikat", wanted: 1, due: "2026-11-30", looms: ["loom-1"])) == "id")
        #expect(field(OrderRequest(id: "o-1", product: "sarung-ikat", wanted: 1, due: "2026-11-30", looms: ["loom-1"])) == nil)
        #expect(field(OrderRequest(id: "o-1", product: "sarung-ikat", wanted: 1, due: "2026-11-30", looms: ["loom-1"])) == "id")
        #expect(throws: CoopError.notFound(what: "order", id: "o-9")) { try book.order("o-9", now: now) }
        // The next free number.
        #expect(
            try book.create(OrderRequest(product: "sarung-ikat", wanted: 1, due: "2026-11-30", looms: ["loom-2"]), now: now).id == "o-2")
    }

    @Test func readingHourlyPiecesSearchesThePrimaryKey() throws {
        let f = try Fixture()
        for looms in [nil, ["loom-1", "loom-2"]] {
            let plan = try f.store.loomHourPlan(looms: looms).joined(separator: "\n")
            #expect(plan.contains("SEARCH hourly USING PRIMARY KEY (hour>? AND hour<?)"), "\(plan)")
            #expect(!plan.contains("SCAN hourly"), "\(plan)")
        }
    }
}
