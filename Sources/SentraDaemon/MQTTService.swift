import Foundation
import Logging
import SentraConfig
import SentraMQTT
import SentraSystemd
import ServiceLifecycle
import Synchronization

/// The broker connection: subscribes to the device topics with QoS 1 on a persistent
/// session, copies each message into the bounded queue, and reports READY=1 once subscribed.
public final class MQTTService: Service, @unchecked Sendable {
    private let client: MQTTClient
    private let queue: MessageQueue

    public init(
        configuration: Configuration, queue: MessageQueue, status: DaemonStatus, notifier: SystemdNotifier, logger: Logger,
        clock: @escaping MillisClock = systemMillis
    ) throws {
        self.queue = queue
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
        o.subscriptions = [("sentra/+/+/+", 1), ("sentra/+/+/+/status", 1)]
        let ready = ReadyOnce(notifier: notifier)
        client = MQTTClient(
            options: o, logger: logger,
            onMessage: { topic, payload, _ in
                queue.push(ReceivedMessage(topic: topic, payload: Array(payload), receivedAt: clock()))
            },
            onEvent: { event in
                switch event {
                case .connected:
                    status.update { $0.connected = true }
                case .subscribed:
                    status.update { $0.subscribed = true }
                    ready.fire()
                case .disconnected, .connectFailed:
                    status.update {
                        if $0.connected { $0.reconnects += 1 }
                        $0.connected = false
                        $0.subscribed = false
                    }
                }
            })
    }

    public func run() async throws {
        try client.start()
        // Runs until SIGTERM; then no more messages come in and the ingest thread drains.
        try? await gracefulShutdown()
        client.stop()
        queue.close()
    }
}

/// READY=1 exactly once, from whichever thread learns it first.
final class ReadyOnce: Sendable {
    private let notifier: SystemdNotifier
    private let done = Synchronization.Atomic<Bool>(false)
    init(notifier: SystemdNotifier) { self.notifier = notifier }
    func fire() {
        if !done.exchange(true, ordering: .relaxed) { notifier.ready() }
    }
}
