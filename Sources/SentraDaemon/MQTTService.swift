import Foundation
import Logging
import SentraConfig
import SentraJournal
import SentraMQTT
import SentraReadModel
import SentraSystemd
import ServiceLifecycle
import Synchronization

/// The broker connection: subscribes to the device topics with QoS 1 on a persistent
/// session, copies each message into the receive journal before its callback returns, and
/// reports its part of READY=1 once subscribed. It connects only after the ingest thread has replayed
/// what the journal held from before.
public final class MQTTService: Service, @unchecked Sendable {
    private let client: MQTTClient
    /// The filters the broker's session holds, as last subscribed (kept beside the state).
    private let record: SubscriptionRecord
    private let journal: ReceiveJournal
    private let replayed: Gate

    public init(
        configuration: Configuration, journal: ReceiveJournal, replayed: Gate, status: DaemonStatus, readiness: Readiness,
        logger: Logger, clock: @escaping MillisClock = systemMillis
    ) throws {
        self.journal = journal
        self.replayed = replayed
        let b = configuration.broker
        var o = MQTTOptions()
        o.host = b.host
        o.port = b.port
        o.clientID = b.clientID
        o.cleanSession = false
        o.keepAliveSeconds = b.keepAliveSeconds
        o.username = b.username
        o.password = try b.passwordFile.flatMap { try configuration.readSecret($0, key: "broker.password_file") }
        o.caFile = b.caFile
        o.certFile = b.certFile
        o.keyFile = b.keyFile
        o.reconnectMinSeconds = b.reconnectMinSeconds
        o.reconnectMaxSeconds = b.reconnectMaxSeconds
        o.subscriptions = configuration.subscriptions.map { ($0, 1) }
        let record = SubscriptionRecord(path: (configuration.stateDirectory as NSString).appendingPathComponent("mqtt-subscriptions"))
        self.record = record
        record.wanted.withLock { $0 = configuration.subscriptions }
        o.previouslySubscribed = record.load()
        client = MQTTClient(
            options: o, logger: logger,
            onMessage: { topic, payload, _ in
                // libmosquitto has acknowledged it already: from here it must outlive the process.
                journal.append(topic: topic, payload: payload, receivedAt: clock())
                FaultInjection.journaled()
            },
            onEvent: { event in
                switch event {
                case .connected:
                    status.update { $0.connected = true }
                case .subscribed:
                    status.update { $0.subscribed = true }
                    record.save()
                    logger.info("subscribed to the device topics")
                    readiness.report(.subscribed)
                case .disconnected, .connectFailed:
                    status.update {
                        if $0.connected { $0.reconnects += 1 }
                        $0.connected = false
                        $0.subscribed = false
                    }
                }
            })
    }

    /// A reload's filters: new ones subscribed, dropped ones unsubscribed, on the same session.
    func update(subscriptions: [String]) {
        record.wanted.withLock { $0 = subscriptions }
        client.setSubscriptions(subscriptions.map { ($0, 1) })
    }

    public func run() async throws {
        // What was received before the last stop is counted first.
        await cancelWhenGracefulShutdown { await self.replayed.wait() }
        if replayed.isOpen {
            try client.start()
            // Runs until SIGTERM; then no more messages come in and the ingest thread drains.
            // A callback waiting for journal space gets it from the commits meanwhile.
            try? await gracefulShutdown()
            client.stop()
        }
        journal.close()
    }
}

/// The filters last subscribed on the persistent session, one a line in a file beside the
/// state: at the next start the broker says whether it kept the session, and this says what
/// the session holds, so a configuration with new device profiles subscribes to them.
final class SubscriptionRecord: Sendable {
    let path: String
    let wanted = Mutex<[String]>([])

    init(path: String) { self.path = path }

    func load() -> Set<String>? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Set(text.split(separator: "\n").map(String.init))
    }

    /// Written to a temporary name and renamed: never half a list.
    func save() {
        let text = wanted.withLock { $0.joined(separator: "\n") } + "\n"
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else { return }
        _ = rename(tmp, path)
    }
}
