/// A craftsman's usual production, for `below_usual` rules. The daemon implements it over
/// its hourly store; it is asked once per craftsman and in-shift hour, on the ingest thread.
public protocol UsualRateProvider: AnyObject {
    /// The median of the pieces made in local hour `hourOfDay` over the last `days` working
    /// days before local date `beforeDate` (`YYYY-MM-DD`); nil when there is no history.
    /// `weekday` (ISO, 1 = Monday) is the evaluated hour's, for providers that compare like days.
    func usualPiecesPerHour(craftsman: String, hourOfDay: Int, weekday: Int, beforeDate: String, days: Int) -> Double?
}

/// The median of a craftsman's hours or days, as `below_usual` and the dashboard's "usual" use it.
public enum UsualRates {
    /// The median of `xs`; the mean of the two middle values for an even count; nil for none.
    public static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
