import SentraCore
import SentraLocale
import SentraStore
import SentraWire

/// An order's progress at `now`: what was made (in all, per craftsman), what is left, the pace,
/// the ETA and whether it is behind (docs/orders.md).
struct Progress {
    var made = 0.0
    var madeBy: [String: Double] = [:]
    var left = 0.0
    var ratePerShiftHour: Double?
    var eta: Int64?
    var dueEnd: Int64 = 0
    var behind = false
}

/// Builds order documents at one moment; a craftsman's usual pace is read once.
struct ProgressContext {
    let book: CoopBook
    let now: Int64
    var calendar: LocalCalendar
    /// Median pieces per working day, per craftsman (nil: not read; no entry: no history).
    var usualPerDay: [String: Double]?
    let withSplit: Bool

    init(book: CoopBook, now: Int64, withSplit: Bool = true) throws {
        self.book = book
        self.now = now
        calendar = book.calendar
        self.withSplit = withSplit
    }

    /// The end of local date `due` (ms): the start of the next day.
    mutating func dueEnd(_ due: String) -> Int64 {
        let d = LocalCalendar.daysSinceEpoch(due) ?? 0
        return calendar.startOfDay(daysSinceEpoch: d + 1)
    }

    // Long: made, pace, ETA and behind, each a few lines of the rule docs/orders.md states.
    mutating func progress(_ r: OrderRecord, _ m: Memberships) throws -> Progress {
        var p = Progress()
        p.dueEnd = dueEnd(r.due)
        let spans = m.spans(of: r.id)
        let end = r.closed ?? now
        let firstHour = spans.values.flatMap { $0 }.map(\.from).min()
        var rows: [LoomHourPieces] = []
        if let firstHour {
            rows = try book.store.loomHourPieces(
                looms: spans.keys.sorted(), fromHour: firstHour / 1000, toHour: calendar.hourStart(atMillis: end) + 3600)
        }
        let mine = rows.filter { row in spans[row.loom]?.contains { $0.contains(row.hour * 1000) } ?? false }
        for row in mine {
            p.made += row.pieces
            p.madeBy[row.craftsman, default: 0] += row.pieces
        }
        p.left = max(0, Double(r.wanted) - p.made)
        guard r.isOpen else { return p }
        var walk = ShiftWalk(schedules: schedules(r, m), calendar: calendar)
        let since = calendar.hourStart(atMillis: r.created) * 1000
        // Shift time since it was taken (for `behind` without a pace), to the ms.
        let elapsed = walk.hours(from: r.created, to: now)
        let start = calendar.hourStart(atMillis: walk.back(from: now, hours: CoopBook.paceHours, notBefore: since)) * 1000
        let window = walk.hours(from: start, to: now)
        if window > 0 {
            let recent = mine.filter { $0.hour * 1000 >= start }.reduce(0) { $0 + $1.pieces }
            p.ratePerShiftHour = recent / window
        }
        if p.left <= 0 { return p }
        // To the minute, rounded up.
        if let rate = p.ratePerShiftHour, rate > 0 { p.eta = walk.forward(from: now, hours: p.left / rate).map { ceilMinute($0) } }
        p.behind = now >= p.dueEnd || (p.eta.map { $0 > p.dueEnd } ?? (elapsed >= 1))
        return p
    }

    /// The schedules of the workshops of the order's looms (those on it now, else all it had).
    func schedules(_ r: OrderRecord, _ m: Memberships) -> [Schedule] {
        let records = m.records(of: r.id)
        let current = records.filter { $0.left == nil }
        var seen = Set<String>()
        return (current.isEmpty ? records : current).compactMap { book.registry.loom($0.loom)?.workshop }
            .filter { seen.insert($0).inserted }.compactMap { book.registry.workshop($0)?.shift }
    }

    mutating func document(_ r: OrderRecord, _ m: Memberships) throws -> OrderDocument {
        let p = try progress(r, m)
        let tz = calendar.timeZone
        let looms = m.records(of: r.id).map { l in
            OrderDocument.LoomDocument(
                loom: l.loom, workshop: book.registry.loom(l.loom)?.workshop ?? "",
                craftsman: book.registry.loom(l.loom)?.craftsman(at: min(now, l.left ?? now)) ?? "",
                joined: RFC3339.format(l.joined, timeZone: tz), left: l.left.map { RFC3339.format($0, timeZone: tz) })
        }
        let shares = try self.shares(r, m, progress: p)
        return OrderDocument(
            id: r.id, product: r.product, productName: book.pay.product(r.product)?.name ?? r.product, title: r.title, wanted: r.wanted,
            due: r.due, rate: book.rate(of: r), status: r.status, created: RFC3339.format(r.created, timeZone: tz),
            closed: r.closed.map { RFC3339.format($0, timeZone: tz) }, made: WireJSON.rounded(p.made), left: WireJSON.rounded(p.left),
            eta: p.eta.map { RFC3339.format($0, timeZone: tz) },
            ratePerShiftHour: p.ratePerShiftHour.map { WireJSON.rounded($0, decimals: 3) },
            behind: p.behind, looms: looms, shares: shares)
    }
}

/// `ms` rounded up to a whole minute.
func ceilMinute(_ ms: Int64) -> Int64 { -floorDiv(-ms, 60_000) * 60_000 }
