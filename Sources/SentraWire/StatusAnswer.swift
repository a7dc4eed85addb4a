import SentraCore

/// `GET /api/v1/status` (docs/http.md): the daemon's health, what `sentractl status` shows.
public struct StatusAnswer: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var now: String
    public var started: String
    public var uptimeSeconds: Int64
    public var configFile: String
    public var mqtt: MQTT
    public var readings: ReadingCounts
    public var queue: Queue
    public var journal: Journal
    public var commits: Commits
    public var reloads: Reloads
    public var plugins: [Plugin]
    public var alertLogSeq: Int64
    public var alertsFiring: Int
    @Nullable public var lastError: String?
    public var registry: RegistryCounts

    public init(
        name: String, version: String, now: String, started: String, uptimeSeconds: Int64, configFile: String, mqtt: MQTT,
        readings: ReadingCounts, queue: Queue, journal: Journal, commits: Commits, reloads: Reloads, plugins: [Plugin],
        alertLogSeq: Int64, alertsFiring: Int, lastError: String?, registry: RegistryCounts
    ) {
        self.name = name
        self.version = version
        self.now = now
        self.started = started
        self.uptimeSeconds = uptimeSeconds
        self.configFile = configFile
        self.mqtt = mqtt
        self.readings = readings
        self.queue = queue
        self.journal = journal
        self.commits = commits
        self.reloads = reloads
        self.plugins = plugins
        self.alertLogSeq = alertLogSeq
        self.alertsFiring = alertsFiring
        self.lastError = lastError
        self.registry = registry
    }

    enum CodingKeys: String, CodingKey {
        case name, version, now, started, mqtt, readings, queue, journal, commits, reloads, plugins, registry
        case uptimeSeconds = "uptime_seconds"
        case configFile = "config_file"
        case alertLogSeq = "alert_log_seq"
        case alertsFiring = "alerts_firing"
        case lastError = "last_error"
    }

    public struct MQTT: Codable, Sendable, Equatable {
        public var broker: String
        public var connected: Bool
        public var subscribed: Bool
        public var reconnects: Int
        public init(broker: String, connected: Bool, subscribed: Bool, reconnects: Int) {
            self.broker = broker
            self.connected = connected
            self.subscribed = subscribed
            self.reconnects = reconnects
        }
    }

    /// Messages in the receive journal not yet read by the ingest thread.
    public struct Queue: Codable, Sendable, Equatable {
        public var depth: Int
        public init(depth: Int) { self.depth = depth }
    }

    public struct Journal: Codable, Sendable, Equatable {
        public var usedBytes: Int
        public var capacityBytes: Int
        public init(usedBytes: Int, capacityBytes: Int) {
            self.usedBytes = usedBytes
            self.capacityBytes = capacityBytes
        }
        enum CodingKeys: String, CodingKey {
            case usedBytes = "used_bytes"
            case capacityBytes = "capacity_bytes"
        }
    }

    public struct Commits: Codable, Sendable, Equatable {
        public var count: Int
        public var failures: Int
        /// How long the last commit took; null before the first.
        @Nullable public var lastSeconds: Double?
        /// When the last commit ended; null before the first.
        @Nullable public var last: String?
        public init(count: Int, failures: Int, lastSeconds: Double?, last: String?) {
            self.count = count
            self.failures = failures
            self.lastSeconds = lastSeconds
            self.last = last
        }
        enum CodingKeys: String, CodingKey {
            case count, failures, last
            case lastSeconds = "last_seconds"
        }
    }

    /// Configuration reloads (SIGHUP): applied, and refused.
    public struct Reloads: Codable, Sendable, Equatable {
        public var count: Int
        public var failures: Int
        public init(count: Int, failures: Int) {
            self.count = count
            self.failures = failures
        }
    }

    public struct Plugin: Codable, Sendable, Equatable {
        public var name: String
        public var up: Bool
        public var consecutiveFailures: Int
        public var failures: Int
        public var delivered: Int
        @Nullable public var ackedSeq: Int64?
        @Nullable public var lastError: String?
        public init(name: String, up: Bool, consecutiveFailures: Int, failures: Int, delivered: Int, ackedSeq: Int64?, lastError: String?) {
            self.name = name
            self.up = up
            self.consecutiveFailures = consecutiveFailures
            self.failures = failures
            self.delivered = delivered
            self.ackedSeq = ackedSeq
            self.lastError = lastError
        }
        enum CodingKeys: String, CodingKey {
            case name, up, failures, delivered
            case consecutiveFailures = "consecutive_failures"
            case ackedSeq = "acked_seq"
            case lastError = "last_error"
        }
    }

    /// How many of each the running configuration has (0 while the daemon loads).
    public struct RegistryCounts: Codable, Sendable, Equatable {
        public var workshops: Int
        public var craftsmen: Int
        public var looms: Int
        public var devices: Int
        public init(workshops: Int, craftsmen: Int, looms: Int, devices: Int) {
            self.workshops = workshops
            self.craftsmen = craftsmen
            self.looms = looms
            self.devices = devices
        }
        public init(_ r: Registry?) {
            self.init(
                workshops: r?.workshops.count ?? 0, craftsmen: r?.craftsmen.count ?? 0, looms: r?.looms.count ?? 0,
                devices: r?.devices.count ?? 0)
        }
    }
}

/// `GET /api/v1/alerts`: the alerts firing now, most severe first, and the last lines of the
/// alert log, oldest first.
public struct AlertsAnswer: Codable, Sendable, Equatable {
    public var firing: [Firing]
    public var recent: [AlertLine]

    public init(firing: [Firing], recent: [AlertLine]) {
        self.firing = firing
        self.recent = recent
    }

    /// One alert firing now: the rule engine's or the daemon's own (`plugin_failing`).
    public struct Firing: Codable, Sendable, Equatable {
        public var id: String
        public var rule: String
        public var severity: Severity
        public var labels: [String: String]
        @Nullable public var value: Double?
        public var summary: String
        public var started: String
        public init(
            id: String, rule: String, severity: Severity, labels: [String: String], value: Double?, summary: String, started: String
        ) {
            self.id = id
            self.rule = rule
            self.severity = severity
            self.labels = labels
            self.value = value
            self.summary = summary
            self.started = started
        }
    }
}

/// `GET /api/v1/production/usual`: each craftsman's pieces per local hour on `date` against
/// his usual, the medians of his last `days` working days.
public typealias UsualAnswer = UsualDocument<UsualRow>

/// `GET /api/v1/production/usual?view=summary`: the answer without the 24-number arrays, one
/// row of figures per craftsman (the hours of one come with `?craftsman=`, a full answer).
public typealias UsualSummaryAnswer = UsualDocument<UsualSummaryRow>

/// The usual production's answer, with full or summary rows.
public struct UsualDocument<Row: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var date: String
    /// How many past working days make a usual.
    public var days: Int
    public var asOf: String
    public var craftsmen: [Row]

    public init(date: String, days: Int, asOf: String, craftsmen: [Row]) {
        self.date = date
        self.days = days
        self.asOf = asOf
        self.craftsmen = craftsmen
    }

    enum CodingKeys: String, CodingKey {
        case date, days, craftsmen
        case asOf = "as_of"
    }
}

extension UsualDocument where Row == UsualSummaryRow {
    /// The full answer's rows, their hours left out.
    public init(_ full: UsualAnswer) {
        self.init(date: full.date, days: full.days, asOf: full.asOf, craftsmen: full.craftsmen.map(UsualSummaryRow.init))
    }
}

/// A craftsman's row of the usual production.
public struct UsualRow: Codable, Sendable, Equatable {
    public var craftsman: String
    public var name: String
    public var workshop: String
    public var piecesToday: Double
    /// Pieces per local hour on `date`, 24 of them.
    public var hours: [Double]
    /// The median of what he had made by this time of day; null without history.
    @Nullable public var usualSoFar: Double?
    /// The median working day; null without history.
    @Nullable public var usualDay: Double?
    /// The median of each local hour; null without history.
    @Nullable public var usualHours: [Double]?
    /// How many working days his usual comes from.
    public var days: Int

    public init(
        craftsman: String, name: String, workshop: String, piecesToday: Double, hours: [Double], usualSoFar: Double?,
        usualDay: Double?, usualHours: [Double]?, days: Int
    ) {
        self.craftsman = craftsman
        self.name = name
        self.workshop = workshop
        self.piecesToday = piecesToday
        self.hours = hours
        self.usualSoFar = usualSoFar
        self.usualDay = usualDay
        self.usualHours = usualHours
        self.days = days
    }

    enum CodingKeys: String, CodingKey {
        case craftsman, name, workshop, hours, days
        case piecesToday = "pieces_today"
        case usualSoFar = "usual_so_far"
        case usualDay = "usual_day"
        case usualHours = "usual_hours"
    }
}

/// `UsualRow` without `hours` and `usual_hours`.
public struct UsualSummaryRow: Codable, Sendable, Equatable {
    public var craftsman: String
    public var name: String
    public var workshop: String
    public var piecesToday: Double
    @Nullable public var usualSoFar: Double?
    @Nullable public var usualDay: Double?
    public var days: Int

    public init(_ full: UsualRow) {
        craftsman = full.craftsman
        name = full.name
        workshop = full.workshop
        piecesToday = full.piecesToday
        usualSoFar = full.usualSoFar
        usualDay = full.usualDay
        days = full.days
    }

    enum CodingKeys: String, CodingKey {
        case craftsman, name, workshop, days
        case piecesToday = "pieces_today"
        case usualSoFar = "usual_so_far"
        case usualDay = "usual_day"
    }
}
