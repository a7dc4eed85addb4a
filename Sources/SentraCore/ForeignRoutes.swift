/// Which configured off-the-shelf device a topic belongs to, and which of its messages it is:
/// made from the registry at start and at every reload. Exact topics are one dictionary lookup;
/// topics with `+` or `{field}` levels are matched against the patterns; a topic under a
/// device's own name that no message maps (an ESPHome node's temperature sensor, a Shelly's
/// `status/sys`) is that device's, and ignored.
public struct ForeignRoutes {
    public enum Route: Equatable {
        /// A message: the reader that reads it; `selected` the value a `{field}` level named.
        case message(device: Int, reader: Int, selected: Int?)
        case status(device: Int)
        /// The device's, carrying nothing mapped.
        case ignored(device: Int)
    }

    public private(set) var readers: [ForeignReader] = []
    private var exact: [String: Route] = [:]
    private var patterns: [(device: Int, name: String, reader: Int, pattern: TopicPattern, message: ForeignMessage)] = []
    private var statusPatterns: [(device: Int, name: String, pattern: TopicPattern)] = []
    /// The leading levels up to a device's name (`tele/<topic>`, `shellies/<id>`, `<node>`), as
    /// text, to its device: a topic below one is that device's. Looked up by each of a topic's
    /// first `claimLevels` prefixes, so a stranger's topic costs as many lookups, whatever the
    /// number of devices.
    private var claims: [String: Int] = [:]
    private var claimLevels = 0

    public init() {}

    public init(registry: Registry) {
        for (i, d) in registry.devices.enumerated() {
            guard let m = d.mapping else { continue }
            for message in m.messages {
                readers.append(ForeignReader(message))
                let r = readers.count - 1
                if let t = message.topic.exactTopic(device: m.deviceTopic) {
                    if exact[t] == nil { exact[t] = .message(device: i, reader: r, selected: nil) }
                } else {
                    patterns.append((i, m.deviceTopic, r, message.topic, message))
                }
            }
            if let s = m.status {
                if let t = s.topic.exactTopic(device: m.deviceTopic) {
                    if exact[t] == nil { exact[t] = .status(device: i) }
                } else {
                    statusPatterns.append((i, m.deviceTopic, s.topic))
                }
            }
            for pattern in m.messages.map(\.topic) + (m.status.map { [$0.topic] } ?? []) {
                guard let k = pattern.levels.firstIndex(of: .device),
                    let prefix = TopicPattern(levels: Array(pattern.levels[...k])).exactTopic(device: m.deviceTopic)
                else { continue }
                if claims[prefix] == nil { claims[prefix] = i }
                claimLevels = max(claimLevels, k + 1)
            }
        }
    }

    /// The MQTT filters the configured devices publish on (`{device}`, `{field}` as `+`).
    public static func filters(registry: Registry) -> [String] {
        var out: [String] = []
        var profiles = Set<String>()
        for d in registry.devices {
            guard let m = d.mapping else { continue }
            if ForeignProfiles.names.contains(m.profile) {
                if profiles.insert(m.profile).inserted { out += ForeignProfiles.filters(profile: m.profile) }
            } else {
                out += m.messages.map(\.topic.filter) + (m.status.map { [$0.topic.filter] } ?? [])
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    /// The route of `topic`, or nil when no configured device claims it. `viaPattern`: it was
    /// found by matching a pattern (a topic that varies, so its caching must be bounded).
    public func resolve(_ topic: String) -> (route: Route, viaPattern: Bool)? {
        if let r = exact[topic] { return (r, false) }
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        for p in patterns {
            guard let field = p.pattern.match(levels, device: p.name) else { continue }
            guard p.pattern.levels.contains(.field) else { return (.message(device: p.device, reader: p.reader, selected: nil), true) }
            if let v = p.message.values.firstIndex(where: { $0.topicField.map { $0 == field } ?? false }) {
                return (.message(device: p.device, reader: p.reader, selected: v), true)
            }
        }
        for s in statusPatterns where s.pattern.match(levels, device: s.name) != nil {
            return (.status(device: s.device), true)
        }
        var prefix = ""
        for (n, level) in levels.prefix(min(claimLevels, levels.count - 1)).enumerated() {
            prefix += n == 0 ? level : "/" + level
            if let device = claims[prefix] { return (.ignored(device: device), true) }
        }
        return nil
    }
}
