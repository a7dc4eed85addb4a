import SentraCore

/// `GET /api/v1/sentra` (docs/http.md): workshops, craftsmen, looms and devices with their
/// current state. Times are RFC 3339 with the sentra's offset; values as last heard.
///
/// `?view=summary` leaves out what the dashboard does not draw: `devices` (nil), each
/// workshop's and craftsman's id lists (nil), and every loom running and online (`looms`
/// holds the exceptions); each workshop counts its looms in `loom_counts` instead. A nil
/// field is not on the wire at all.
public struct SentraAnswer: Codable, Sendable, Equatable {
    public var name: String
    public var timeZone: String
    public var now: String
    /// The sentra's local date, `YYYY-MM-DD`.
    public var today: String
    public var workshops: [Workshop]
    public var craftsmen: [Craftsman]
    public var looms: [Loom]
    /// Nil in the summary.
    public var devices: [Device]?

    public init(
        name: String, timeZone: String, now: String, today: String, workshops: [Workshop], craftsmen: [Craftsman], looms: [Loom],
        devices: [Device]?
    ) {
        self.name = name
        self.timeZone = timeZone
        self.now = now
        self.today = today
        self.workshops = workshops
        self.craftsmen = craftsmen
        self.looms = looms
        self.devices = devices
    }

    enum CodingKeys: String, CodingKey {
        case name, now, today, workshops, craftsmen, looms, devices
        case timeZone = "time_zone"
    }

    public struct Workshop: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var inShift: Bool
        /// Nil in the summary.
        public var craftsmen: [String]?
        /// Nil in the summary.
        public var looms: [String]?
        /// Its looms by state; in the summary only.
        public var loomCounts: LoomCounts?
        public var power: PowerHealth
        public var water: WaterHealth
        /// Every rule firing in the workshop, sorted.
        public var alerts: [String]

        public init(
            id: String, name: String, inShift: Bool, craftsmen: [String]?, looms: [String]?, loomCounts: LoomCounts? = nil,
            power: PowerHealth, water: WaterHealth, alerts: [String]
        ) {
            self.id = id
            self.name = name
            self.inShift = inShift
            self.craftsmen = craftsmen
            self.looms = looms
            self.loomCounts = loomCounts
            self.power = power
            self.water = water
            self.alerts = alerts
        }

        enum CodingKeys: String, CodingKey {
            case id, name, craftsmen, looms, power, water, alerts
            case inShift = "in_shift"
            case loomCounts = "loom_counts"
        }
    }

    /// A workshop's looms by state as the dashboard counts them: `off` is every loom not
    /// online (whatever its state), the others the online looms in each state.
    public struct LoomCounts: Codable, Sendable, Equatable {
        public var run = 0
        public var stop = 0
        public var fault = 0
        public var unknown = 0
        public var off = 0

        public init(run: Int = 0, stop: Int = 0, fault: Int = 0, unknown: Int = 0, off: Int = 0) {
            self.run = run
            self.stop = stop
            self.fault = fault
            self.unknown = unknown
            self.off = off
        }

        /// Every loom counted.
        public var total: Int { run + stop + fault + unknown + off }

        /// Counts `loom` in.
        public mutating func add(_ loom: Loom) {
            if !loom.online {
                off += 1
                return
            }
            switch loom.state {
            case .run: run += 1
            case .stop: stop += 1
            case .fault: fault += 1
            case .unknown: unknown += 1
            }
        }
    }

    /// A workshop's power meters: the lowest voltage and the summed power of those online.
    public struct PowerHealth: Codable, Sendable, Equatable {
        public var status: MeterStatus
        @Nullable public var voltage: Double?
        @Nullable public var watts: Double?
        public var devices: [String]
        /// The rules firing on these meters, sorted.
        public var alerts: [String]

        public init(status: MeterStatus, voltage: Double?, watts: Double?, devices: [String], alerts: [String]) {
            self.status = status
            self.voltage = voltage
            self.watts = watts
            self.devices = devices
            self.alerts = alerts
        }
    }

    /// A workshop's water meters: the summed flow and the lowest tank of those online.
    public struct WaterHealth: Codable, Sendable, Equatable {
        public var status: MeterStatus
        @Nullable public var flowLpm: Double?
        @Nullable public var tankPercent: Double?
        public var devices: [String]
        /// The rules firing on these meters, sorted.
        public var alerts: [String]

        public init(status: MeterStatus, flowLpm: Double?, tankPercent: Double?, devices: [String], alerts: [String]) {
            self.status = status
            self.flowLpm = flowLpm
            self.tankPercent = tankPercent
            self.devices = devices
            self.alerts = alerts
        }

        enum CodingKeys: String, CodingKey {
            case status, devices, alerts
            case flowLpm = "flow_lpm"
            case tankPercent = "tank_percent"
        }
    }

    public struct Craftsman: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var workshop: String
        /// The looms assigned to him now; nil in the summary.
        public var looms: [String]?

        public init(id: String, name: String, workshop: String, looms: [String]?) {
            self.id = id
            self.name = name
            self.workshop = workshop
            self.looms = looms
        }
    }

    public struct Loom: Codable, Sendable, Equatable {
        public var id: String
        public var workshop: String
        @Nullable public var craftsman: String?
        /// Its counter board.
        @Nullable public var device: String?
        /// `unknown`: never heard, or offline.
        public var state: LoomStateName
        /// When this run of the daemon saw the state begin.
        @Nullable public var since: String?
        public var online: Bool
        @Nullable public var lastHeard: String?

        /// Running and online: left out of the summary.
        public var isRunning: Bool { online && state == .run }

        public init(
            id: String, workshop: String, craftsman: String?, device: String?, state: LoomStateName, since: String?, online: Bool,
            lastHeard: String?
        ) {
            self.id = id
            self.workshop = workshop
            self.craftsman = craftsman
            self.device = device
            self.state = state
            self.since = since
            self.online = online
            self.lastHeard = lastHeard
        }

        enum CodingKeys: String, CodingKey {
            case id, workshop, craftsman, device, state, since, online
            case lastHeard = "last_heard"
        }
    }

    public struct Device: Codable, Sendable, Equatable {
        public var id: String
        public var workshop: String
        public var kind: DeviceKind
        @Nullable public var loom: String?
        @Nullable public var craftsman: String?
        public var online: Bool
        @Nullable public var lastHeard: String?
        /// A loom board's state as last heard.
        @Nullable public var state: LoomStateName?
        /// The latest value of each instantaneous field heard (`v`, `a`, `w`, `lpm`, `level`, `bar`).
        public var values: [String: Double]

        public init(
            id: String, workshop: String, kind: DeviceKind, loom: String?, craftsman: String?, online: Bool, lastHeard: String?,
            state: LoomStateName?, values: [String: Double]
        ) {
            self.id = id
            self.workshop = workshop
            self.kind = kind
            self.loom = loom
            self.craftsman = craftsman
            self.online = online
            self.lastHeard = lastHeard
            self.state = state
            self.values = values
        }

        enum CodingKeys: String, CodingKey {
            case id, workshop, kind, loom, craftsman, online, state, values
            case lastHeard = "last_heard"
        }
    }
}

/// How a workshop's meters of one kind are (docs/http.md, `power.status`).
public enum MeterStatus: String, Codable, Sendable {
    /// An alert fires on one of them.
    case alert
    /// Every one said offline or was never heard.
    case offline
    case ok
    /// The workshop has no such meter.
    case noMeter = "none"
}

/// A loom's state on the wire.
public enum LoomStateName: String, Codable, Sendable {
    case run, stop, fault
    /// Never heard, or offline.
    case unknown

    public init(_ state: LoomState) {
        switch state {
        case .run: self = .run
        case .stop: self = .stop
        case .fault: self = .fault
        }
    }
}

/// `GET /api/v1/sentra` while the daemon is still loading its state.
public struct NotReadyAnswer: Codable, Sendable, Equatable {
    public var name: String
    public var ready: Bool

    public init(name: String) {
        self.name = name
        ready = false
    }
}

/// The body of a 400, 404 or 503 answer: a sentence, and for a 400 or 404 the query parameter
/// to blame.
public struct ErrorAnswer: Codable, Sendable, Equatable {
    public var error: String
    public var parameter: String?
    public init(error: String, parameter: String? = nil) {
        self.error = error
        self.parameter = parameter
    }
}
