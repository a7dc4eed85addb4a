import SentraCore
import SentraLocale
import SentraStore
import SentraWire

extension ProgressContext {
    /// Each craftsman's median pieces per working day over his last `CoopBook.usualDays`
    /// working days before today (days he made anything), read once.
    mutating func usual() throws -> [String: Double] {
        if let usualPerDay { return usualPerDay }
        let days = try book.store.workingDayHours(
            before: calendar.date(atMillis: now), days: CoopBook.usualDays, utcOffset: calendar.offset(atMillis: now))
        let out = days.compactMapValues { Split.median($0.map { $0.reduce(0, +) }) }
        usualPerDay = out
        return out
    }

    /// One craftsman's numbers for the split.
    struct Capacity {
        var craftsman: Craftsman
        var usualPerShiftHour: Double?
        var hoursLeft: Double
        var capacity: Double? { usualPerShiftHour.map { $0 * hoursLeft } }
    }

    mutating func capacity(_ c: Craftsman, dueEnd: Int64) throws -> Capacity {
        let shift = book.registry.workshop(c.workshop)?.shift ?? Schedule.always
        var walk = ShiftWalk(schedules: [shift], calendar: calendar)
        let perDay = ShiftWalk.hoursPerWorkingDay(shift)
        let usual = try usual()[c.id].flatMap { perDay > 0 ? $0 / perDay : nil }
        return Capacity(craftsman: c, usualPerShiftHour: usual, hoursLeft: walk.hours(from: now, to: dueEnd))
    }

    /// The shares: the craftsmen of the looms on the order now, split by capacity, then anyone
    /// else with an override or pieces made for it (suggested 0).
    mutating func shares(_ r: OrderRecord, _ m: Memberships, progress p: Progress) throws -> [ShareDocument] {
        guard withSplit else { return [] }
        let overrides = try book.store.orderShares(r.id)
        let onLooms = Set(m.records(of: r.id).filter { $0.left == nil }.compactMap { book.registry.loom($0.loom)?.craftsman(at: now) })
        let current = book.registry.craftsmen.filter { onLooms.contains($0.id) }
        let others = book.registry.craftsmen.filter {
            !onLooms.contains($0.id) && (overrides[$0.id] != nil || (p.madeBy[$0.id] ?? 0) > 0)
        }
        let caps = try current.map { try capacity($0, dueEnd: p.dueEnd) }
        let suggested = Split.largestRemainder(r.wanted, weights: caps.map { $0.capacity ?? 0 })
        let total = caps.reduce(0) { $0 + ($1.capacity ?? 0) }
        let anyHistory = caps.contains { $0.usualPerShiftHour != nil }
        var out: [ShareDocument] = []
        for (i, c) in caps.enumerated() {
            out.append(share(c, suggested: suggested[i], reason: reason(c, total: total, anyHistory: anyHistory), overrides, p))
        }
        for c in others {
            let cap = try capacity(c, dueEnd: p.dueEnd)
            out.append(share(cap, suggested: 0, reason: text("orders.reason.not_on_looms", [:]), overrides, p))
        }
        return out
    }

    func share(_ c: Capacity, suggested: Int, reason: String, _ overrides: [String: Int], _ p: Progress) -> ShareDocument {
        ShareDocument(
            craftsman: c.craftsman.id, name: c.craftsman.name, suggested: suggested, assigned: overrides[c.craftsman.id] ?? suggested,
            made: WireJSON.rounded(p.madeBy[c.craftsman.id] ?? 0),
            usualPerShiftHour: c.usualPerShiftHour.map { WireJSON.rounded($0, decimals: 3) },
            shiftHoursLeft: WireJSON.rounded(c.hoursLeft, decimals: 3), capacity: c.capacity.map { WireJSON.rounded($0, decimals: 1) },
            reason: reason)
    }

    /// Why the suggestion is what it is, in the book's language.
    func reason(_ c: Capacity, total: Double, anyHistory: Bool) -> String {
        let f = LocaleFormat(book.language)
        let hours = f.number(c.hoursLeft, fractionDigits: 1)
        guard total > 0 else {
            return text(anyHistory ? "orders.reason.equal_no_hours" : "orders.reason.equal_no_history", ["hours": hours])
        }
        guard let usual = c.usualPerShiftHour else { return text("orders.reason.no_history", ["days": String(CoopBook.usualDays)]) }
        let args = [
            "usual": f.number(usual, fractionDigits: 2), "hours": hours, "capacity": f.number(c.capacity ?? 0, fractionDigits: 1),
        ]
        return text((c.capacity ?? 0) > 0 ? "orders.reason.capacity" : "orders.reason.no_hours", args)
    }

    func text(_ key: String, _ args: [String: String]) -> String { Catalogue.of(book.language).text(key, args) }
}
