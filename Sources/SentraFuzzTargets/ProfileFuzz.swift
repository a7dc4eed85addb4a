import SentraCore

/// Off-the-shelf devices' messages into `IngestPipeline.ingest`, one target per profile (and
/// one for a generic mapping), each on a registry of one device of that profile.
///
/// Input: one message per line. A line `@N PAYLOAD` goes to the device's N-th topic (its
/// messages in order, then its status topic; N taken modulo their number), any other line to
/// its first. The clock advances 20 s a message, so lines exercise the counter rules and the
/// time-weighted states; Tasmota's local times and Shelly's seconds come from the payloads.
enum ProfileFuzz {
    static let t0: Int64 = 1_764_000_000_000

    static func registry(_ mapping: ForeignMapping, kind: DeviceKind) -> Registry {
        Registry(
            name: "fuzz", workshops: [Workshop(id: "ws-1", name: "one", shift: .always)],
            craftsmen: [Craftsman(id: "c-a", name: "A", workshop: "ws-1")],
            looms: [Loom(id: "loom-1", workshop: "ws-1", assignments: [Assignment(craftsman: "c-a", since: .min)])],
            devices: [
                Device(id: "d-1", workshop: "ws-1", kind: kind, binding: kind == .loom ? .loom("loom-1") : .workshop, mapping: mapping)
            ])
    }

    static let tasmota = registry(
        ForeignProfiles.tasmota(topic: "tasmota_1A2B3C", kind: .water, counters: [.init(channel: "C1", field: .l, pulsesPerUnit: 450)]),
        kind: .water)
    static let tasmotaPower = registry(ForeignProfiles.tasmota(topic: "tasmota_1A2B3C", kind: .power, counters: []), kind: .power)
    static let shellyGen2 = registry(ForeignProfiles.shellyGen2(prefix: "shellyplus1pm-a8032ab12345", component: "switch:0"), kind: .power)
    static let shellyGen1 = registry(ForeignProfiles.shellyGen1(id: "shelly1pm-ABC123", channel: 0, emeter: false), kind: .power)
    static let esphome = registry(
        ForeignProfiles.esphome(node: "loom-41", sensors: [("picks", .picks, 1), ("pieces", .pieces, 1)], binarySensor: "running"),
        kind: .loom)
    /// A generic mapping with every kind of value: JSON paths with indices, a `{field}` level,
    /// state words, a time in ISO 8601, a condition.
    static let mapping = registry(
        ForeignMapping(
            profile: "acme", deviceTopic: "dev-1",
            messages: [
                ForeignMessage(
                    topic: TopicPattern("acme/{device}/data")!, format: .json,
                    values: [
                        ForeignValue(path: JSONPath(parsing: "a.picks")!, target: .field(.picks, scale: 1)),
                        ForeignValue(path: JSONPath(parsing: "list[1].n")!, target: .field(.pieces, scale: 0.5)),
                        ForeignValue(path: JSONPath(parsing: "run")!, target: .state(ForeignValue.onOffStates)),
                    ],
                    time: ForeignTime(path: JSONPath(parsing: "time")!, format: .iso8601), condition: (JSONPath(parsing: "type")!, "r")),
                ForeignMessage(
                    topic: TopicPattern("acme/+/{device}/{field}")!, format: .plain,
                    values: [ForeignValue(topicField: "picks", target: .field(.picks, scale: 1))]),
            ],
            status: ForeignStatus(topic: TopicPattern("acme/{device}/lwt")!, online: ["up"], offline: ["down"]), partial: true),
        kind: .loom)

    /// The topics of the one device: its messages' (patterns filled in), then its status topic.
    static func topics(_ r: Registry) -> [String] {
        guard let m = r.devices.first?.mapping else { return [] }
        let fill = { (p: TopicPattern) in
            p.levels.map { l -> String in
                switch l {
                case .literal(let s): s
                case .device: m.deviceTopic
                case .any: "x"
                case .field: "picks"
                }
            }.joined(separator: "/")
        }
        return m.messages.map { fill($0.topic) } + (m.status.map { [fill($0.topic)] } ?? [])
    }

    static func fuzzOne(_ data: UnsafeRawBufferPointer, registry: Registry) {
        guard let calendar = LocalCalendar(identifier: "Asia/Jakarta") else { fatalError("no Asia/Jakarta time zone") }
        var pipeline = IngestPipeline(registry: registry, calendar: calendar)
        pipeline.observer = PayloadFuzz.Checker()
        let topics = topics(registry)
        var now = t0
        for line in data.split(separator: 10, omittingEmptySubsequences: false) {
            now += 20_000
            var topic = topics[0]
            var payload = line[...]
            if line.first == UInt8(ascii: "@"), let space = line.firstIndex(of: 32) {
                let digits = line[line.index(after: line.startIndex)..<space].prefix(4)
                let n = digits.reduce(0) { $0 * 10 + Int($1 &- 48) % 10 }
                topic = topics[abs(n) % topics.count]
                payload = line[line.index(after: space)...]
            }
            pipeline.ingest(topic: topic, payload: Array(payload), now: now)
        }
        for (key, bucket) in pipeline.deltas.buckets {
            for m in Metric.allCases {
                require(bucket[m].isFinite && bucket[m] >= 0, "bucket \(key) \(m) = \(bucket[m])")
            }
        }
        let s = pipeline.stats
        require(pipeline.unknownTopics.count == 0 && s[.unknownDevice] == 0, "a device's own topic was unknown")
    }
}
