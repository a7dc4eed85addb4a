import SentraCore

/// What happened to readings, by reason: `readings` of `GET /api/v1/status`, and the body of
/// the committed `IngestStatsRecord`.
public struct ReadingCounts: Codable, Sendable, Equatable {
    public var accepted: UInt64
    public var rejectedTotal: UInt64
    /// Every rejection reason of docs/protocol.md by its name, zeros included.
    public var rejected: [String: UInt64]
    public var counterEvents: CounterEvents
    public var statusMessages: UInt64
    /// Messages of known devices that carried nothing mapped, and Home Assistant discovery
    /// messages: neither counted nor rejected. Absent in counts written before it was kept.
    public var ignored: UInt64

    public init(
        accepted: UInt64, rejectedTotal: UInt64, rejected: [String: UInt64], counterEvents: CounterEvents, statusMessages: UInt64,
        ignored: UInt64 = 0
    ) {
        self.ignored = ignored
        self.accepted = accepted
        self.rejectedTotal = rejectedTotal
        self.rejected = rejected
        self.counterEvents = counterEvents
        self.statusMessages = statusMessages
    }

    public init(_ s: IngestStats) {
        accepted = s.accepted
        rejectedTotal = s.totalRejected
        rejected = Dictionary(uniqueKeysWithValues: RejectReason.allCases.map { ($0.name, s[$0]) })
        counterEvents = CounterEvents(glitch: s.glitches, reset: s.resets)
        statusMessages = s.statusMessages
        ignored = s.ignored
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        accepted = try c.decode(UInt64.self, forKey: .accepted)
        rejectedTotal = try c.decode(UInt64.self, forKey: .rejectedTotal)
        rejected = try c.decode([String: UInt64].self, forKey: .rejected)
        counterEvents = try c.decode(CounterEvents.self, forKey: .counterEvents)
        statusMessages = try c.decode(UInt64.self, forKey: .statusMessages)
        ignored = try c.decodeIfPresent(UInt64.self, forKey: .ignored) ?? 0
    }

    /// Counter values not counted as production.
    public struct CounterEvents: Codable, Sendable, Equatable {
        public var glitch: UInt64
        public var reset: UInt64
        public init(glitch: UInt64, reset: UInt64) {
            self.glitch = glitch
            self.reset = reset
        }
    }

    enum CodingKeys: String, CodingKey {
        case accepted, rejected, ignored
        case rejectedTotal = "rejected_total"
        case counterEvents = "counter_events"
        case statusMessages = "status_messages"
    }
}

/// The ingest counts each commit stores in the state database (`meta.ingest_stats`) and
/// `sentractl status --json` prints: this run's `ReadingCounts`, since when, as of when.
public struct IngestStatsRecord: Codable, Sendable, Equatable {
    /// When this run of the daemon started, ms since the epoch.
    public var sinceMs: Int64
    /// When these counts were committed, ms since the epoch.
    public var updatedMs: Int64
    public var counts: ReadingCounts

    public init(sinceMs: Int64, updatedMs: Int64, counts: ReadingCounts) {
        self.sinceMs = sinceMs
        self.updatedMs = updatedMs
        self.counts = counts
    }

    enum CodingKeys: String, CodingKey {
        case sinceMs = "since_ms"
        case updatedMs = "updated_ms"
    }

    /// One flat object: the counts' fields beside `since_ms` and `updated_ms`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sinceMs = try c.decode(Int64.self, forKey: .sinceMs)
        updatedMs = try c.decode(Int64.self, forKey: .updatedMs)
        counts = try ReadingCounts(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try counts.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sinceMs, forKey: .sinceMs)
        try c.encode(updatedMs, forKey: .updatedMs)
    }
}
