import SentraAlerts

/// An in-memory `UsualRateProvider` a test double: record hourly pieces, get medians.
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
        return UsualRates.median(dates.map { byDate[$0]?[hourOfDay] ?? 0 })
    }
}
