import Foundation
import Logging
import SentraAlerts
import SentraConfig
import SentraCore
import SentraMQTT
import SentraStore
import ServiceLifecycle
import Synchronization

/// Wall clock in ms since the epoch; injected so tests can drive time.
public typealias MillisClock = @Sendable () -> Int64

public let systemMillis: MillisClock = { Int64(Date().timeIntervalSince1970 * 1000) }

/// The ingest thread: takes messages off the queue, runs them through the pipeline and
/// commits baselines and buckets together every `commitInterval`. One dedicated thread,
/// so the hot path has no locks or actor hops per reading.
public final class IngestService: Service, @unchecked Sendable {
    private let queue: MessageQueue
    private let store: ProductionStore
    private let status: DaemonStatus
    private let logger: Logger
    private let clock: MillisClock
    private let reloadMailbox = Mutex<Configuration?>(nil)
    private var configuration: Configuration
    private var pipeline: IngestPipeline
    private let observer: DaemonObserver
    private let alertLog: AlertLog
    private let engine: AlertEngine
    private let alertStates = AlertStatePersistence()
    private var lastPrune: Int64 = 0
    private var lastCommittedStats = IngestStats()
    private let startedAt: Int64
    /// Set when the engine emitted an event: its state is committed at once, so a crash
    /// cannot make the next start fire it again.
    private let alertFlag: AlertFlag
    private let committer: SerialWorker<CommitJob>
    private let alertWriter: SerialWorker<AlertEvent>
    /// Where the HTTP face reads devices' latest values and the firing alerts.
    public let live: LiveState

    public init(
        configuration: Configuration, queue: MessageQueue, store: ProductionStore, alertLog: AlertLog, status: DaemonStatus,
        logger: Logger, live: LiveState = LiveState(), clock: @escaping MillisClock = systemMillis
    ) throws {
        self.live = live
        self.configuration = configuration
        self.queue = queue
        self.store = store
        self.status = status
        self.logger = logger
        self.clock = clock
        startedAt = clock()
        let saved = try store.loadDeviceStates()
        pipeline = IngestPipeline(
            registry: configuration.registry, settings: configuration.ingest, calendar: configuration.calendar, devices: saved)
        observer = DaemonObserver(
            logger: logger, clock: clock, tracker: LiveTracker(registry: configuration.registry, restored: pipeline.devices))
        pipeline.observer = observer
        self.alertLog = alertLog
        let flag = AlertFlag()
        let writer = makeAlertWriter(log: alertLog, logger: logger)
        alertWriter = writer
        committer = makeCommitter(store: store, alertWriter: writer, status: status, logger: logger)
        engine = AlertEngine(
            registry: configuration.registry, rules: configuration.rules, calendar: configuration.calendar, startedAt: startedAt,
            usualRates: StoreUsualRates(store: store, timeZone: configuration.calendar.timeZone), logger: logger
        ) { event in
            writer.submit(event)
            flag.set = true
        }
        alertFlag = flag
        engine.restore(try alertStates.restore(from: store))
        observer.forward = engine
        publishLive()
        logger.info("state loaded", metadata: ["sentra.devices": "\(saved.count)", "sentra.database": "\(store.path)"])
    }

    /// Hands a new, valid configuration to the ingest thread (SIGHUP).
    public func reload(_ configuration: Configuration) {
        reloadMailbox.withLock { $0 = configuration }
    }

    public func run() async throws {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                do {
                    try loop()
                    cont.resume()
                } catch {
                    cont.resume(throwing: error)
                }
            }
            thread.name = "sentra-ingest"
            thread.start()
        } as Void
    }

    /// Drains until the queue is closed (the MQTT service closes it when it stops).
    private func loop() throws {
        var batch: [ReceivedMessage] = []
        batch.reserveCapacity(1024)
        let interval = max(configuration.commitIntervalMillis, 10)
        var nextCommit = clock() + interval
        prune()
        while true {
            batch.removeAll(keepingCapacity: true)
            let wait = Date(timeIntervalSince1970: Double(nextCommit) / 1000)
            queue.pop(into: &batch, max: 1024, deadline: wait)
            for m in batch {
                m.payload.withUnsafeBytes { pipeline.ingest(topic: m.topic, payload: $0, now: m.receivedAt) }
            }
            let now = clock()
            if alertFlag.set {
                alertFlag.set = false
                commit()
            }
            if let newConfig = reloadMailbox.withLock({ c -> Configuration? in
                defer { c = nil }; return c
            }) {
                apply(newConfig)
            }
            let closed = queue.isClosed && queue.depth == 0 && batch.isEmpty
            if now >= nextCommit || closed {
                commit()
                nextCommit = now + interval
                observer.tick(now: now)
                engine.tick(now: now)
                if now - lastPrune > 3_600_000 { prune() }
            }
            if closed { break }
        }
        alertWriter.close()
        committer.close()
        try? store.checkpoint()
        logger.info("ingest stopped, state committed", metadata: ["sentra.accepted": "\(pipeline.stats.accepted)"])
    }

    private func apply(_ new: Configuration) {
        commit()
        configuration = new
        pipeline.settings = new.ingest
        pipeline.calendar = new.calendar
        let old = pipeline.registry
        pipeline.apply(registry: new.registry)
        observer.tracker.remap(from: old, to: new.registry)
        engine.reload(registry: new.registry, rules: new.rules)
        status.update { $0.reloads += 1 }
        logger.info(
            "configuration reloaded",
            metadata: [
                "sentra.workshops": "\(new.registry.workshops.count)", "sentra.looms": "\(new.registry.looms.count)",
                "sentra.devices": "\(new.registry.devices.count)",
            ])
    }

    /// Hands everything since the last commit to the committer thread: bucket deltas,
    /// changed device states (baselines), changed alert states and the ingest counts, which
    /// it writes in one transaction.
    private func commit() {
        let devices = pipeline.dirty.map { (IngestPipeline.stateKey(pipeline.registry.devices[$0]), pipeline.devices[$0]) }
        let statsChanged = pipeline.stats != lastCommittedStats
        let alertChanges = alertStates.changes(engine)
        if !pipeline.deltas.isEmpty || !devices.isEmpty || statsChanged || !alertChanges.rows.isEmpty || alertChanges.replaceAll {
            let meta = statsChanged ? [("ingest_stats", Self.statsJSON(pipeline.stats, since: startedAt, at: clock()))] : []
            committer.submit(
                .init(
                    batch: .init(
                        deltas: pipeline.deltas, devices: devices, alertStates: alertChanges.rows,
                        replaceAlertStates: alertChanges.replaceAll, meta: meta),
                    registry: pipeline.registry, calendar: pipeline.calendar,
                    alertTicket: alertChanges.rows.isEmpty ? nil : alertWriter.lastTicket))
            lastCommittedStats = pipeline.stats
            pipeline.deltas.removeAll()
            pipeline.markClean()
        }
        let stats = pipeline.stats
        let depth = queue.depth
        status.update {
            $0.stats = stats
            $0.queueDepth = depth
        }
        publishLive()
    }

    private func publishLive() {
        live.publish(
            LiveSnapshot(
                registry: pipeline.registry, devices: observer.tracker.devices,
                firing: engine.firingByRule.map { FiringRuleAlert(rule: $0.rule, alert: $0.alert) }))
    }

    /// This run's counts, as `sentractl status` shows them.
    static func statsJSON(_ s: IngestStats, since: Int64, at: Int64) -> String {
        let reasons = RejectReason.allCases.map { (r: RejectReason) in (r.name, String(s[r])) }
        return JSONText.object([
            ("since_ms", String(since)), ("updated_ms", String(at)), ("accepted", String(s.accepted)),
            ("rejected_total", String(s.totalRejected)), ("rejected", JSONText.object(reasons)),
            ("counter_events", JSONText.object([("glitch", String(s.glitches)), ("reset", String(s.resets))])),
            ("status_messages", String(s.statusMessages)),
        ])
    }

    private func prune() {
        lastPrune = clock()
        do {
            let n = try store.pruneHourly(
                olderThanDays: configuration.hourlyRetentionDays, registry: pipeline.registry, calendar: pipeline.calendar, now: lastPrune)
            if n > 0 { logger.info("hourly rows rolled up into daily rows", metadata: ["sentra.days": "\(n)"]) }
        } catch {
            logger.error("pruning hourly rows failed", metadata: ["sentra.error": "\(error)"])
        }
    }
}

/// Sees the pipeline's decisions on the ingest thread: logs rejections at a bounded rate
/// and forwards everything to the alert engine.
final class DaemonObserver: IngestObserver {
    private var log: RateLimitedLog
    private let clock: MillisClock
    var forward: (any IngestObserver)?
    var tracker: LiveTracker

    init(logger: Logger, clock: @escaping MillisClock, tracker: LiveTracker) {
        log = RateLimitedLog(logger: logger)
        self.clock = clock
        self.tracker = tracker
    }

    func tick(now: Int64) { log.roll(now) }

    func accepted(device: Int, reading: Reading, ts: Int64) {
        tracker.accepted(device: device, reading: reading, ts: ts)
        forward?.accepted(device: device, reading: reading, ts: ts)
    }
    func increased(device: Int, field: Field, by amount: Double, ts: Int64) {
        forward?.increased(device: device, field: field, by: amount, ts: ts)
    }
    func counterEvent(device: Int, field: Field, decision: CounterDecision, value: Double, ts: Int64) {
        forward?.counterEvent(device: device, field: field, decision: decision, value: value, ts: ts)
    }
    func status(device: Int, online: Bool, ts: Int64) {
        tracker.status(device: device, online: online)
        forward?.status(device: device, online: online, ts: ts)
    }
    func rejected(_ reason: RejectReason, topic: String, device: Int?) {
        log.rejected(reason, topic: topic, now: clock())
        forward?.rejected(reason, topic: topic, device: device)
    }
}

/// Set by the alert engine's emit closure (ingest thread only), read by the same thread.
final class AlertFlag: @unchecked Sendable {
    var set = false
}
