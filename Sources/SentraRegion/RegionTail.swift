import Foundation
import Logging
import SentraAlertLog
import SentraConfig
import SentraCore
import SentraMQTT
import SentraWire
import Synchronization

/// `sentractl region tail`: every sentra's alert events from the regional broker, each line
/// once, with its sentra, and the gaps in each sentra's `seq` (docs/region.md).
public struct RegionTail: Sendable {
    public struct Options: Sendable {
        public var minSeverity: Severity = .info
        /// Only these sentras (empty: all).
        public var sentras: Set<String> = []
        /// Pass the events' JSON through unchanged; notices go to standard error.
        public var json = false
        public var color: Bool?
        public init() {}
    }

    public let region: RegionConfiguration
    public let options: Options
    public let logger: Logger

    /// `logger`: libmosquitto's words; by default none (the connection's changes are shown as notices).
    public init(
        region: RegionConfiguration, options: Options = .init(),
        logger: Logger = Logger(label: "sentra.region", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.region = region
        self.options = options
        self.logger = logger
    }

    /// Follows the regional broker until cancelled, writing to standard output (notices in
    /// `--json` mode to standard error).
    public func run() async throws {
        let color = options.color ?? (isatty(STDOUT_FILENO) == 1)
        let out = FileHandle.standardOutput
        let err = FileHandle.standardError
        try await run { text, notice in
            let s = (color && notice && !options.json) ? "\u{1B}[1;35m\(text)\u{1B}[0m" : text
            (notice && options.json ? err : out).write(Data((s + "\n").utf8))
        } render: { sentra, event in
            Self.human(sentra: sentra, event: event, timeZone: TimeZone(identifier: region.timeZone) ?? .current, color: color)
        }
    }

    /// The loop: `write(text, isNotice)` for each line to show.
    public func run(
        write: @escaping @Sendable (String, Bool) -> Void, render: @escaping @Sendable (String, AlertEvent) -> String
    )
        async throws
    {
        var mqtt = MQTTOptions()
        let b = region.broker
        mqtt.host = b.host
        mqtt.port = b.port
        mqtt.clientID = b.clientID
        mqtt.cleanSession = false
        mqtt.keepAliveSeconds = b.keepAliveSeconds
        mqtt.username = b.username
        mqtt.password = try region.brokerPassword()
        mqtt.caFile = b.caFile
        mqtt.certFile = b.certFile
        mqtt.keyFile = b.keyFile
        mqtt.reconnectMinSeconds = b.reconnectMinSeconds
        mqtt.reconnectMaxSeconds = b.reconnectMaxSeconds
        mqtt.subscriptions = [(region.eventsFilter, 1)]
        let (messages, feed) = AsyncStream.makeStream(of: Message.self, bufferingPolicy: .unbounded)
        // At most `Self.backlog` messages wait to be shown: past that libmosquitto's thread
        // waits (and the broker with it), so a reader that stops (a pager) holds memory bounded.
        let room = DispatchSemaphore(value: Self.backlog)
        let stopping = StopFlag()
        let client = MQTTClient(
            options: mqtt, logger: logger,
            onMessage: { topic, payload, _ in
                if stopping.value.load(ordering: .acquiring) { return }
                room.wait()
                feed.yield(.message(topic: String(decoding: topic, as: UTF8.self), payload: String(decoding: payload, as: UTF8.self)))
            },
            onEvent: { feed.yield(.event($0)) })
        try client.start()
        defer {
            // libmosquitto's one thread may be waiting for room: let it go before joining it.
            stopping.value.store(true, ordering: .releasing)
            room.signal()
            client.stop()
        }
        var stream = RegionStream()
        var ignored = NoticeLimit()
        let broker = "\(b.host):\(b.port)"
        await withTaskCancellationHandler {
            for await m in messages {
                switch m {
                case .event(let e): if let text = Self.describe(e, broker: broker) { write(text, true) }
                case .message(let topic, let payload):
                    for o in stream.take(topic: topic, topicSentra: region.sentra(inTopic: topic), payload: payload) {
                        if let (text, notice) = show(o, render: render, ignored: &ignored) { write(text, notice) }
                    }
                    room.signal()
                }
            }
        } onCancel: {
            feed.finish()
        }
    }

    final class StopFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// Messages received and not yet shown, at most.
    static let backlog = 4_096

    enum Message: Sendable {
        case message(topic: String, payload: String)
        case event(MQTTEvent)
    }

    /// The text for one output of the stream, and whether it is a notice; nil: filtered out
    /// (or an ignored message past the notices' rate).
    func show(_ o: RegionStream.Output, render: (String, AlertEvent) -> String, ignored: inout NoticeLimit) -> (String, Bool)? {
        switch o {
        case .line(let sentra, let event, let text, let late):
            guard event.severity >= options.minSeverity, options.sentras.isEmpty || options.sentras.contains(sentra) else { return nil }
            // Valid JSON has raw line breaks only between its tokens: one event, one line.
            if options.json { return (text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " "), false) }
            return (render(sentra, event) + (late ? "  (late)" : ""), false)
        case .gap(let sentra, let from, let to):
            guard options.sentras.isEmpty || options.sentras.contains(sentra) else { return nil }
            let n = to - from + 1
            return ("-- \(sentra): \(n) alert line(s) missing (seq \(from) to \(to)) --", true)
        case .restarted(let sentra, let from, let to):
            guard options.sentras.isEmpty || options.sentras.contains(sentra) else { return nil }
            return ("-- \(sentra): seq went back from \(from) to \(to) with new alerts: its alert log began again --", true)
        case .invalid(let topic, let reason):
            guard let held = ignored.admit(now: .now) else { return nil }
            let more = held > 0 ? " (and \(held) more ignored since the last such line)" : ""
            return ("-- ignored a message on \(Self.printable(topic, limit: 200)): \(reason)\(more) --", true)
        }
    }

    /// The connection's changes worth a line.
    static func describe(_ e: MQTTEvent, broker: String) -> String? {
        switch e {
        case .connected: "-- connected to the regional broker \(broker) --"
        case .connectFailed(let reason): "-- cannot reach the regional broker \(broker): \(reason); retrying --"
        case .disconnected(let reason): "-- lost the regional broker \(broker) (\(reason)); reconnecting --"
        case .subscribed: nil
        }
    }

    /// `bandar-kidul  2026-11-24 10:15:30  FIRING    warning   voltage_sag  ws-a/pm-1  …`
    /// What the event says is shown through `printable`: it came over the network, and a
    /// control character in it must not drive the coordinator's terminal.
    public static func human(sentra: String, event: AlertEvent, timeZone: TimeZone, color: Bool) -> String {
        var e = event
        e.rule = printable(e.rule)
        e.summary = printable(e.summary)
        e.labels = Dictionary(e.labels.map { (printable($0.key, limit: 100), printable($0.value, limit: 100)) }) { a, _ in a }
        let name = color ? "\u{1B}[1m\(sentra)\u{1B}[0m" : sentra
        return "\(name)  " + AlertTail.human(e, timeZone: timeZone, color: color)
    }

    /// `s` with every control character (C0, DEL, C1: escape sequences among them) as `?`, cut
    /// to `limit` characters.
    public static func printable(_ s: String, limit: Int = 1_000) -> String {
        var out = String.UnicodeScalarView()
        for (i, u) in s.unicodeScalars.enumerated() {
            if i == limit {
                out.append("…")
                break
            }
            out.append(u.value < 0x20 || (0x7F...0x9F).contains(u.value) ? "?" : u)
        }
        return String(out)
    }
}

/// At most one line a second about ignored messages, so that a flood of garbage does not
/// flood the coordinator's screen; the next line says how many were held back.
public struct NoticeLimit: Sendable {
    var next: ContinuousClock.Instant?
    var held = 0
    public init() {}

    /// The number held back since the last line when a line may be written now, else nil.
    public mutating func admit(now: ContinuousClock.Instant) -> Int? {
        if let next, now < next {
            held += 1
            return nil
        }
        defer { held = 0 }
        next = now + .seconds(1)
        return held
    }
}
