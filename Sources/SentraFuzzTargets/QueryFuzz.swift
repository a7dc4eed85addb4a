import HummingbirdCore
import SentraCore
import SentraReadModel
import SentraStore

/// An HTTP request target (`/api/v1/production?from=2026-11-01&by=loom`) read as the API's
/// routes read it: Hummingbird's URI and query parsing, then the query items through
/// `APIQuery` (the one place the /api/v1 parameters are checked), and what it accepts checked
/// against the rules it promises: days in the years 2000 to 2199, ranges in order and at most
/// 366 days, `recent` within 0...1000, an id given is never empty.
enum QueryFuzz {
    static func fuzzOne(_ data: UnsafeRawBufferPointer) {
        let uri = URI(String(decoding: data, as: UTF8.self))
        validate(path: uri.path, query: uri.queryParameters)
    }

    static func validate(path: String, query: FlatDictionary<Substring, Substring>) {
        _ = path.split(separator: "/")
        let items = query.map { (name: String($0.key), value: String($0.value)) }
        if let p = try? APIQuery.production(items), let d = p.days { checkRange(d, max: DayRange.maxDaysOverHTTP) }
        if let u = try? APIQuery.usual(items) {
            if let d = u.day { checkRange(d, max: 1) }
            require(u.craftsman?.isEmpty != true, "an empty craftsman accepted")
        }
        if let s = try? APIQuery.sentra(items) { require(s.workshop?.isEmpty != true, "an empty workshop accepted") }
        if let a = try? APIQuery.alerts(items) { require((0...1000).contains(a.recent), "recent \(a.recent) accepted") }
        for name in ["date", "from", "to"] {
            for value in query[values: Substring(name)] { checkDate(String(value)) }
        }
    }

    /// An accepted range keeps the promises the API makes about it.
    static func checkRange(_ d: DayRange, max: Int) {
        require(d.firstDay <= d.lastDay && d.days <= max, "range \(d.from)..\(d.to) of \(d.days) days accepted")
        for day in [d.firstDay, d.lastDay] {
            let text = LocalCalendar.civilDate(daysSinceEpoch: day)
            require(DayRange.years.contains(Int64(text.prefix(4)) ?? 0), "day \(text) outside the years accepted")
        }
    }

    /// A date the calendar reads names one day: its day count writes back as the same text.
    static func checkDate(_ text: String) {
        guard let days = LocalCalendar.daysSinceEpoch(text) else { return }
        require(LocalCalendar.civilDate(daysSinceEpoch: days) == text, "\(text) read as day \(days)")
        _ = RFC3339.parse(text + "T00:00:00Z")
    }
}
