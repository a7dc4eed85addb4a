/// How the messages of an off-the-shelf device (Tasmota, Shelly, ESPHome, or anything a generic
/// mapping describes) become readings of the device protocol (docs/devices.md). A mapping is
/// data: the built-in profiles are mappings made by `ForeignProfiles`, and a configuration's
/// `mappings:` section makes more of the same.
public struct ForeignMapping: Sendable, Equatable {
    /// The profile's name as configured (`tasmota`, `shelly-gen2`, …, or a mapping's name).
    public var profile: String
    /// The device-side name: a Tasmota topic, a Shelly prefix or id, an ESPHome node name. It
    /// replaces `{device}` in the topic patterns.
    public var deviceTopic: String
    public var messages: [ForeignMessage]
    public var status: ForeignStatus?
    /// Messages carry some of the device's fields (ESPHome, Shelly): each updates only what it
    /// carries, and duplicate and out-of-order apply per field.
    public var partial: Bool
    /// After a power cut the device restores an older, non-zero total (Tasmota): a confirmed
    /// drop counts increases from the dropped-to value, never the value itself.
    public var restoresOlderTotal: Bool

    public init(
        profile: String, deviceTopic: String, messages: [ForeignMessage], status: ForeignStatus? = nil, partial: Bool = false,
        restoresOlderTotal: Bool = false
    ) {
        self.profile = profile
        self.deviceTopic = deviceTopic
        self.messages = messages
        self.status = status
        self.partial = partial
        self.restoresOlderTotal = restoresOlderTotal
    }

    /// Whether any message carries a device time (else every reading takes the receive time).
    public var carriesTime: Bool { messages.contains { $0.time != nil } }
}

/// A topic pattern: literal levels, `+` (any one level), `{device}` (the device-side name) and
/// `{field}` (one level naming the value, for devices that publish one plain value a topic).
public struct TopicPattern: Sendable, Equatable, CustomStringConvertible {
    public enum Level: Sendable, Equatable {
        case literal(String)
        case any
        case device
        case field
    }
    public var levels: [Level]

    public init(levels: [Level]) { self.levels = levels }

    /// Parses `a/{device}/+/b`; nil for an empty level, `#`, or an unknown `{name}`.
    public init?(_ text: String) {
        var levels: [Level] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: false) {
            switch part {
            case "": return nil
            case "+": levels.append(.any)
            case "{device}": levels.append(.device)
            case "{field}": levels.append(.field)
            default:
                if part.contains("#") || part.contains("+") || part.contains("{") || part.contains("}") { return nil }
                levels.append(.literal(String(part)))
            }
        }
        guard !levels.isEmpty else { return nil }
        self.levels = levels
    }

    public var description: String {
        levels.map {
            switch $0 {
            case .literal(let s): s
            case .any: "+"
            case .device: "{device}"
            case .field: "{field}"
            }
        }.joined(separator: "/")
    }

    /// The topic with `{device}` filled in, when nothing else in it varies.
    public func exactTopic(device: String) -> String? {
        var parts: [String] = []
        for l in levels {
            switch l {
            case .literal(let s): parts.append(s)
            case .device: parts.append(device)
            case .any, .field: return nil
            }
        }
        return parts.joined(separator: "/")
    }

    /// The MQTT filter a broker subscription uses: `{device}` and `{field}` become `+`.
    public var filter: String {
        levels.map {
            switch $0 {
            case .literal(let s): s
            case .any, .device, .field: "+"
            }
        }.joined(separator: "/")
    }

    /// Matches `topic`'s levels; returns the `{field}` level's text ("" when there is none).
    public func match(_ topic: [Substring], device: String) -> Substring? {
        guard topic.count == levels.count else { return nil }
        var field: Substring = ""
        for (l, t) in zip(levels, topic) {
            switch l {
            case .literal(let s): if t != s { return nil }
            case .device: if t != device { return nil }
            case .any: if t.isEmpty { return nil }
            case .field: field = t
            }
        }
        return field
    }
}

/// One kind of message a device publishes: its topic and how its payload is read.
public struct ForeignMessage: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable {
        /// One JSON object; values by path.
        case json
        /// The whole payload is one value (a number, or a word for `state`).
        case plain
    }
    public var topic: TopicPattern
    public var format: Format
    /// JSON: the message counts only when this path holds this text (Shelly's
    /// `method: NotifyStatus`); others are ignored.
    public var condition: (path: JSONPath, equals: String)?
    public var values: [ForeignValue]
    /// JSON: where the device's time is, and how it is written. None: the receive time.
    public var time: ForeignTime?

    public init(
        topic: TopicPattern, format: Format, values: [ForeignValue], time: ForeignTime? = nil,
        condition: (path: JSONPath, equals: String)? = nil
    ) {
        self.topic = topic
        self.format = format
        self.values = values
        self.time = time
        self.condition = condition
    }

    public static func == (a: ForeignMessage, b: ForeignMessage) -> Bool {
        a.topic == b.topic && a.format == b.format && a.values == b.values && a.time == b.time
            && a.condition?.path == b.condition?.path && a.condition?.equals == b.condition?.equals
    }
}

/// One value of a message and where it goes: a field of the device protocol, scaled, or the
/// loom's `state` through a map of words.
public struct ForeignValue: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case field(Field, scale: Double)
        case state([String: LoomState])
    }
    /// JSON: the value's path. Plain: empty.
    public var path: JSONPath
    /// For a `{field}` topic: the level's text that selects this value. Otherwise nil.
    public var topicField: String?
    public var target: Target

    public init(path: JSONPath = JSONPath(), topicField: String? = nil, target: Target) {
        self.path = path
        self.topicField = topicField
        self.target = target
    }

    /// The words devices use for on and off, read as `run` and `stop`.
    public static let onOffStates: [String: LoomState] = [
        "ON": .run, "OFF": .stop, "on": .run, "off": .stop, "true": .run, "false": .stop, "1": .run, "0": .stop,
        "run": .run, "running": .run, "stop": .stop, "stopped": .stop, "fault": .fault,
    ]
}

/// Where a message carries the device's time and how it is written.
public struct ForeignTime: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable, CaseIterable {
        /// Milliseconds since the epoch (a number).
        case unixMillis = "unix_ms"
        /// Seconds since the epoch, perhaps with a fraction (Shelly's `ts`).
        case unixSeconds = "unix_s"
        /// `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`; without an offset, the sentra's local time
        /// (Tasmota's `Time`).
        case iso8601
    }
    public var path: JSONPath
    public var format: Format
    public init(path: JSONPath, format: Format) {
        self.path = path
        self.format = format
    }
}

/// The device's online/offline topic (its Last Will) and its words.
public struct ForeignStatus: Sendable, Equatable {
    public var topic: TopicPattern
    public var online: [String]
    public var offline: [String]
    public init(topic: TopicPattern, online: [String], offline: [String]) {
        self.topic = topic
        self.online = online
        self.offline = offline
    }
}

/// A path into a JSON object: keys (which may contain `:`, as Shelly's `switch:0`) and array
/// indices. Written `a.b.c`, `a[0].b`, or with keys quoted: `params["switch:0"].apower`.
public struct JSONPath: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Step: Sendable, Equatable, Hashable {
        case key(String)
        case index(Int)
    }
    public var steps: [Step]

    public init(_ steps: [Step] = []) { self.steps = steps }

    /// Parses the dotted form; nil when it is malformed.
    public init?(parsing text: String) {
        var steps: [Step] = []
        var i = text.startIndex
        var expectKey = true
        while i < text.endIndex {
            let c = text[i]
            if c == "[" {
                guard let close = text[i...].firstIndex(of: "]") else { return nil }
                let inner = text[text.index(after: i)..<close]
                if inner.hasPrefix("\"") && inner.hasSuffix("\"") && inner.count >= 2 {
                    steps.append(.key(String(inner.dropFirst().dropLast())))
                } else if let n = Int(inner), n >= 0, n < 1 << 20 {
                    steps.append(.index(n))
                } else {
                    return nil
                }
                i = text.index(after: close)
                expectKey = false
            } else if c == "." {
                guard !steps.isEmpty, !expectKey else { return nil }
                i = text.index(after: i)
                expectKey = true
            } else {
                guard expectKey else { return nil }
                var end = i
                while end < text.endIndex && text[end] != "." && text[end] != "[" { end = text.index(after: end) }
                steps.append(.key(String(text[i..<end])))
                i = end
                expectKey = false
            }
        }
        guard !steps.isEmpty, !expectKey else { return nil }
        self.steps = steps
    }

    public var description: String {
        var s = ""
        for step in steps {
            switch step {
            case .key(let k):
                if k.contains(".") || k.contains("[") || k.contains("]") {
                    s += "[\"\(k)\"]"
                } else {
                    s += s.isEmpty ? k : ".\(k)"
                }
            case .index(let n): s += "[\(n)]"
            }
        }
        return s
    }
}
