import SentraAlerts

/// A craftsman's usual production, as the dashboard compares a day against it (docs/http.md,
/// `/api/v1/production/usual`): medians over his past working days, as `below_usual` takes them.
public struct CraftsmanUsual: Sendable, Equatable {
    /// The median of what he had made by this time of day, the started hour pro rata.
    public var soFar: Double?
    /// The median working day.
    public var day: Double?
    /// The median of each local hour, 24 of them.
    public var hours: [Double]?
    /// How many working days the medians come from.
    public var days: Int

    /// `workingDays`: his pieces per local hour (24 numbers) on each past working day;
    /// `hoursIntoDay`: how far into the day the comparison runs (24 for a past day).
    /// Without working days every median is nil.
    public init(workingDays past: [[Double]], hoursIntoDay: Double) {
        days = past.count
        guard !past.isEmpty else { return }
        soFar = UsualRates.median(past.map { Self.partialSum($0, upTo: hoursIntoDay) })
        day = UsualRates.median(past.map { $0.reduce(0, +) })
        hours = (0..<24).map { h in UsualRates.median(past.map { $0[h] }) ?? 0 }
    }

    /// Pieces of whole hours before `hours` plus the started hour pro rata.
    public static func partialSum(_ perHour: [Double], upTo hours: Double) -> Double {
        let whole = Int(hours.rounded(.down))
        var s = perHour.prefix(whole).reduce(0, +)
        if whole < perHour.count { s += perHour[whole] * (hours - Double(whole)) }
        return s
    }
}
