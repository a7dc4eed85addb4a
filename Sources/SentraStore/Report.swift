import Foundation
import GRDB
import SentraCore

/// Production over a range of local days (`sentractl report`, README.md).
public struct ProductionReport: Sendable, Equatable {
    public var from: String
    public var to: String
    public var craftsmen: [CraftsmanRow]
    public var unattributed: [UnattributedRow]
    public var looms: [LoomRow]
    public var workshops: [WorkshopRow]

    public struct CraftsmanRow: Sendable, Equatable {
        public var craftsman: String
        public var name: String
        public var workshop: String
        public var pieces: Double
        public var picks: Double
        public var runMillis: Double
        public var kwh: Double
        public var waterL: Double
        /// Running time over shift time of his looms, nil without shift time.
        public var utilisation: Double?
        public var runSeconds: Int { Int((runMillis / 1000).rounded()) }
        public var kwhPerPiece: Double? { pieces > 0 ? kwh / pieces : nil }
        public var litresPerPiece: Double? { pieces > 0 ? waterL / pieces : nil }
    }

    public struct UnattributedRow: Sendable, Equatable {
        public var workshop: String
        public var kwh: Double
        public var waterL: Double
    }

    public struct LoomRow: Sendable, Equatable {
        public var loom: String
        public var workshop: String
        public var craftsman: String
        public var pieces: Double
        public var picks: Double
        public var runMillis: Double
        public var stopMillis: Double
        public var faultMillis: Double
        public var stoppages: Double
        public var utilisation: Double?
    }

    public struct WorkshopRow: Sendable, Equatable {
        public var workshop: String
        public var pieces: Double
        public var picks: Double
        public var runMillis: Double
        public var kwh: Double
        public var waterL: Double
        public var voltageOutMillis: Double
        public var noPowerMillis: Double
    }
}

/// Which input named a day: `date` (one day), `from` or `to`. Over HTTP it is the query
/// parameter of that name, on the command line the option `--date`, `--from` or `--to`.
public enum DayField: String, Sendable, Equatable {
    case date, from, to
}

/// A day or a range of days that a person asked for and that cannot be reported.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not `YYYY-MM-DD`, or a day no calendar has (2026-02-30).
    case badDate(DayField, String)
    /// A real day, outside the years reports cover.
    case outsideYears(DayField, String)
    /// `from` after `to`.
    case reversed(from: String, to: String)
    /// More days than the caller allows.
    case tooLong(from: String, to: String, days: Int, maxDays: Int)

    /// The input to blame: the day's own field; `to` for a range that is reversed or too long.
    public var field: DayField {
        switch self {
        case .badDate(let f, _), .outsideYears(let f, _): f
        case .reversed, .tooLong: .to
        }
    }

    /// The sentence, with each input called `name(field)`: `to` over HTTP, `--to` in `sentractl`.
    public func message(naming name: (DayField) -> String) -> String {
        switch self {
        case .badDate(let f, let d):
            "\(name(f)) '\(d)' is not a date: expected YYYY-MM-DD, a day that exists"
        case .outsideYears(let f, let d):
            "\(name(f)) \(d) lies outside the years \(DayRange.years.lowerBound) to \(DayRange.years.upperBound)"
        case .reversed(let a, let b):
            "\(name(.from)) \(a) is after \(name(.to)) \(b)"
        case .tooLong(let a, let b, let days, let maxDays):
            "\(name(.from)) \(a) and \(name(.to)) \(b) span \(days) days; at most \(maxDays) are allowed"
        }
    }

    public var description: String { message { "--\($0.rawValue)" } }
}

/// Local days `from` through `to`, inclusive, checked: both exist, lie in the years 2000 to
/// 2199, `from` is not after `to`, and there are at most `maxDays` of them.
public struct DayRange: Sendable, Equatable {
    public let from: String
    public let to: String
    /// Days since 1970-01-01 of `from` and `to`.
    public let firstDay: Int64
    public let lastDay: Int64
    public var days: Int { Int(lastDay - firstDay) + 1 }

    /// The years a report may ask for.
    public static let years: ClosedRange<Int64> = 2000...2199
    /// The longest range `/api/v1/production` answers (a leap year).
    public static let maxDaysOverHTTP = 366
    /// The longest range `sentractl report` prints (ten years).
    public static let maxDaysOnCommandLine = 3660

    public init(from: String, to: String, maxDays: Int, fields: (from: DayField, to: DayField) = (.from, .to)) throws(ReportError) {
        firstDay = try Self.day(from, field: fields.from)
        lastDay = try Self.day(to, field: fields.to)
        self.from = from
        self.to = to
        guard firstDay <= lastDay else { throw .reversed(from: from, to: to) }
        guard lastDay - firstDay < Int64(maxDays) else {
            throw .tooLong(from: from, to: to, days: Int(lastDay - firstDay) + 1, maxDays: maxDays)
        }
    }

    /// One day, `field` naming it.
    public init(day: String, field: DayField = .date) throws(ReportError) {
        try self.init(from: day, to: day, maxDays: 1, fields: (field, field))
    }

    /// `day` alone, whatever its year: today by the clock, which no one asked for and which
    /// is answered even when the clock is wrong. Nil when `day` is not a date.
    public init?(clockDay day: String) {
        guard let n = LocalCalendar.daysSinceEpoch(day) else { return nil }
        (from, to, firstDay, lastDay) = (day, day, n, n)
    }

    /// Days since 1970-01-01 of `text`, a day that exists in the years reports cover.
    public static func day(_ text: String, field: DayField) throws(ReportError) -> Int64 {
        guard let days = LocalCalendar.daysSinceEpoch(text) else { throw .badDate(field, text) }
        // The form is YYYY-MM-DD with 4 digits of year, checked just above.
        guard let year = Int64(text.prefix(4)), years.contains(year) else { throw .outsideYears(field, text) }
        return days
    }
}

extension ProductionStore {
    /// Computes the report for local days `from` through `to`, inclusive: at most
    /// `DayRange.maxDaysOnCommandLine` days in the years 2000 to 2199 (else a `ReportError`).
    public func report(registry: Registry, calendar: LocalCalendar, from: String, to: String) throws -> ProductionReport {
        try report(registry: registry, calendar: calendar, days: DayRange(from: from, to: to, maxDays: DayRange.maxDaysOnCommandLine))
    }

    /// Computes the report for the local days of `range`.
    public func report(registry: Registry, calendar: LocalCalendar, days range: DayRange) throws -> ProductionReport {
        var calendar = calendar
        let (from, to, fromDays, toDays) = (range.from, range.to, range.firstDay, range.lastDay)
        let start = calendar.startOfDay(daysSinceEpoch: fromDays) / 1000
        // The day after `to` by its number, never by re-parsing a date.
        let end = calendar.startOfDay(daysSinceEpoch: toDays + 1) / 1000
        let (hourly, daily) = try pool.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT * FROM hourly WHERE hour >= ? AND hour < ?", arguments: [start, end]),
                try Row.fetchAll(db, sql: "SELECT * FROM daily WHERE day >= ? AND day <= ?", arguments: [from, to])
            )
        }
        var acc = Accumulator(registry: registry)
        for row in hourly { acc.add(hourly: row) }
        acc.split()
        for row in daily { acc.add(daily: row) }
        // Shift time: minutes of a working day once per workshop, then a cheap pass over the days.
        let perDay = Dictionary(registry.workshops.map { ($0.id, Self.minutesPerWorkingDay($0.shift)) }, uniquingKeysWith: { a, _ in a })
        var shiftMillis: [String: Double] = [:]
        for day in fromDays...toDays {
            let date = LocalCalendar.civilDate(daysSinceEpoch: day)
            // 1970-01-01 was a Thursday (ISO weekday 4).
            let weekday = Int(((day + 3) % 7 + 7) % 7) + 1
            for w in registry.workshops where w.shift.days.contains(weekday) && !w.shift.holidays.contains(date) {
                shiftMillis[w.id, default: 0] += Double(perDay[w.id] ?? 0) * 60_000
            }
        }
        return acc.report(from: from, to: to, shiftMillis: shiftMillis)
    }

    /// Scheduled minutes of a working day of `schedule` (hours less breaks).
    static func minutesPerWorkingDay(_ schedule: Schedule) -> Int {
        (0..<1440).filter { m in
            schedule.windows.contains { $0.contains(minute: m) } && !schedule.breaks.contains { $0.contains(minute: m) }
        }.count
    }

    /// Rolls hourly rows older than `days` into per-day, per-craftsman rows and deletes them.
    /// Daily rows are kept for ever; the split of shared meters is computed before the hours go.
    @discardableResult
    public func pruneHourly(olderThanDays days: Int, registry: Registry, calendar: LocalCalendar, now: Int64) throws -> Int {
        var calendar = calendar
        let today = calendar.date(atMillis: now)
        let cutoff = LocalCalendar.civilDate(daysSinceEpoch: LocalCalendar.daysSinceEpoch(today)! - Int64(days))
        let oldDays = try pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT day FROM hourly WHERE day < ? ORDER BY day", arguments: [cutoff])
        }
        for day in oldDays {
            try pool.write { db in
                var acc = Accumulator(registry: registry)
                for row in try Row.fetchAll(db, sql: "SELECT * FROM hourly WHERE day = ?", arguments: [day]) { acc.add(hourly: row) }
                acc.split()
                for (k, v) in acc.perCraftsmanWorkshop {
                    let (c, w) = (k.craftsman, k.workshop)
                    try db.execute(
                        sql: """
                            INSERT INTO daily (day, craftsman, workshop, pieces, picks, run_ms, kwh, water_l) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (day, craftsman, workshop) DO UPDATE SET pieces = pieces + excluded.pieces,
                            picks = picks + excluded.picks, run_ms = run_ms + excluded.run_ms, kwh = kwh + excluded.kwh,
                            water_l = water_l + excluded.water_l
                            """, arguments: [day, c, w, v.pieces, v.picks, v.runMillis, v.kwh, v.waterL])
                }
                try db.execute(sql: "DELETE FROM hourly WHERE day = ?", arguments: [day])
            }
        }
        return oldDays.count
    }
}

/// Sums hourly rows and splits workshop meters among craftsmen by running time per hour.
struct Accumulator {
    struct Sums {
        var pieces = 0.0, picks = 0.0, runMillis = 0.0, kwh = 0.0, waterL = 0.0
    }
    let registry: Registry
    /// (craftsman or '' for unattributed, workshop) → sums.
    var perCraftsmanWorkshop: [PairKey: Sums] = [:]
    var looms: [String: ProductionReport.LoomRow] = [:]
    var workshops: [String: ProductionReport.WorkshopRow] = [:]
    /// (hour, workshop) → craftsman → running ms, for the split.
    var running: [HourWorkshop: [String: Double]] = [:]
    /// (hour, workshop) → workshop-meter energy and water to split.
    var shared: [HourWorkshop: (kwh: Double, water: Double)] = [:]

    struct PairKey: Hashable {
        var craftsman: String
        var workshop: String
        init(_ c: String, _ w: String) {
            craftsman = c
            workshop = w
        }
    }
    struct HourWorkshop: Hashable {
        var hour: Int64
        var workshop: String
    }

    init(registry: Registry) { self.registry = registry }

    mutating func add(hourly row: Row) {
        let kind: String = row["kind"]
        let workshop: String = row["workshop"]
        let craftsman: String = row["craftsman"]
        let hour: Int64 = row["hour"]
        var w =
            workshops[workshop]
            ?? .init(workshop: workshop, pieces: 0, picks: 0, runMillis: 0, kwh: 0, waterL: 0, voltageOutMillis: 0, noPowerMillis: 0)
        if kind == DeviceKind.loom.rawValue {
            let pieces: Double = row["pieces"], picks: Double = row["picks"], run: Double = row["run_ms"]
            perCraftsmanWorkshop[PairKey(craftsman, workshop), default: Sums()].pieces += pieces
            perCraftsmanWorkshop[PairKey(craftsman, workshop), default: Sums()].picks += picks
            perCraftsmanWorkshop[PairKey(craftsman, workshop), default: Sums()].runMillis += run
            if run > 0 { running[HourWorkshop(hour: hour, workshop: workshop), default: [:]][craftsman, default: 0] += run }
            let loomID: String = row["loom"]
            var l =
                looms[loomID]
                ?? .init(
                    loom: loomID, workshop: workshop, craftsman: craftsman, pieces: 0, picks: 0, runMillis: 0, stopMillis: 0,
                    faultMillis: 0, stoppages: 0, utilisation: nil)
            l.pieces += pieces
            l.picks += picks
            l.runMillis += run
            l.stopMillis += row["stop_ms"]
            l.faultMillis += row["fault_ms"]
            l.stoppages += row["stoppages"]
            looms[loomID] = l
            w.pieces += pieces
            w.picks += picks
            w.runMillis += run
        } else {
            let kwh: Double = row["kwh"], water: Double = row["water_l"]
            if craftsman.isEmpty {
                let k = HourWorkshop(hour: hour, workshop: workshop)
                shared[k, default: (0, 0)].kwh += kwh
                shared[k, default: (0, 0)].water += water
            } else {
                perCraftsmanWorkshop[PairKey(craftsman, workshop), default: Sums()].kwh += kwh
                perCraftsmanWorkshop[PairKey(craftsman, workshop), default: Sums()].waterL += water
            }
            w.kwh += kwh
            w.waterL += water
            w.voltageOutMillis += row["v_out_ms"]
            w.noPowerMillis += row["no_power_ms"]
        }
        workshops[workshop] = w
    }

    /// docs/protocol.md: a workshop meter is split in proportion to running seconds in each hour.
    mutating func split() {
        for (k, amount) in shared {
            let run = running[k] ?? [:]
            let total = run.values.reduce(0, +)
            if total > 0 {
                for (c, ms) in run {
                    perCraftsmanWorkshop[PairKey(c, k.workshop), default: Sums()].kwh += amount.kwh * ms / total
                    perCraftsmanWorkshop[PairKey(c, k.workshop), default: Sums()].waterL += amount.water * ms / total
                }
            } else {
                perCraftsmanWorkshop[PairKey("", k.workshop), default: Sums()].kwh += amount.kwh
                perCraftsmanWorkshop[PairKey("", k.workshop), default: Sums()].waterL += amount.water
            }
        }
        shared.removeAll()
    }

    mutating func add(daily row: Row) {
        let k = PairKey(row["craftsman"], row["workshop"])
        perCraftsmanWorkshop[k, default: Sums()].pieces += row["pieces"]
        perCraftsmanWorkshop[k, default: Sums()].picks += row["picks"]
        perCraftsmanWorkshop[k, default: Sums()].runMillis += row["run_ms"]
        perCraftsmanWorkshop[k, default: Sums()].kwh += row["kwh"]
        perCraftsmanWorkshop[k, default: Sums()].waterL += row["water_l"]
    }

    func report(from: String, to: String, shiftMillis: [String: Double]) -> ProductionReport {
        var byCraftsman: [String: Sums] = [:]
        var unattributed: [String: Sums] = [:]
        for (k, v) in perCraftsmanWorkshop {
            if k.craftsman.isEmpty {
                unattributed[k.workshop, default: Sums()].kwh += v.kwh
                unattributed[k.workshop, default: Sums()].waterL += v.waterL
            } else {
                var s = byCraftsman[k.craftsman] ?? Sums()
                s.pieces += v.pieces
                s.picks += v.picks
                s.runMillis += v.runMillis
                s.kwh += v.kwh
                s.waterL += v.waterL
                byCraftsman[k.craftsman] = s
            }
        }
        let loomCount = Dictionary(grouping: registry.looms, by: \.currentCraftsman).mapValues(\.count)
        let craftsmen = registry.craftsmen.map { c in
            let s = byCraftsman[c.id] ?? Sums()
            let shift = (shiftMillis[c.workshop] ?? 0) * Double(loomCount[c.id] ?? 0)
            return ProductionReport.CraftsmanRow(
                craftsman: c.id, name: c.name, workshop: c.workshop, pieces: s.pieces, picks: s.picks, runMillis: s.runMillis,
                kwh: s.kwh, waterL: s.waterL, utilisation: shift > 0 ? s.runMillis / shift : nil)
        }
        // Craftsmen no longer configured still show, so no production disappears from a report.
        let known = Set(registry.craftsmen.map(\.id))
        let extra = byCraftsman.keys.filter { !known.contains($0) }.sorted().map { id in
            let s = byCraftsman[id]!
            return ProductionReport.CraftsmanRow(
                craftsman: id, name: id, workshop: "", pieces: s.pieces, picks: s.picks, runMillis: s.runMillis,
                kwh: s.kwh, waterL: s.waterL, utilisation: nil)
        }
        let un = registry.workshops.map(\.id).compactMap { w in
            unattributed[w].map { ProductionReport.UnattributedRow(workshop: w, kwh: $0.kwh, waterL: $0.waterL) }
        }
        var loomRows = registry.looms.map { l in
            looms[l.id]
                ?? .init(
                    loom: l.id, workshop: l.workshop, craftsman: l.currentCraftsman, pieces: 0, picks: 0, runMillis: 0, stopMillis: 0,
                    faultMillis: 0, stoppages: 0, utilisation: nil)
        }
        for i in loomRows.indices {
            let shift = shiftMillis[loomRows[i].workshop] ?? 0
            loomRows[i].utilisation = shift > 0 ? loomRows[i].runMillis / shift : nil
        }
        let workshopRows = registry.workshops.map { w in
            workshops[w.id]
                ?? .init(workshop: w.id, pieces: 0, picks: 0, runMillis: 0, kwh: 0, waterL: 0, voltageOutMillis: 0, noPowerMillis: 0)
        }
        return ProductionReport(
            from: from, to: to, craftsmen: craftsmen + extra, unattributed: un, looms: loomRows, workshops: workshopRows)
    }
}
