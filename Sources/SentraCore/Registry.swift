/// Minutes of the local day, `[start, end)`; `end` may pass 24:00 for a night shift.
public struct DayWindow: Sendable, Equatable, Codable {
    public var startMinute: Int
    public var endMinute: Int
    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }
    public func contains(minute: Int) -> Bool {
        (minute >= startMinute && minute < endMinute) || (endMinute > 1440 && minute < endMinute - 1440)
    }
    public var minutes: Int { endMinute - startMinute }
}

/// When a workshop is expected to produce: working days, hours, breaks and holidays.
public struct Schedule: Sendable, Equatable, Codable {
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    public var days: Set<Int>
    public var windows: [DayWindow]
    public var breaks: [DayWindow]
    /// Local dates `YYYY-MM-DD` with no production.
    public var holidays: Set<String>

    public init(days: Set<Int>, windows: [DayWindow], breaks: [DayWindow] = [], holidays: Set<String> = []) {
        self.days = days
        self.windows = windows
        self.breaks = breaks
        self.holidays = holidays
    }

    public static let always = Schedule(days: Set(1...7), windows: [DayWindow(startMinute: 0, endMinute: 1440)])

    /// Whether local time `t` is inside the schedule.
    public func contains(_ t: LocalTime) -> Bool {
        guard days.contains(t.weekday), !holidays.contains(t.date) else { return false }
        guard windows.contains(where: { $0.contains(minute: t.minuteOfDay) }) else { return false }
        return !breaks.contains(where: { $0.contains(minute: t.minuteOfDay) })
    }
}

public struct Workshop: Sendable, Equatable {
    public var id: String
    public var name: String
    public var shift: Schedule
    /// Hours in which yarn is dyed (water failure matters then).
    public var dyeing: Schedule?
    public init(id: String, name: String, shift: Schedule, dyeing: Schedule? = nil) {
        self.id = id
        self.name = name
        self.shift = shift
        self.dyeing = dyeing
    }
}

public struct Craftsman: Sendable, Equatable {
    public var id: String
    public var name: String
    public var workshop: String
    public init(id: String, name: String, workshop: String) {
        self.id = id
        self.name = name
        self.workshop = workshop
    }
}

/// A loom's assignment to a craftsman from `since` (ms since the epoch) on.
public struct Assignment: Sendable, Equatable {
    public var craftsman: String
    public var since: Int64
    public init(craftsman: String, since: Int64) {
        self.craftsman = craftsman
        self.since = since
    }
}

public struct Loom: Sendable, Equatable {
    public var id: String
    public var workshop: String
    /// Sorted by `since`; the first one starts at `Int64.min`.
    public var assignments: [Assignment]
    public init(id: String, workshop: String, assignments: [Assignment]) {
        self.id = id
        self.workshop = workshop
        self.assignments = assignments.sorted { $0.since < $1.since }
    }
    /// The craftsman the loom belongs to at `ts`.
    @inline(__always) public func craftsman(at ts: Int64) -> String {
        var result = assignments[0].craftsman
        for a in assignments.dropFirst() where a.since <= ts { result = a.craftsman }
        return result
    }
    public var currentCraftsman: String { assignments.last!.craftsman }
}

/// What a device measures.
public enum Binding: Sendable, Equatable {
    case loom(String)
    case craftsman(String)
    case workshop
}

public struct Device: Sendable, Equatable {
    public var id: String
    public var workshop: String
    public var kind: DeviceKind
    public var binding: Binding
    /// How its messages are read when it is an off-the-shelf device (Tasmota, Shelly, ESPHome,
    /// a generic mapping); nil for a board speaking the device protocol on its own topic.
    public var mapping: ForeignMapping?
    public init(id: String, workshop: String, kind: DeviceKind, binding: Binding, mapping: ForeignMapping? = nil) {
        self.id = id
        self.workshop = workshop
        self.kind = kind
        self.binding = binding
        self.mapping = mapping
    }
    /// `native`, or the profile or mapping its messages are read with.
    public var profile: String { mapping?.profile ?? "native" }
    /// Who the device is, stable across reloads: its state is kept under this key.
    public var key: DeviceKey { DeviceKey(workshop: workshop, kind: kind, id: id) }
    public var loom: String? { if case .loom(let l) = binding { l } else { nil } }
    public var craftsman: String? { if case .craftsman(let c) = binding { c } else { nil } }
}

/// The sentra as configured: immutable, shared by value, looked up by index on the hot path.
public struct Registry: Sendable {
    public let name: String
    public let workshops: [Workshop]
    public let craftsmen: [Craftsman]
    public let looms: [Loom]
    public let devices: [Device]
    /// The first level of every device topic (`broker.topic_prefix`), e.g. `sentra`.
    public let topicPrefix: String
    private let deviceIndex: [DeviceKey: Int]
    private let loomIndex: [String: Int]
    private let workshopIndex: [String: Int]

    public init(
        name: String, workshops: [Workshop], craftsmen: [Craftsman], looms: [Loom], devices: [Device],
        topicPrefix: String = DeviceKey.defaultTopicPrefix
    ) {
        self.name = name
        self.workshops = workshops
        self.craftsmen = craftsmen
        self.looms = looms
        self.devices = devices
        self.topicPrefix = topicPrefix
        var di: [DeviceKey: Int] = [:]
        for (i, d) in devices.enumerated() { di[d.key] = i }
        deviceIndex = di
        loomIndex = Dictionary(looms.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        workshopIndex = Dictionary(workshops.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func deviceIndex(_ key: DeviceKey) -> Int? { deviceIndex[key] }
    /// The topic a device publishes its readings on.
    public func topic(of device: Device) -> String { device.key.topic(prefix: topicPrefix) }
    public func loom(_ id: String) -> Loom? { loomIndex[id].map { looms[$0] } }
    public func workshop(_ id: String) -> Workshop? { workshopIndex[id].map { workshops[$0] } }
    public func workshopIndex(_ id: String) -> Int? { workshopIndex[id] }
}

/// A device's identity: workshop, kind and id. Its text form, `workshop/kind/id`, is how the
/// state database stores it; its topic is `<prefix>/workshop/kind/id` (docs/protocol.md).
public struct DeviceKey: Hashable, Sendable, CustomStringConvertible {
    public static let defaultTopicPrefix = "sentra"

    public var workshop: String
    public var kind: DeviceKind
    public var id: String

    public init(workshop: String, kind: DeviceKind, id: String) {
        self.workshop = workshop
        self.kind = kind
        self.id = id
    }

    /// Parses the text form `workshop/kind/id`; nil when it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let kind = DeviceKind(rawValue: String(parts[1])) else { return nil }
        self.init(workshop: String(parts[0]), kind: kind, id: String(parts[2]))
    }

    /// `workshop/kind/id`.
    public var description: String { "\(workshop)/\(kind.rawValue)/\(id)" }

    /// The topic of its readings, `<prefix>/workshop/kind/id`.
    public func topic(prefix: String = DeviceKey.defaultTopicPrefix) -> String { "\(prefix)/\(description)" }

    /// The topic of its online/offline status, `<prefix>/workshop/kind/id/status`.
    public func statusTopic(prefix: String = DeviceKey.defaultTopicPrefix) -> String { topic(prefix: prefix) + "/status" }
}
