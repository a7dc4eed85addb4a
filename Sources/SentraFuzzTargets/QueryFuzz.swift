import HummingbirdCore
import SentraCore

/// An HTTP request target (`/api/v1/production?from=2026-11-01&by=loom`) read as the API's
/// routes read their parameters (Sources/SentraHTTP/HTTPServer.swift): Hummingbird's URI and
/// query parsing, then each parameter checked as the handlers check it, the dates as reports
/// read them (`LocalCalendar`).
///
/// The checks live in `validate`, one call in `fuzzOne`: when the HTTP side has one public
/// function that validates an /api/v1 query, call it there instead.
enum QueryFuzz {
    nonisolated(unsafe) static var calendar = LocalCalendar(identifier: "Asia/Jakarta")

    static func fuzzOne(_ data: UnsafeRawBufferPointer) {
        let uri = URI(String(decoding: data, as: UTF8.self))
        validate(path: uri.path, query: uri.queryParameters)
    }

    /// What the /api/v1 handlers do with a query today: `recent` an integer clamped to
    /// 0...1000, `by` a grouping, `date`/`from`/`to` local dates.
    static func validate(path: String, query: FlatDictionary<Substring, Substring>) {
        _ = path.split(separator: "/")
        if let recent = query["recent"].flatMap({ Int($0) }) { _ = min(max(recent, 0), 1000) }
        if let by = query["by"] { _ = ["craftsman", "loom", "workshop"].contains(String(by)) }
        for name in ["date", "from", "to"] {
            for value in query[values: Substring(name)] { checkDate(String(value)) }
        }
    }

    /// A date the API accepts names one day: its day count writes back as the same text,
    /// and the day has a first millisecond in the sentra's time zone.
    static func checkDate(_ text: String) {
        guard let days = LocalCalendar.daysSinceEpoch(text) else { return }
        require(LocalCalendar.civilDate(daysSinceEpoch: days) == text, "\(text) read as day \(days)")
        guard calendar != nil else { fatalError("no Asia/Jakarta time zone") }
        let start = calendar!.startOfDay(daysSinceEpoch: days)
        _ = calendar!.date(atMillis: start)
        _ = RFC3339.parse(text + "T00:00:00Z")
    }
}
