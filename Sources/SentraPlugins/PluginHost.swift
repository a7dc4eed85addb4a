import Foundation
import Logging
import SentraAlertLog
import SentraCore
import SentraLocale
import SentraWire
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Delivers the alert log to every configured plugin, at least once, in seq order.
///
/// The alert log is the queue: the ingest thread only appends to it (the log wakes the host
/// through `AlertLog.onAppend`), and each plugin's worker reads it from that plugin's cursor
/// (`<state_dir>/plugins/<name>.cursor`, the last acknowledged seq, written atomically), so a
/// plugin that crashes, hangs or writes garbage delays only itself, and after a plugin or
/// daemon restart gets again what it had not acknowledged. Memory per plugin is bounded by
/// `Settings.batch` lines; disk by the log's retention (`AlertLog.Settings.maxKeptBytes`).
///
/// Supervision: a failed delivery (crash, timeout, garbage, nack, refused handshake)
/// restarts the plugin after an exponential backoff and retries the same event. After
/// `failuresBeforeAlert` failures in a row the host writes a `plugin_failing` alert (label
/// `component: <plugin>`), resolved at the next successful delivery.
///
/// `run()` returns when its task is cancelled (a ServiceGroup's graceful shutdown).
public final class PluginHost: Sendable {
    public struct Settings: Sendable {
        public var initialBackoff: Duration = .milliseconds(500)
        public var maxBackoff: Duration = .seconds(60)
        public var failuresBeforeAlert = 3
        /// Lines read from the log at a time, per plugin.
        public var batch = 64
        /// A worker also looks at the log this often without being woken.
        public var idlePoll: Duration = .seconds(5)
        /// Where the shipped external plugins live: `builtin: alertmanager` runs
        /// `<pluginDirectory>/alertmanager/sentra-alertmanager`.
        public var pluginDirectory = "/usr/lib/sentra/plugins"
        /// How long a starting plugin may take to answer the handshake (interpreters start slowly
        /// on a loaded machine; the per-event `timeout` is usually much shorter).
        public var handshakeTimeout: Duration = .seconds(15)
        /// How long a stopped plugin may take to exit before SIGKILL.
        public var stopGrace: Duration = .seconds(2)
        /// The sentra's name, told to plugins in the handshake.
        public var sentraName = ""
        /// The sentra's id: told in the handshake and added to every event as `sentra`.
        public var sentraID: String?
        /// What a plugin may send: its alerts' rate and shape, its lines' length and rate.
        public var bounds = PluginBounds()
        public init() {}
    }

    private let log: AlertLog
    private let plugins: [PluginSpec]
    private let stateDirectory: String
    private let sinks: SinkRegistry
    private let settings: Settings
    private let logger: Logger
    private let wakes: [WakeSignal]
    private let healthTable: Mutex<[PluginHealth]>
    private let gates: [PluginAlertGate]

    public init(
        log: AlertLog, plugins: [PluginSpec], stateDirectory: String, sinks: SinkRegistry = .standard,
        settings: Settings = .init(), logger: Logger = Logger(label: "sentra.plugins")
    ) throws {
        self.log = log
        self.plugins = plugins
        self.stateDirectory = stateDirectory
        self.sinks = sinks
        self.settings = settings
        self.logger = logger
        // The name becomes a file name (its cursor): the configuration refuses other names,
        // and so does the host.
        for p in plugins where !DeviceTopic.isValidID(p.name) {
            throw PluginError(plugin: p.name, reason: "the name is not 1 to 63 characters of a-z 0-9 _ - starting with a letter or digit")
        }
        gates = plugins.map { p in
            var l = logger
            l[metadataKey: "sentra.plugin"] = "\(p.name)"
            return PluginAlertGate(plugin: p.name, bounds: settings.bounds, logger: l)
        }
        wakes = plugins.map { _ in WakeSignal() }
        healthTable = Mutex(plugins.map { PluginHealth(name: $0.name) })
        // Writes to a plugin that died must fail with EPIPE, not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        try FileManager.default.createDirectory(atPath: cursorDirectory, withIntermediateDirectories: true)
        // Cursors are registered before anything is appended, so rotation keeps what they need.
        for p in plugins {
            var c = readCursor(p.name) ?? log.lastSeq
            if c > log.lastSeq {
                // The log was deleted and begun again: a cursor past its end would wait forever.
                logger.warning(
                    "plugin cursor past the end of the alert log; the log was reset",
                    metadata: ["sentra.plugin": "\(p.name)", "sentra.cursor": "\(c)", "sentra.seq": "\(log.lastSeq)"])
                c = log.lastSeq
            }
            try writeCursor(p.name, c)
            log.setCursor(plugin: p.name, seq: c)
        }
        let wakes = self.wakes
        log.onAppend { _ in for w in wakes { w.signal() } }
    }

    /// Each plugin's health as of now, in configuration order (for `/metrics` and the API).
    public var health: [PluginHealth] { healthTable.withLock { $0 } }

    private func updateHealth(_ name: String, _ body: (inout PluginHealth) -> Void) {
        healthTable.withLock { table in
            if let i = table.firstIndex(where: { $0.name == name }) { body(&table[i]) }
        }
    }

    /// Wakes every plugin worker (the log does this on each append).
    public func wake() {
        for w in wakes { w.signal() }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for (i, spec) in plugins.enumerated() {
                group.addTask { await self.work(spec, wake: self.wakes[i], gate: self.gates[i]) }
            }
            // An idle worker also looks again every `idlePoll` (a plugin that died while idle
            // is noticed): one ticker wakes them all, so a worker's wait is a plain
            // continuation that an append resumes in one hop, with no timer of its own.
            guard !plugins.isEmpty else { return }
            let (wakes, every) = (self.wakes, settings.idlePoll)
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: every)
                    for w in wakes { w.signal() }
                }
            }
        }
    }

    // MARK: - Cursors

    private var cursorDirectory: String { (stateDirectory as NSString).appendingPathComponent("plugins") }
    private func cursorPath(_ name: String) -> String { (cursorDirectory as NSString).appendingPathComponent("\(name).cursor") }

    /// The last acknowledged seq of a plugin, from its cursor file.
    public func cursor(_ name: String) -> Int64? { DeviceTopic.isValidID(name) ? readCursor(name) : nil }

    private func readCursor(_ name: String) -> Int64? {
        guard let s = try? String(contentsOfFile: cursorPath(name), encoding: .utf8) else { return nil }
        return Int64(s.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Atomic (temporary file and rename), not fsync'd: losing the last update re-delivers,
    /// which at-least-once allows.
    private func writeCursor(_ name: String, _ seq: Int64) throws {
        try Data("\(seq)\n".utf8).write(to: URL(fileURLWithPath: cursorPath(name)), options: .atomic)
    }

    // MARK: - One plugin

    private enum Transport {
        case sink(any AlertSink)
        case process(ExternalPlugin)
    }

    private struct Health {
        var failures = 0
        var firstFailure: Int64 = 0
        var alerting = false
        var backoff: Duration
    }

    /// The program of an external plugin: its `command`, or for `builtin: <name>` that is not
    /// an in-process sink, `<pluginDirectory>/<name>/sentra-<name>`.
    static func command(for spec: PluginSpec, pluginDirectory: String) -> [String]? {
        if !spec.command.isEmpty { return spec.command }
        guard let b = spec.builtin else { return nil }
        let dir = (pluginDirectory as NSString).appendingPathComponent(b)
        return [(dir as NSString).appendingPathComponent("sentra-\(b)")]
    }

    private func start(_ spec: PluginSpec, wake: WakeSignal, gate: PluginAlertGate) async throws -> Transport {
        var log = logger
        log[metadataKey: "sentra.plugin"] = "\(spec.name)"
        if let b = spec.builtin, let f = sinks.factory(b) {
            return .sink(
                try f(SinkContext(spec: spec, stateDirectory: stateDirectory, timeZone: self.log.timeZone, logger: log)))
        }
        guard let cmd = Self.command(for: spec, pluginDirectory: settings.pluginDirectory) else {
            throw PluginError(plugin: spec.name, reason: "no command")
        }
        let pluginLogger = log
        let p = try ExternalPlugin(
            spec: spec, command: cmd, environment: Self.environment(spec, stateDirectory: stateDirectory),
            logger: pluginLogger,
            onAlert: { ev in self.admit(ev, spec: spec, gate: gate) }, onExit: { wake.signal() }, bounds: settings.bounds)
        try await Self.handshake(
            p, spec: spec,
            context: HandshakeContext(
                sentraName: settings.sentraName, sentraID: settings.sentraID, timeZone: self.log.timeZone, stateDirectory: stateDirectory,
                timeout: max(settings.handshakeTimeout, .milliseconds(spec.timeoutMillis))))
        return .process(p)
    }

    /// An alert the plugin sent: into the log if its gate lets it through; a spell of drops
    /// begins with a `plugin_alerts_dropped` alert about the plugin.
    private func admit(_ ev: AlertEvent, spec: PluginSpec, gate: PluginAlertGate) {
        let verdict = gate.admit(ev, now: now())
        switch verdict {
        case .append(let e):
            do { try log.append(e) } catch { logger.error("cannot write a plugin's alert: \(error)") }
        case .dropped(let begins):
            if begins {
                appendOwn(
                    spec, rule: "plugin_alerts_dropped", status: .firing, started: now(), value: nil,
                    summary: words.text("alert.plugin.dropping", ["plugin": spec.name]))
            }
        case .invalid: break
        }
        let c = gate.counts
        updateHealth(spec.name) {
            $0.alertsAccepted = c.accepted
            $0.alertsDropped = c.dropped
            $0.alertsInvalid = c.invalid
        }
    }

    /// Ends a spell of dropped alerts that has been quiet for a minute.
    private func tick(_ spec: PluginSpec, gate: PluginAlertGate) {
        guard let dropped = gate.tick(now: now()) else { return }
        appendOwn(
            spec, rule: "plugin_alerts_dropped", status: .resolved, started: now(), value: Double(dropped),
            summary: words.text("alert.plugin.dropping_ended", ["plugin": spec.name, "dropped": String(dropped)]))
    }

    static func environment(_ spec: PluginSpec, stateDirectory: String) -> [String: String] {
        ["SENTRA_PLUGIN_NAME": spec.name, "SENTRA_STATE_DIR": stateDirectory, "SENTRA_PROTOCOL": "\(pluginProtocolVersion)"]
    }

    /// Hands one event to an in-process sink, cancelling it after the plugin's timeout.
    static func deliver(_ event: AlertEvent, to sink: any AlertSink, spec: PluginSpec) async throws {
        let timeout = Duration.milliseconds(spec.timeoutMillis)
        try await withThrowingTaskGroup(of: Bool.self) { g in
            g.addTask {
                try await sink.deliver(event)
                return true
            }
            g.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let done = try await g.next()!
            g.cancelAll()
            if !done { throw PluginError(plugin: spec.name, reason: "delivery of \(event.seq) timed out") }
        }
    }

    /// Sends one event (`line`: its alert-log line) to an external plugin and waits for its
    /// ack within the plugin's timeout; throws on a nack, garbage, a timeout or an exit.
    static func deliver(_ event: AlertEvent, line: String, sentra: String?, to p: ExternalPlugin, spec: PluginSpec) async throws {
        guard p.send(PluginMessage.eventLine(seq: event.seq, alertLogLine: line, sentra: sentra)) else {
            throw PluginError(plugin: spec.name, reason: "cannot write event \(event.seq): the plugin is gone or not reading")
        }
        let deadline = ContinuousClock.now + .milliseconds(spec.timeoutMillis)
        while true {
            let left = deadline - ContinuousClock.now
            switch await p.reply(timeout: max(left, .zero)) {
            case .value(.ack(let seq)) where seq == event.seq: return
            case .value(.ack), .value(.hello): continue  // a stale ack: keep waiting
            case .value(.nack(_, let error)): throw PluginError(plugin: spec.name, reason: "refused event \(event.seq): \(error)")
            case .value(.garbage(let g)): throw PluginError(plugin: spec.name, reason: "wrote garbage: \(g)")
            case .timeout: throw PluginError(plugin: spec.name, reason: "no ack for event \(event.seq) within \(spec.timeoutMillis) ms")
            case .closed: throw PluginError(plugin: spec.name, reason: "exited before acknowledging event \(event.seq)")
            case .cancelled: throw CancellationError()
            }
        }
    }

    private func deliver(_ t: Transport, spec: PluginSpec, event: AlertEvent, line: String) async throws {
        switch t {
        case .sink(let sink): try await Self.deliver(event, to: sink, spec: spec)
        case .process(let p): try await Self.deliver(event, line: line, sentra: settings.sentraID, to: p, spec: spec)
        }
    }

    private func stop(_ t: Transport?, grace: Duration) async {
        if case .process(let p) = t { await p.stop(grace: grace) }
    }

    private func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private func failed(_ spec: PluginSpec, _ error: any Error, health h: inout Health) {
        if h.failures == 0 { h.firstFailure = now() }
        h.failures += 1
        let failures = h.failures
        updateHealth(spec.name) {
            $0.up = false
            $0.consecutiveFailures = failures
            $0.failures += 1
            $0.lastError = "\(error)"
        }
        logger.warning(
            "plugin failed", metadata: ["sentra.plugin": "\(spec.name)", "sentra.failures": "\(h.failures)", "sentra.error": "\(error)"])
        guard h.failures >= settings.failuresBeforeAlert, !h.alerting else { return }
        h.alerting = true
        let firing = appendOwn(
            spec, rule: "plugin_failing", status: .firing, started: h.firstFailure, value: Double(h.failures),
            summary: words.text(
                "alert.plugin.failing", ["plugin": spec.name, "failures": String(h.failures), "error": "\(error)"]))
        updateHealth(spec.name) { $0.failing = firing }
    }

    private func healthy(_ spec: PluginSpec, health h: inout Health) {
        if h.alerting {
            appendOwn(
                spec, rule: "plugin_failing", status: .resolved, started: h.firstFailure, value: Double(h.failures),
                summary: words.text("alert.plugin.works_again", ["plugin": spec.name]))
            logger.info("plugin healthy again", metadata: ["sentra.plugin": "\(spec.name)"])
        }
        h = Health(backoff: settings.initialBackoff)
        updateHealth(spec.name) {
            $0.up = true
            $0.consecutiveFailures = 0
            $0.failing = nil
        }
    }

    /// The words of the host's own alerts, in the sentra's language (the alert log's).
    private var words: Catalogue { Catalogue.of(log.language) }

    @discardableResult
    private func appendOwn(
        _ spec: PluginSpec, rule: String, status: AlertStatus, started: Int64, value: Double?, summary: String
    ) -> AlertEvent {
        let ev = AlertEvent(
            ts: now(), rule: rule, status: status, severity: .warning, labels: ["component": spec.name],
            value: value, summary: summary, started: started)
        do { try log.append(ev) } catch { logger.error("cannot write \(rule): \(error)") }
        return ev
    }

    /// What one plugin's worker holds between turns.
    private struct Worker {
        /// The last seq the plugin acknowledged (or skipped by severity).
        var cursor: Int64
        var follower: AlertLogFollower
        var transport: Transport?
        var health: Health
        /// Lines read from the log and not yet handed on.
        var pending: [AlertLogLine] = []
    }

    /// What a worker does after one step.
    private enum Step {
        case proceed
        /// Start the turn again (after a failure and its backoff, or a wait).
        case again
        case stop
    }

    /// One plugin's life: start it, hand it each line of the log after its cursor, restart it
    /// after a failure, until the task is cancelled.
    private func work(_ spec: PluginSpec, wake: WakeSignal, gate: PluginAlertGate) async {
        let cursor = readCursor(spec.name) ?? log.lastSeq
        var w = Worker(
            cursor: cursor, follower: AlertLogFollower(path: log.path, after: cursor), health: Health(backoff: settings.initialBackoff))
        turns: while !Task.isCancelled {
            tick(spec, gate: gate)
            switch await ensureRunning(spec, wake: wake, gate: gate, &w) {
            case .proceed: break
            case .again: continue turns
            case .stop: break turns
            }
            guard let line = await nextLine(spec, wake: wake, &w) else { continue }
            if await handOn(line, spec: spec, &w) == .stop { break }
        }
        await stop(w.transport, grace: settings.stopGrace)
    }

    /// Starts the plugin unless it runs; a process that died counts as a failure.
    private func ensureRunning(_ spec: PluginSpec, wake: WakeSignal, gate: PluginAlertGate, _ w: inout Worker) async -> Step {
        if case .process(let p) = w.transport, !p.isAlive {
            await stop(w.transport, grace: .zero)
            w.transport = nil
            failed(spec, PluginError(plugin: spec.name, reason: "exited"), health: &w.health)
            await backOff(&w.health)
            return .again
        }
        guard w.transport == nil else { return .proceed }
        do {
            w.transport = try await start(spec, wake: wake, gate: gate)
            if w.health.failures == 0 { updateHealth(spec.name) { $0.up = true } }
            return .proceed
        } catch is CancellationError {
            return .stop
        } catch {
            failed(spec, error, health: &w.health)
            await backOff(&w.health)
            return .again
        }
    }

    /// The next line to hand on, or nil after waiting for one to be appended (or made durable).
    private func nextLine(_ spec: PluginSpec, wake: WakeSignal, _ w: inout Worker) async -> AlertLogLine? {
        if w.pending.isEmpty { w.pending = w.follower.poll(maxLines: settings.batch) }
        guard let next = w.pending.first else {
            // Health is proven by a delivery, not by a start: a plugin that dies while idle
            // keeps counting failures (and backing off). The `plugin_failing` line is
            // itself delivered, so a recovered plugin resolves it promptly.
            await wake.wait()
            return nil
        }
        // A line can be read back after its write(2) and before its fsync returns: it is
        // handed on only once `append` has made it durable (docs/alerts.md).
        guard next.seq <= log.lastSeq else {
            await wake.wait()
            return nil
        }
        if next.seq > w.cursor + 1 {
            logger.error(
                "plugin missed alerts deleted from the log",
                metadata: ["sentra.plugin": "\(spec.name)", "sentra.seq_from": "\(w.cursor + 1)", "sentra.seq_to": "\(next.seq - 1)"])
        }
        return next
    }

    /// Delivers `line` (unless below the plugin's severity) and moves the cursor past it; a
    /// failed delivery stops the plugin and backs off, to retry the same line.
    private func handOn(_ line: AlertLogLine, spec: PluginSpec, _ w: inout Worker) async -> Step {
        guard let transport = w.transport else { return .again }
        if let event = AlertEvent.parse(line: line.text), event.severity >= spec.minSeverity {
            do {
                try await deliver(transport, spec: spec, event: event, line: line.text)
            } catch is CancellationError {
                return .stop
            } catch {
                if Task.isCancelled { return .stop }
                await stop(w.transport, grace: .zero)
                w.transport = nil
                failed(spec, error, health: &w.health)
                await backOff(&w.health)
                return .again
            }
            if w.health.failures > 0 { healthy(spec, health: &w.health) }
            updateHealth(spec.name) { $0.delivered += 1 }
        }
        w.pending.removeFirst()
        w.cursor = line.seq
        do { try writeCursor(spec.name, w.cursor) } catch { logger.error("cannot write plugin cursor: \(error)") }
        log.setCursor(plugin: spec.name, seq: w.cursor)
        let acked = w.cursor
        updateHealth(spec.name) { $0.ackedSeq = acked }
        return .proceed
    }

    /// Waits the current backoff, then doubles it (up to `maxBackoff`).
    private func backOff(_ h: inout Health) async {
        try? await Task.sleep(for: h.backoff)
        h.backoff = min(h.backoff * 2, settings.maxBackoff)
    }
}

/// How one plugin is doing, as the host last saw it.
public struct PluginHealth: Sendable, Equatable {
    public var name: String
    /// Started and not failing since its last delivery or start.
    public var up = false
    public var consecutiveFailures = 0
    /// Failures since the daemon started.
    public var failures = 0
    /// Events handed over and acknowledged since the daemon started.
    public var delivered = 0
    /// The last alert-log seq the plugin has acknowledged (or skipped by severity).
    public var ackedSeq: Int64?
    public var lastError: String?
    /// The `plugin_failing` alert firing about it, if any.
    public var failing: AlertEvent?
    /// Alerts of its own it sent since the daemon started: written to the log, dropped for
    /// the rate limit, refused as malformed (docs/plugins.md).
    public var alertsAccepted = 0
    public var alertsDropped = 0
    public var alertsInvalid = 0
    public init(name: String) { self.name = name }
}
