/// The range each numeric key of the configuration accepts (docs/configuration.md, "Limits").
/// A value outside it is an error naming the file, line and key; nothing in the daemon ever
/// sees it. Durations are in milliseconds.
public enum ConfigurationLimits {
    static let second: Int64 = 1000
    static let minute: Int64 = 60 * second
    static let hour: Int64 = 60 * minute
    static let day: Int64 = 24 * hour

    // MARK: Durations (ms)

    public static let maxAge: ClosedRange<Int64> = 0...3660 * day
    public static let maxFuture: ClosedRange<Int64> = 0...366 * day
    public static let staleness: ClosedRange<Int64> = 0...366 * day
    public static let commitInterval: ClosedRange<Int64> = 10...hour
    public static let reconnect: ClosedRange<Int64> = second...hour
    /// A rule's `for` and `keep_firing_for`.
    public static let ruleDuration: ClosedRange<Int64> = 0...366 * day
    public static let pluginTimeout: ClosedRange<Int64> = 10...hour

    // MARK: Integers

    public static let port: ClosedRange<Int> = 1...65535
    public static let keepAlive: ClosedRange<Int> = 5...3600
    public static let journalBytes: ClosedRange<Int> = 1 << 20...1 << 36
    public static let queueCapacity: ClosedRange<Int> = 16...10_000_000
    public static let maxObjectBytes: ClosedRange<Int> = 64...1 << 20
    public static let maxBatchBytes: ClosedRange<Int> = 64...16 << 20
    public static let hourlyRetentionDays: ClosedRange<Int> = 1...36_600
    public static let alertLogBytes: ClosedRange<Int> = 1024...1 << 40
    public static let usualDays: ClosedRange<Int> = 1...365

    // MARK: Numbers

    /// `voltage_low`, `voltage_high`, `no_power_below`, volts.
    public static let volts: ClosedRange<Double> = 0...1_000_000
    /// `plausible_per_minute` of any counter (and above 0).
    public static let perMinute: ClosedRange<Double> = 0...1e12
    /// A threshold rule's `below`, `above` and `resolve_at`.
    public static let threshold: ClosedRange<Double> = -1e15...1e15

    // MARK: Strings

    /// `broker.client_id`, in UTF-8 bytes (MQTT's string limit).
    public static let clientIDBytes = 65535
}
