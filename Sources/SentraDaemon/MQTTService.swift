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
