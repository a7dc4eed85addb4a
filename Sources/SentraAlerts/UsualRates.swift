import SentraWire
/// A craftsman's usual production, for `below_usual` rules. The daemon implements it over
/// its hourly store; it is asked once per craftsman and in-shift hour, on the ingest thread.
public protocol UsualRateProvider: AnyObject {
    /// The median of the pieces made in local hour `hourOfDay` over the last `days` working
    /// days before local date `beforeDate` (`YYYY-MM-DD`); nil when there is no history.
    /// `weekday` (ISO, 1 = Monday) is the evaluated hour's, for providers that compare like days.
    func usualPiecesPerHour(craftsman: String, hourOfDay: Int, weekday: Int, beforeDate: String, days: Int) -> Double?
}

/// An in-memory `UsualRateProvider` for tests and tools: record hourly pieces, get medians.
public final class InMemoryUsualRates: UsualRateProvider {
    /// craftsman → date → hour of day → pieces.
    private var history: [String: [String: [Int: Double]]] = [:]

    public init() {}

    /// Records that `craftsman` made `pieces` in local hour `hourOfDay` of `date`; the date
    /// becomes one of his working days.
    public func record(craftsman: String, date: String, hourOfDay: Int, pieces: Double) {
        history[craftsman, default: [:]][date, default: [:]][hourOfDay, default: 0] += pieces
    }

    public func usualPiecesPerHour(craftsman: String, hourOfDay: Int, weekday: Int, beforeDate: String, days: Int) -> Double? {
        guard let byDate = history[craftsman] else { return nil }
        let dates = byDate.keys.filter { $0 < beforeDate }.sorted(by: >).prefix(days)
        guard !dates.isEmpty else { return nil }
        return Self.median(dates.map { byDate[$0]?[hourOfDay] ?? 0 })
    }

    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
