import Foundation
import Logging
import SentraAlertLog
import SentraAlerts
import SentraConfig
import SentraCore
import SentraJournal
import SentraPlugins
import SentraReadModel
import SentraStore
import SentraWire
import ServiceLifecycle
import Synchronization

/// Wall clock in ms since the epoch; injected so tests can drive time.
public typealias MillisClock = @Sendable () -> Int64

public let systemMillis: MillisClock = { Int64(Date().timeIntervalSince1970 * 1000) }

/// The ingest thread: reads messages out of the receive journal, runs them through the
/// pipeline and commits baselines, buckets and how far the journal is counted together every
/// `commitInterval`. One dedicated thread, so the hot path has no locks or actor hops per
/// reading. At start it first replays what the journal holds past the committed position (what
/// was received but not counted before the last stop), then lets the broker connection start.
public final class IngestService: Service, @unchecked Sendable {
    private let journal: ReceiveJournal
    private let store: ProductionStore
    private let status: DaemonStatus
    private let logger: Logger
    private let clock: MillisClock
    private let reloadMailbox = Mutex<(Configuration, then: @Sendable () -> Void)?>(nil)
    private var configuration: Configuration
    private var pipeline: IngestPipeline
    private let observer: DaemonObserver
    private let alertLog: AlertLog
    private let engine: AlertEngine
    private let usualRates: StoreUsualRates
    private let orders: StoreOrderOutlooks
    private let alertStates = AlertStatePersistence()
    private var lastPrune: Int64 = 0
    private var lastCommittedStats = IngestStats()
    private let startedAt: Int64
    /// Set when the engine emitted an event: its state is committed at once, so a crash
    /// cannot make the next start fire it again.
    private let alertFlag: AlertFlag
    private let committer: SerialWorker<CommitJob>
    private let alertWriter: AlertWriter
    /// Shared with the commit and alert-log threads: the stop, giving up, the failing alert.
    private let control: CommitControl
    /// Bumped every turn of the ingest loop; the watchdog pings only while it moves.
    private let liveness: Liveness
    /// Alert-log lines written after the committed alert states, matched against what the
    /// journal's replay emits again (such an event is not written twice).
    private let replayedLines: LoggedAlertLines
    /// The alert log's last line when the daemon started: after the replay, the states include
    /// the effect of every line up to it.
    private let logSeqAtStart: Int64
    /// Journal position of the last commit handed to the commit thread.
    private var submittedPosition: UInt64
    /// Opens once the journal's replay is committed: the broker connection waits for it.
    public let replayed = Gate()
    /// Where the HTTP face reads devices' latest values and the firing alerts.
    public let live: LiveState

    // Long: every part of the ingest side is made here, in the order they depend on each other.
    public init(
        configuration: Configuration, journal: ReceiveJournal, store: ProductionStore, alertLog: AlertLog, status: DaemonStatus,
        logger: Logger, live: LiveState = LiveState(), clock: @escaping MillisClock = systemMillis, stop: StopSignal = StopSignal(),
        liveness: Liveness = Liveness()
    ) throws {
        self.live = live
        self.liveness = liveness
        self.configuration = configuration
        self.journal = journal
        self.store = store
        self.status = status
        self.logger = logger
        self.clock = clock
        startedAt = clock()
        submittedPosition = journal.replayFrom
        let saved = try store.loadDeviceStates()
        pipeline = IngestPipeline(
            registry: configuration.registry, settings: configuration.ingest, calendar: configuration.calendar, devices: saved)
        observer = DaemonObserver(
            logger: logger, clock: clock, tracker: LiveTracker(registry: configuration.registry, restored: pipeline.devices),
            registry: configuration.registry)
        pipeline.observer = observer
        self.alertLog = alertLog
        logSeqAtStart = alertLog.lastSeq
        let committedSeq = try store.meta(ProductionStore.alertLogSeqKey).flatMap { Int64($0) }
        let lines = LoggedAlertLines(committedSeq.map { AlertLogReplay.lines(path: alertLog.path, after: $0) } ?? [])
        replayedLines = lines
        let flag = AlertFlag()
        let control = CommitControl(
            stop: stop, health: CommitHealth(status: status, alertLog: alertLog, databasePath: store.path, logger: logger, clock: clock),
            journal: journal, logger: logger)
        self.control = control
        let writer = AlertWriter(log: alertLog, control: control, logger: logger)
        alertWriter = writer
        committer = makeCommitter(store: store, alertWriter: writer, journal: journal, status: status, control: control, logger: logger)
        let usualRates = StoreUsualRates(store: store, timeZone: configuration.calendar.timeZone)
        self.usualRates = usualRates
        orders = StoreOrderOutlooks(store: store, configuration: configuration, logger: logger)
        engine = AlertEngine(
            registry: configuration.registry, rules: configuration.rules, calendar: configuration.calendar, startedAt: startedAt,
            usualRates: usualRates, orderOutlooks: orders, settings: .init(language: configuration.language), logger: logger
        ) { event in
            flag.set = true
            // Written before the crash, produced again by the replay: not a second line.
            if lines.consume(event) { return }
            writer.submit(event)
            flag.lines += 1
        }
        alertFlag = flag
        engine.restore(try alertStates.restore(from: store))
        engine.restoreHeard(pipeline.devices.map(\.heardAt))
        observer.forward = engine
        publishLive()
        logger.info(
            "state loaded",
            metadata: [
                "sentra.devices": "\(saved.count)", "sentra.database": "\(store.path)",
                "sentra.journal_replay_bytes": "\(journal.replayEnd - journal.replayFrom)",
                "sentra.alert_lines_after_commit": "\(lines.count)",
            ])
    }

    /// Hands a new, valid configuration to the ingest thread (SIGHUP).
    /// Hands a reloaded configuration to the ingest thread; `then` runs on that thread once
    /// it counts with it (the broker connection subscribes to new devices' topics only then,
    /// so none of their messages meets the old registry).
    public func reload(_ configuration: Configuration, then: @escaping @Sendable () -> Void = {}) {
        reloadMailbox.withLock { $0 = (configuration, then) }
    }

    public func run() async throws {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                ThreadRole.name("sentra-ingest")
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
        // The loop ends when the broker connection closes, during the group's shutdown but
        // before this service's turn; returning before it fails the group (a clean stop would
        // exit 2), so wait for the turn, which comes right after the MQTT service's.
        try? await gracefulShutdown()
    }

    @inline(__always) private func ingest(_ e: JournalEntry) {
        pipeline.ingest(topic: e.topic, payload: e.payload, now: e.receivedAt, payloadTooLarge: e.truncated)
    }

    /// What was received and not counted before the last stop, counted now, as one commit:
    /// a crash during the replay replays it again from the same position.
    private func replay() {
        let bytes = journal.replayEnd - journal.replayFrom
        if bytes > 0 {
            logger.info("replaying the receive journal", metadata: ["sentra.bytes": "\(bytes)"])
            let half = max(1, journal.replayCount / 2)
            while journal.readPosition < journal.replayEnd {
                journal.read(max: 4096, deadline: Date(), linger: 0) { e in
                    ingest(e)
                    FaultInjection.replaying.pass(limit: half)
                }
                liveness.beat()
            }
        }
        // Lines the replay did not produce again (silence and other clock-driven events).
        let unmatched = replayedLines.finish()
        engine.adopt(logged: unmatched)
        control.health.adopt(logged: unmatched)
        // Every line written before the start is now reflected in the engine's states; lines
        // the replay wrote follow them.
        commit(alertLogSeq: alertFlag.lines > 0 ? nil : logSeqAtStart, force: true, wait: true)
        if bytes > 0 {
            logger.info(
                "receive journal replayed",
                metadata: [
                    "sentra.accepted": "\(pipeline.stats.accepted)", "sentra.rejected": "\(pipeline.stats.totalRejected)",
                    "sentra.alert_lines_adopted": "\(unmatched.count)",
                ])
        }
        replayed.open()
    }

    /// Bytes read since the last commit that make a burst (about 2,000 readings) …
    static let catchUpBytes: UInt64 = 256 << 10
    /// … and the quiet after it that says the backlog is drained, ms.
    static let catchUpQuietMillis: Int64 = 5

    /// Drains until the journal is closed (the MQTT service closes it when it stops).
    ///
    /// While a commit fails (or is slow), the loop does not wait for it: it goes on reading the
    /// journal, counting into the pending batch and evaluating alerts, and hands everything
    /// since the last handed-over batch to the commit thread once it is free. Nothing is
    /// released from the journal before the commit that counted it, so the journal fills (and
    /// then the broker holds the rest): how far ingest can run ahead is the journal's size.
    /// A configuration reload waits for that commit (the batch's rows name devices by the
    /// registry they were counted with).
    private func loop() throws {
        liveness.beat()
        prune()
        replay()
        let interval = max(configuration.commitIntervalMillis, 10)
        // A commit also when a quarter of the journal waits, so the producer never waits for
        // one while the commit thread keeps up.
        let commitBytes = UInt64(journal.capacity / 4)
        var nextCommit = clock() + interval
        while true {
            liveness.beat()
            FaultInjection.ingestStall.pass()
            // A backlog caught up: after a burst of at least `catchUpBytes` since the last commit,
            // `catchUpQuietMillis` without a message commit it now, not at the interval, so the
            // report shows a drained backlog at once. A sentra's ordinary trickle never gets there.
            let burst = journal.readPosition - submittedPosition >= Self.catchUpBytes && !committer.isBusy
            var wakeAt = min(nextCommit, clock() + liveness.beatEveryMillis)
            if burst { wakeAt = min(wakeAt, clock() + Self.catchUpQuietMillis) }
            let n = journal.read(max: 1024, deadline: Date(timeIntervalSince1970: Double(wakeAt) / 1000)) { ingest($0) }
            let now = clock()
            if alertFlag.set || journal.readPosition - submittedPosition >= commitBytes || (burst && n == 0) {
                commit(publish: false)
            }
            if !committer.isBusy,
                let (newConfig, then) = reloadMailbox.withLock({ c -> (Configuration, then: @Sendable () -> Void)? in
                    defer { c = nil }; return c
                })
            {
                apply(newConfig)
                then()
            }
            let closed = n == 0 && journal.isDrained
            if now >= nextCommit || closed {
                commit(wait: closed)
                nextCommit = now + interval
                observer.tick(now: now)
                engine.tick(now: now)
                if now - lastPrune > 3_600_000 && status.snapshot.commitFailingSince == nil { prune() }
            }
            if closed { break }
        }
        alertWriter.close()
        committer.close()
        journal.stopSyncing()
        journal.removeRing()
        if control.abandoned {
            let bytes = journal.uncommittedBytes
            logger.critical(
                "ingest stopped without saving the state: the receive journal keeps what was not counted for the next start",
                metadata: ["sentra.accepted": "\(pipeline.stats.accepted)", "sentra.journal_uncommitted_bytes": "\(bytes)"])
            throw StateNotSaved(journalBytes: bytes)
        }
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
        observer.registry = new.registry
        // The time zone follows the configuration everywhere: counting hours, rule windows,
        // usual rates, the alert log's times (the HTTP face reads the log's).
        usualRates.timeZone = new.calendar.timeZone
        orders.configuration = new
        alertLog.timeZone = new.calendar.timeZone
        alertLog.language = new.language
        engine.reload(registry: new.registry, rules: new.rules, calendar: new.calendar, language: new.language)
        status.update { $0.reloads += 1 }
        logger.info(
            "configuration reloaded",
            metadata: [
                "sentra.workshops": "\(new.registry.workshops.count)", "sentra.looms": "\(new.registry.looms.count)",
                "sentra.devices": "\(new.registry.devices.count)",
            ])
    }

    /// Hands everything since the last commit to the committer thread: bucket deltas,
    /// changed device states (baselines), changed alert states, the ingest counts, how far
    /// the journal has been read, and which alert-log line the alert states follow from; it
    /// writes them in one transaction and then frees the journal's space.
    /// - Parameter alertLogSeq: the alert log's seq the states include, when no line was
    ///   written since the last commit (the replay's commit).
    ///   - wait: wait for the commit thread to take it (the start's and the last commits);
    ///     otherwise, while it is busy, everything stays pending for a later call.
    ///   - publish: publish the status and live snapshot even when the batch stays pending.
    private func commit(alertLogSeq: Int64? = nil, force: Bool = false, wait: Bool = false, publish: Bool = true) {
        let deferred = !wait && committer.isBusy
        if deferred {
            if publish { publishStatus() }
            return
        }
        alertFlag.set = false
        let devices = pipeline.dirty.map { (pipeline.registry.devices[$0].key, pipeline.devices[$0]) }
        let statsChanged = pipeline.stats != lastCommittedStats
        let alertChanges = alertStates.changes(engine)
        let position = journal.readPosition
        if force || position != submittedPosition || !pipeline.deltas.isEmpty || !devices.isEmpty || statsChanged
            || !pipeline.unknownTopics.isEmpty
            || !alertChanges.rows.isEmpty || alertChanges.replaceAll || alertFlag.lines > 0
        {
            let meta = statsChanged ? [("ingest_stats", Self.statsJSON(pipeline.stats, since: startedAt, at: clock()))] : []
            committer.submit(
                .init(
                    batch: .init(
                        deltas: pipeline.deltas, devices: devices, alertStates: alertChanges.rows,
                        replaceAlertStates: alertChanges.replaceAll, meta: meta, unknownTopics: pipeline.unknownTopics.take()),
                    registry: pipeline.registry, calendar: pipeline.calendar,
                    alertTicket: alertFlag.lines > 0 ? alertWriter.lastTicket : nil, alertLogSeq: alertLogSeq,
                    journal: JournalMark(journal: journal.identity, position: position),
                    carriesReadings: position != submittedPosition))
            alertFlag.lines = 0
            submittedPosition = position
            lastCommittedStats = pipeline.stats
            pipeline.deltas.removeAll()
            pipeline.markClean()
        }
        publishStatus()
    }

    /// The counts, the queue and the journal's use for `/metrics` and STATUS=, and the live
    /// snapshot for the HTTP face: at every commit, and every commit interval while one waits.
    private func publishStatus() {
        let stats = pipeline.stats
        let depth = journal.depth
        let used = journal.uncommittedBytes
        status.update {
            $0.stats = stats
            $0.queueDepth = depth
            $0.journalBytes = used
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
        // Integers and names only: encoding cannot fail.
        (try? WireJSON.line(IngestStatsRecord(sinceMs: since, updatedMs: at, counts: ReadingCounts(s)))) ?? "{}"
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
    /// The registry the pipeline's device indices refer to (for names in log lines).
    var registry: Registry

    init(logger: Logger, clock: @escaping MillisClock, tracker: LiveTracker, registry: Registry) {
        log = RateLimitedLog(logger: logger)
        self.clock = clock
        self.tracker = tracker
        self.registry = registry
    }

    /// Once per device and run: its clock is far off (readings far enough off are rejected as
    /// too old or in the future; the fix is on the device).
    func clockSkew(device: Int, millis: Int64) {
        guard device < registry.devices.count else { return }
        let d = registry.devices[device]
        log.logger.warning(
            "device clock differs from the receive time by \(millis / 1000) s: set the device's time zone or time server",
            metadata: ["sentra.device": "\(d.key)", "sentra.profile": "\(d.profile)", "sentra.skew_ms": "\(millis)"])
    }

    func tick(now: Int64) { log.roll(now) }

    func accepted(device: Int, reading: Reading, ts: Int64, receivedAt: Int64) {
        tracker.accepted(device: device, reading: reading, ts: ts)
        forward?.accepted(device: device, reading: reading, ts: ts, receivedAt: receivedAt)
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
    func rejected(_ reason: RejectReason, topic: UnsafeRawBufferPointer, device: Int?) {
        log.rejected(reason, topic: topic, now: clock())
        forward?.rejected(reason, topic: topic, device: device)
    }
}

/// The ingest thread stopped without saving the state (the daemon was stopped while commits
/// failed): the daemon exits 2; the receive journal keeps what was not counted.
struct StateNotSaved: Error, CustomStringConvertible {
    var journalBytes: Int
    var description: String {
        "the state could not be saved before the stop; \(journalBytes) bytes of the receive journal are kept and counted at the next start"
    }
}

/// Set by the alert engine's emit closure (ingest thread only), read by the same thread.
final class AlertFlag: @unchecked Sendable {
    /// An event was emitted: commit its state now.
    var set = false
    /// Lines handed to the alert-log writer since the last commit.
    var lines = 0
}
