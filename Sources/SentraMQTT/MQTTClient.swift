import CMosquitto
import Foundation
import Logging
import Synchronization

/// How to reach the broker and what to subscribe to.
public struct MQTTOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 1883
    public var clientID: String?
    /// false: a persistent session, so QoS 1 messages wait at the broker while we are away.
    public var cleanSession = false
    public var keepAliveSeconds = 30
    public var username: String?
    public var password: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var reconnectMinSeconds = 1
    public var reconnectMaxSeconds = 30
    public var subscriptions: [(filter: String, qos: Int32)] = []
    /// The filters a persistent session held when last recorded (nil: not known). When the
    /// broker says it kept the session and these equal `subscriptions`, nothing is subscribed
    /// again (which would send every retained message again); otherwise the difference is
    /// subscribed and unsubscribed.
    public var previouslySubscribed: Set<String>?
    public var maxInflight = 100
    public init() {}
}

/// What happened to the connection.
public enum MQTTEvent: Sendable, Equatable {
    case connected(sessionPresent: Bool)
    case subscribed
    case connectFailed(reason: String)
    case disconnected(reason: String)
}

/// A libmosquitto failure, with the call and libmosquitto's own words.
public struct MQTTError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var code: Int32
    public var description: String { "\(call) failed: \(String(cString: mosquitto_strerror(code))) (\(code))" }
}

/// libmosquitto behind a narrow interface. Its network thread (`mosquitto_loop_start`) runs
/// the callbacks; a message is handed to `onMessage` in libmosquitto's own buffers (no copy,
/// no allocation), and `onMessage` must not keep the pointers. Reconnects with bounded exponential backoff are libmosquitto's own.
public final class MQTTClient: @unchecked Sendable {
    /// Topic and payload point into libmosquitto's buffers: valid during the call only.
    public typealias MessageHandler = @Sendable (_ topic: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer, _ qos: Int32) -> Void

    private let options: MQTTOptions
    /// What to subscribe to now (a reload may change it) and what the session holds.
    private let filters: Mutex<(wanted: [(filter: String, qos: Int32)], held: Set<String>?)>
    private let logger: Logger
    private let onMessage: MessageHandler
    private let onEvent: @Sendable (MQTTEvent) -> Void
    private var handle: OpaquePointer?
    private var unmanaged: Unmanaged<MQTTClient>?
    private let published = NSCondition()
    private var outstanding: Set<Int32> = []

    private static let initialized: Void = { mosquitto_lib_init() }()

    public init(
        options: MQTTOptions, logger: Logger, onMessage: @escaping MessageHandler = { _, _, _ in },
        onEvent: @escaping @Sendable (MQTTEvent) -> Void = { _ in }
    ) {
        _ = Self.initialized
        self.options = options
        filters = Mutex((options.subscriptions, options.previouslySubscribed))
        self.logger = logger
        self.onMessage = onMessage
        self.onEvent = onEvent
    }

    deinit {
        if let handle { mosquitto_destroy(handle) }
    }

    /// Connects in the background and keeps reconnecting until `stop()`.
    public func start() throws {
        precondition(handle == nil, "start() once")
        let box = Unmanaged.passRetained(self)
        unmanaged = box
        guard let mosq = mosquitto_new(options.clientID, options.cleanSession, box.toOpaque()) else {
            box.release()
            throw MQTTError(call: "mosquitto_new", code: MOSQ_ERR_NOMEM.rawValue)
        }
        handle = mosq
        _ = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
        try check(mosquitto_max_inflight_messages_set(mosq, UInt32(options.maxInflight)), "mosquitto_max_inflight_messages_set")
        if let u = options.username {
            try check(mosquitto_username_pw_set(mosq, u, options.password), "mosquitto_username_pw_set")
        }
        if options.caFile != nil || options.certFile != nil {
            try check(mosquitto_tls_set(mosq, options.caFile, nil, options.certFile, options.keyFile, nil), "mosquitto_tls_set")
        }
        try check(
            mosquitto_reconnect_delay_set(mosq, UInt32(options.reconnectMinSeconds), UInt32(options.reconnectMaxSeconds), true),
            "mosquitto_reconnect_delay_set")
        mosquitto_connect_with_flags_callback_set(mosq) { _, obj, rc, flags in
            MQTTClient.from(obj).connected(rc: rc, flags: flags)
        }
        mosquitto_disconnect_callback_set(mosq) { _, obj, rc in
            MQTTClient.from(obj).disconnected(rc: rc)
        }
        mosquitto_subscribe_callback_set(mosq) { _, obj, _, _, _ in
            MQTTClient.from(obj).onEvent(.subscribed)
        }
        mosquitto_publish_callback_set(mosq) { _, obj, mid in
            MQTTClient.from(obj).publishCompleted(mid)
        }
        mosquitto_message_callback_set(mosq) { _, obj, msg in
            guard let msg else { return }
            let m = msg.pointee
            let topic = UnsafeRawBufferPointer(start: m.topic, count: m.topic.map { strlen($0) } ?? 0)
            let payload = UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen))
            MQTTClient.from(obj).onMessage(topic, payload, m.qos)
        }
        // A refused first attempt is not fatal: the loop thread retries with backoff.
        let rc = mosquitto_connect_async(mosq, options.host, Int32(options.port), Int32(options.keepAliveSeconds))
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            logger.warning(
                "broker not reachable yet, will retry",
                metadata: ["mqtt.host": "\(options.host):\(options.port)", "mqtt.error": "\(String(cString: mosquitto_strerror(rc)))"])
            onEvent(.connectFailed(reason: String(cString: mosquitto_strerror(rc))))
        }
        try check(mosquitto_loop_start(mosq), "mosquitto_loop_start")
    }

    /// Queues a message; returns at once. `waitForPublished` waits until QoS>0 ones are acknowledged.
    @discardableResult
    public func publish(topic: String, payload: UnsafeRawBufferPointer, qos: Int32 = 1, retain: Bool = false) throws -> Int32 {
        guard let handle else { throw MQTTError(call: "mosquitto_publish", code: MOSQ_ERR_NO_CONN.rawValue) }
        var mid: Int32 = 0
        published.lock()
        defer { published.unlock() }
        let rc = mosquitto_publish(handle, &mid, topic, Int32(payload.count), payload.baseAddress, qos, retain)
        try check(rc, "mosquitto_publish")
        if qos > 0 { outstanding.insert(mid) }
        return mid
    }

    @discardableResult
    public func publish(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) throws -> Int32 {
        try payload.withUnsafeBytes { try publish(topic: topic, payload: $0, qos: qos, retain: retain) }
    }

    /// Messages published with QoS > 0 and not yet acknowledged by the broker.
    public var unacknowledged: Int {
        published.lock()
        defer { published.unlock() }
        return outstanding.count
    }

    /// Blocks until at most `limit` published messages await acknowledgement, or `timeout` passes.
    /// Returns false on timeout.
    @discardableResult
    public func waitForPublished(atMost limit: Int = 0, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        published.lock()
        defer { published.unlock() }
        while outstanding.count > limit {
            if !published.wait(until: deadline) { return false }
        }
        return true
    }

    /// Disconnects and stops the network thread.
    public func stop() {
        guard let handle else { return }
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
        mosquitto_destroy(handle)
        self.handle = nil
        unmanaged?.release()
        unmanaged = nil
    }

    // MARK: Callbacks (libmosquitto's thread)

    private static func from(_ obj: UnsafeMutableRawPointer?) -> MQTTClient {
        Unmanaged<MQTTClient>.fromOpaque(obj!).takeUnretainedValue()
    }

    private func connected(rc: Int32, flags: Int32) {
        guard rc == 0 else {
            let reason = String(cString: mosquitto_connack_string(rc))
            logger.warning("broker refused the connection", metadata: ["mqtt.reason": "\(reason)"])
            onEvent(.connectFailed(reason: reason))
            return
        }
        let sessionPresent = flags & 1 != 0
        logger.info(
            "connected to broker",
            metadata: ["mqtt.host": "\(options.host):\(options.port)", "mqtt.session_present": "\(sessionPresent)"])
        onEvent(.connected(sessionPresent: sessionPresent))
        let (wanted, held) = filters.withLock { ($0.wanted, $0.held) }
        guard !wanted.isEmpty else { return }
        if sessionPresent, let held, held == Set(wanted.map(\.filter)) {
            // The broker kept our subscriptions with the session.
            onEvent(.subscribed)
            return
        }
        let stale = sessionPresent ? (held ?? []).subtracting(wanted.map(\.filter)) : []
        apply(subscribe: wanted, unsubscribe: stale.sorted())
    }

    /// The filters subscribed to from now on (a reload): the new ones are subscribed, the
    /// dropped ones unsubscribed, at once when connected, else at the next connection.
    public func setSubscriptions(_ new: [(filter: String, qos: Int32)]) {
        let old = filters.withLock { f in
            defer { f.wanted = new }
            return Set(f.wanted.map(\.filter))
        }
        let added = new.filter { !old.contains($0.filter) }
        let removed = old.subtracting(new.map(\.filter)).sorted()
        if !added.isEmpty || !removed.isEmpty { apply(subscribe: added, unsubscribe: removed) }
    }

    private func apply(subscribe: [(filter: String, qos: Int32)], unsubscribe: [String]) {
        guard let handle else { return }
        for f in unsubscribe {
            let rc = mosquitto_unsubscribe(handle, nil, f)
            if rc != 0 {
                logger.warning(
                    "unsubscribe failed", metadata: ["mqtt.topic": "\(f)", "mqtt.error": "\(String(cString: mosquitto_strerror(rc)))"])
            }
        }
        for s in subscribe {
            let rc = mosquitto_subscribe(handle, nil, s.filter, s.qos)
            if rc != 0 {
                logger.error(
                    "subscribe failed", metadata: ["mqtt.topic": "\(s.filter)", "mqtt.error": "\(String(cString: mosquitto_strerror(rc)))"])
            }
        }
    }

    private func disconnected(rc: Int32) {
        let reason = rc == 0 ? "closed" : String(cString: mosquitto_strerror(rc))
        if rc != 0 { logger.warning("lost the broker, reconnecting", metadata: ["mqtt.reason": "\(reason)"]) }
        onEvent(.disconnected(reason: reason))
    }

    private func publishCompleted(_ mid: Int32) {
        published.lock()
        outstanding.remove(mid)
        published.broadcast()
        published.unlock()
    }

    private func check(_ rc: Int32, _ call: String) throws {
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw MQTTError(call: call, code: rc) }
    }
}
