import SentraCore
import SentraStore

/// Which order each loom worked for in each local hour. A loom's time on an order counts the
/// hours whose start is at or after the start of the hour it joined and before the moment it
/// left; when it joined another order in the hour it left, that hour is the new order's (so an
/// hour's pieces count for one order only).
struct Memberships: Sendable {
    /// One loom's span on one order: hours starting in `[from, to)` (ms; `to` nil: still on it).
    struct Span: Sendable, Equatable {
        var order: String
        var from: Int64
        var to: Int64?
        func contains(_ hourMs: Int64) -> Bool { hourMs >= from && to.map { hourMs < $0 } ?? true }
    }

    let records: [OrderLoomRecord]
    /// Per loom, its spans by join time.
    let spans: [String: [Span]]

    init(_ records: [OrderLoomRecord], calendar: LocalCalendar) {
        var calendar = calendar
        self.records = records
        var out: [String: [Span]] = [:]
        for (loom, rs) in Dictionary(grouping: records, by: \.loom) {
            let sorted = rs.sorted { ($0.joined, $0.orderID) < ($1.joined, $1.orderID) }
            var list: [Span] = []
            for (i, r) in sorted.enumerated() {
                let from = calendar.hourStart(atMillis: r.joined) * 1000
                var to = r.left
                if i + 1 < sorted.count {
                    let next = calendar.hourStart(atMillis: sorted[i + 1].joined) * 1000
                    to = min(to ?? next, next)
                }
                list.append(Span(order: r.orderID, from: from, to: to))
            }
            out[loom] = list
        }
        spans = out
    }

    /// The order loom `loom` worked for in the hour starting at `hourMs`, if any (the latest join wins).
    func order(loom: String, hourMs: Int64) -> String? {
        spans[loom]?.last { $0.contains(hourMs) }?.order
    }

    /// Order `id`'s spans, by loom.
    func spans(of id: String) -> [String: [Span]] {
        spans.compactMapValues { list in
            let mine = list.filter { $0.order == id }
            return mine.isEmpty ? nil : mine
        }
    }

    /// Order `id`'s records (joins), by join time.
    func records(of id: String) -> [OrderLoomRecord] {
        records.filter { $0.orderID == id }.sorted { ($0.joined, $0.loom) < ($1.joined, $1.loom) }
    }
}
