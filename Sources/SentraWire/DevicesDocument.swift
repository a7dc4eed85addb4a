import SentraCore

/// `sentractl devices --format json`: each configured device, how it is read, when it was
/// last heard and how far its clock is off.
public struct DevicesDocument: Codable, Sendable, Equatable {
    public var devices: [Device]

    public struct Device: Codable, Sendable, Equatable {
        public var id: String
        public var workshop: String
        public var kind: String
        /// `native`, a built-in profile or a mapping's name.
        public var profile: String
        /// The topic it publishes on (native) or its device-side name (the others).
        public var topic: String
        /// RFC 3339, the sentra's offset: the event time of its last accepted reading.
        public var lastReading: String?
        /// Its clock minus the receive time at its last reading with a device time, seconds.
        public var skewSeconds: Double?

        public init(
            id: String, workshop: String, kind: String, profile: String, topic: String, lastReading: String?, skewSeconds: Double?
        ) {
            self.id = id
            self.workshop = workshop
            self.kind = kind
            self.profile = profile
            self.topic = topic
            self.lastReading = lastReading
            self.skewSeconds = skewSeconds
        }

        enum CodingKeys: String, CodingKey {
            case id, workshop, kind, profile, topic
            case lastReading = "last_reading"
            case skewSeconds = "skew_seconds"
        }
    }

    public init(devices: [Device]) { self.devices = devices }
}

/// `sentractl devices unknown --format json`: topics the broker delivered that no configured
/// device claims, most recently heard first.
public struct UnknownTopicsDocument: Codable, Sendable, Equatable {
    public var topics: [Topic]

    public struct Topic: Codable, Sendable, Equatable {
        public var topic: String
        /// Messages received on it (kept while it is among the most recent topics).
        public var count: UInt64
        /// RFC 3339, the sentra's offset (receive times).
        public var firstSeen: String
        public var lastSeen: String
        /// The start of a recent payload, as text (invalid UTF-8 replaced).
        public var sample: String
        /// A Home Assistant discovery message, read for the device it announces.
        public var discovery: Bool
        public var looksLike: LooksLike?
        /// A `devices:` entry to paste into the configuration, when the profile was recognised.
        public var snippet: String?

        public init(
            topic: String, count: UInt64, firstSeen: String, lastSeen: String, sample: String, discovery: Bool, looksLike: LooksLike?,
            snippet: String?
        ) {
            self.topic = topic
            self.count = count
            self.firstSeen = firstSeen
            self.lastSeen = lastSeen
            self.sample = sample
            self.discovery = discovery
            self.looksLike = looksLike
            self.snippet = snippet
        }

        enum CodingKeys: String, CodingKey {
            case topic, count, sample, discovery, snippet
            case firstSeen = "first_seen"
            case lastSeen = "last_seen"
            case looksLike = "looks_like"
        }
    }

    public struct LooksLike: Codable, Sendable, Equatable {
        public var profile: String
        public var kind: String?
        /// The device-side name the configuration's `topic:` takes.
        public var topic: String
        public init(profile: String, kind: String?, topic: String) {
            self.profile = profile
            self.kind = kind
            self.topic = topic
        }
    }

    public init(topics: [Topic]) { self.topics = topics }
}
