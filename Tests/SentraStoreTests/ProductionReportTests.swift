import Foundation
import SentraTestSupport
import Testing

@testable import SentraCore
@testable import SentraStore

/// Pipeline → real SQLite file → report, in virtual time.
@Suite struct ProductionReportTests {
    /// 2026-11-24T00:00:00+07:00.
    static let midnight: Int64 = 1_795_453_200_000
    let calendar = LocalCalendar(identifier: "Asia/Jakarta")!

    func tempStore() throws -> ProductionStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-test-\(UUID().uuidString)")
        return try ProductionStore(path: dir.appendingPathComponent("sentra.sqlite").path)
    }

    func commit(_ h: inout PipelineHarness, _ store: ProductionStore) throws {
        let devices = h.pipeline.dirty.map { (h.pipeline.registry.devices[$0].key, h.pipeline.devices[$0]) }
        try store.commit(.init(deltas: h.pipeline.deltas, devices: devices), registry: h.pipeline.registry, calendar: calendar)
        h.pipeline.deltas.removeAll()
        h.pipeline.markClean()
    }

    /// The days a craftsman's usual is the median of: his last working days (days he made
    /// anything) before the date, newest first, 24 local hours each.
    @Test func workingDaysAreTheLastDaysHeMadeAnything() throws {
        var h = PipelineHarness()
        let m = Self.midnight
        let hour: Int64 = 3_600_000
        h.now = m + 5 * 86_400_000
        h.send(#"{"ts":\#(m - 86_400_000 + 8 * hour),"pieces":10}"#)
        var pieces = 10
        // Nov 24, 25, (none on 26), 27, 28: at 09:xx one piece, on the 28th also one at 14:xx.
        for (d, extra) in [(0, 0), (1, 0), (3, 0), (4, 1)] {
            pieces += 1
            h.send(#"{"ts":\#(m + Int64(d) * 86_400_000 + 9 * hour),"pieces":\#(pieces)}"#)
            if extra > 0 {
                pieces += 1
                h.send(#"{"ts":\#(m + Int64(d) * 86_400_000 + 14 * hour),"pieces":\#(pieces)}"#)
            }
        }
        let store = try tempStore()
        try commit(&h, store)
        let offset: Int64 = 7 * 3600
        let days = try store.workingDayHours(before: "2026-11-29", days: 3, utcOffset: offset)["c-a"] ?? []
        #expect(days.count == 3)
        #expect(days.map { $0.reduce(0, +) } == [2, 1, 1])  // the 28th, 27th, 25th
        #expect(days[0][9] == 1 && days[0][14] == 1)
        #expect(days[1][9] == 1)
        let one = try store.workingDayHours(craftsman: "c-b", before: "2026-11-29", days: 3, utcOffset: offset)
        #expect(one.isEmpty)
        #expect(try store.workingDayHours(before: "2026-11-25", days: 14, utcOffset: offset)["c-a"]?.count == 1)
    }

    /// The first and last days the date format can name are refused as outside the years a
    /// report covers, not a trap; taken as the clock's day, they give an empty report.
    @Test func theEdgesOfTheCalendarAreRefusedAndNeverTrap() throws {
        let store = try tempStore()
        let registry = PipelineHarness.registry()
        for day in ["9999-12-31", "0000-01-01"] {
            #expect(throws: ReportError.outsideYears(.from, day)) {
                try store.report(registry: registry, calendar: calendar, from: day, to: day)
            }
            let r = try store.report(registry: registry, calendar: calendar, days: #require(DayRange(clockDay: day)))
            #expect(r.document(by: .craftsman).craftsmen.allSatisfy { $0.pieces == 0 && $0.picks == 0 }, "\(day)")
        }
    }

    @Test func midnightIsTheSentrasMidnight() throws {
        #expect(LocalCalendar.civilDate(daysSinceEpoch: 20_000) == "2024-10-04")
        var cal = calendar
        #expect(cal.date(atMillis: Self.midnight) == "2026-11-24")
        #expect(cal.date(atMillis: Self.midnight - 1) == "2026-11-23")
        var h = PipelineHarness()
        h.now = Self.midnight + 86_400_000
        let m = Self.midnight
        h.send(#"{"ts":\#(m - 20_000),"picks":100,"pieces":1}"#)
        h.send(#"{"ts":\#(m - 10_000),"picks":110,"pieces":1}"#)
        h.send(#"{"ts":\#(m + 10_000),"picks":130,"pieces":2}"#)
        let store = try tempStore()
        try commit(&h, store)
        let before = try store.report(registry: h.pipeline.registry, calendar: calendar, from: "2026-11-23", to: "2026-11-23")
        let after = try store.report(registry: h.pipeline.registry, calendar: calendar, from: "2026-11-24", to: "2026-11-24")
        #expect(before.craftsmen[0].picks == 10)
        #expect(after.craftsmen[0].picks == 20)
        #expect(after.craftsmen[0].pieces == 1)
        let both = try store.report(registry: h.pipeline.registry, calendar: calendar, from: "2026-11-23", to: "2026-11-24")
        #expect(both.craftsmen[0].picks == 30)
    }

    @Test func reassignmentMidDayKeepsEarlierProductionWithTheEarlierCraftsman() throws {
        let noon = Self.midnight + 12 * 3_600_000
        let registry = PipelineHarness.registry(looms: [
            ("loom-1", "ws-1", [Assignment(craftsman: "c-a", since: .min), Assignment(craftsman: "c-b", since: noon)])
        ])
        var h = PipelineHarness(registry: registry)
        h.now = Self.midnight + 86_400_000
        h.send(#"{"ts":\#(noon - 3_600_000),"picks":0,"run_s":0}"#)
        h.send(#"{"ts":\#(noon - 1000),"picks":400,"run_s":3500}"#)
        h.send(#"{"ts":\#(noon + 3_600_000),"picks":1000,"run_s":7000}"#)
        let store = try tempStore()
        try commit(&h, store)
        let r = try store.report(registry: registry, calendar: calendar, from: "2026-11-24", to: "2026-11-24")
        #expect(r.craftsmen.first { $0.craftsman == "c-a" }?.picks == 400)
        #expect(r.craftsmen.first { $0.craftsman == "c-b" }?.picks == 600)
        #expect(r.craftsmen.first { $0.craftsman == "c-a" }?.runSeconds == 3500)
        #expect(r.craftsmen.first { $0.craftsman == "c-b" }?.runSeconds == 3500)
    }

    @Test func aSharedMeterIsSplitByRunningTimePerHour() throws {
        let meter = Device(id: "pm-1", workshop: "ws-1", kind: .power, binding: .workshop)
        let own = Device(id: "pm-2", workshop: "ws-1", kind: .power, binding: .craftsman("c-b"))
        let registry = PipelineHarness.registry(
            looms: [
                ("loom-1", "ws-1", [Assignment(craftsman: "c-a", since: .min)]),
                ("loom-2", "ws-1", [Assignment(craftsman: "c-b", since: .min)]),
            ], meters: [meter, own])
        var h = PipelineHarness(registry: registry)
        h.now = Self.midnight + 86_400_000
        let h8 = Self.midnight + 8 * 3_600_000
        // Hour 08: loom-1 runs 30 min, loom-2 10 min; the meter uses 0.8 kWh.
        h.send(topic: "sentra/ws-1/loom/loom-1", #"{"ts":\#(h8),"run_s":0}"#)
        h.send(topic: "sentra/ws-1/loom/loom-2", #"{"ts":\#(h8),"run_s":0}"#)
        h.send(topic: "sentra/ws-1/power/pm-1", #"{"ts":\#(h8),"kwh":100.000,"v":221}"#)
        h.send(topic: "sentra/ws-1/power/pm-2", #"{"ts":\#(h8),"kwh":5.000}"#)
        h.send(topic: "sentra/ws-1/loom/loom-1", #"{"ts":\#(h8 + 3_000_000),"run_s":1800}"#)
        h.send(topic: "sentra/ws-1/loom/loom-2", #"{"ts":\#(h8 + 3_000_000),"run_s":600}"#)
        h.send(topic: "sentra/ws-1/power/pm-1", #"{"ts":\#(h8 + 3_000_000),"kwh":100.800,"v":221}"#)
        h.send(topic: "sentra/ws-1/power/pm-2", #"{"ts":\#(h8 + 3_000_000),"kwh":5.250}"#)
        // Hour 10: no loom runs; 0.1 kWh stays with the workshop.
        h.send(topic: "sentra/ws-1/power/pm-1", #"{"ts":\#(h8 + 2 * 3_600_000 + 60_000),"kwh":100.900,"v":221}"#)
        let store = try tempStore()
        try commit(&h, store)
        let r = try store.report(registry: registry, calendar: calendar, from: "2026-11-24", to: "2026-11-24")
        let a = try #require(r.craftsmen.first { $0.craftsman == "c-a" })
        let b = try #require(r.craftsmen.first { $0.craftsman == "c-b" })
        #expect(abs(a.kwh - 0.6) < 1e-9)
        #expect(abs(b.kwh - (0.2 + 0.25)) < 1e-9)
        #expect(r.unattributed.count == 1)
        #expect(abs((r.unattributed.first?.kwh ?? 0) - 0.1) < 1e-9)
        let json = r.json(by: .craftsman)
        #expect(json.contains(#""unattributed": ["#))
        #expect(json.contains(#""run_seconds": 1800"#))
    }

    @Test func baselinesSurviveARestart() throws {
        var h = PipelineHarness()
        h.now = Self.midnight + 86_400_000
        let t = Self.midnight + 9 * 3_600_000
        h.send(#"{"ts":\#(t),"picks":100,"seq":1}"#)
        h.send(#"{"ts":\#(t + 10_000),"picks":150,"seq":2}"#)
        let store = try tempStore()
        try commit(&h, store)
        // A new process: state from the database; readings in between were lost.
        var h2 = PipelineHarness()
        h2.now = h.now
        h2.pipeline = IngestPipeline(registry: h.pipeline.registry, calendar: calendar, devices: try store.loadDeviceStates())
        h2.send(#"{"ts":\#(t + 10_000),"picks":150,"seq":2}"#)
        h2.send(#"{"ts":\#(t + 60_000),"picks":400,"seq":9}"#)
        #expect(h2.pipeline.stats[.duplicate] == 1)
        try commit(&h2, store)
        let r = try store.report(registry: h.pipeline.registry, calendar: calendar, from: "2026-11-24", to: "2026-11-24")
        #expect(r.craftsmen[0].picks == 300)
    }

    @Test func hourlyRowsRollUpIntoDailyRows() throws {
        var h = PipelineHarness()
        h.now = Self.midnight + 86_400_000
        let t = Self.midnight + 9 * 3_600_000
        h.send(#"{"ts":\#(t),"picks":100,"pieces":0}"#)
        h.send(#"{"ts":\#(t + 60_000),"picks":160,"pieces":1}"#)
        let store = try tempStore()
        try commit(&h, store)
        let before = try store.report(registry: h.pipeline.registry, calendar: calendar, from: "2026-11-24", to: "2026-11-24")
        let pruned = try store.pruneHourly(
            olderThanDays: 1, registry: h.pipeline.registry, calendar: calendar, now: Self.midnight + 3 * 86_400_000)
        #expect(pruned == 1)
        let after = try store.report(registry: h.pipeline.registry, calendar: calendar, from: "2026-11-24", to: "2026-11-24")
        #expect(
            after.craftsmen
                == before.craftsmen.map {
                    var c = $0; c.utilisation = c.utilisation; return c
                })
        #expect(after.craftsmen[0].picks == 60)
    }
}
