import Foundation
import Logging
import SentraAlertLog
import SentraLocale
import SentraReadModel
import SentraStore
import SentraWire
import Synchronization

/// Whether the state is being saved, told the moment it stops: a commit that fails (a full
/// disk, a damaged database, an I/O error), or an alert-log line that cannot be written (the
/// commit waits for it), raises the daemon's own alert `state_commit_failing` (critical, label
/// `component: state`) through paths that do not need the failing disk:
///
/// - a critical journald entry at once (`SENTRA_ALERT=state_commit_failing`), and one line
///   every 60 attempts while it lasts;
/// - `DaemonStatus` (so `/metrics`, `/api/v1/status`, `/api/v1/alerts`, the dashboard and
///   `sentractl status`) at every attempt;
/// - the alert log's line (and so the plugins) when the log can be written: retried at each
///   failed attempt until it is.
///
/// The first commit that succeeds resolves it (a `resolved` line when the `firing` one was
/// written, and a notice in the journal).
final class CommitHealth: Sendable {
    static let rule = "state_commit_failing"

    private struct State {
        var failingSince: Int64?
        var attempts = 0
        var firing: AlertEvent?
        var lineWritten = false
        /// A `firing` line the last run left unresolved (it stopped while commits failed).
        var leftOver: AlertEvent?
    }

    /// Failed attempts at writing this alert's lines (logged at the first and every 60th).
    private let lineFailures = Atomic<Int>(0)

    private let state = Mutex(State())
    private let status: DaemonStatus
    private let alertLog: AlertLog
    private let logger: Logger
    private let databasePath: String
    private let clock: MillisClock

    init(status: DaemonStatus, alertLog: AlertLog, databasePath: String, logger: Logger, clock: @escaping MillisClock = systemMillis) {
        self.status = status
        self.alertLog = alertLog
        self.databasePath = databasePath
        self.logger = logger
        self.clock = clock
    }

    /// The last `firing` line of the rule that no `resolved` line followed, from the alert-log
    /// lines after the last commit: resolved by this run's first commit.
    func adopt(logged lines: [AlertEvent]) {
        var open: AlertEvent?
        for e in lines where e.rule == Self.rule { open = e.status == .firing ? e : nil }
        state.withLock { $0.leftOver = open }
    }

    /// A commit failed (`what`: "commit" or "alert log").
    func failed(_ error: any Error, what: String) {
        let now = clock()
        let failure = StoreFailure(error)
        // The alert in the sentra's language, the log line in English (for operators).
        let sentence = { (c: Catalogue) in
            c.text(
                what == "commit" ? "alert.state_commit.commit" : "alert.state_commit.alert_log",
                ["failure": c.text("alert.store_failure.\(failure.rawValue)"), "path": self.databasePath])
        }
        let summary = sentence(Catalogue.of(alertLog.language))
        let logged = sentence(Catalogue.of(.en))
        let (first, attempts, firing, pending) = state.withLock { s -> (Bool, Int, AlertEvent?, AlertEvent?) in
            let first = s.failingSince == nil
            if first {
                s.failingSince = now
                if let left = s.leftOver {
                    // Still failing since the last run: its line stands, no second one.
                    s.firing = left
                    s.lineWritten = true
                    s.leftOver = nil
                } else {
                    s.firing = AlertEvent(
                        ts: now, rule: Self.rule, status: .firing, severity: .critical, labels: ["component": "state"], value: nil,
                        summary: summary, started: now)
                    s.lineWritten = false
                }
            }
            s.attempts += 1
            return (first, s.attempts, s.firing, s.lineWritten ? nil : s.firing)
        }
        status.update {
            if what == "commit" { $0.commitFailures += 1 } else { $0.alertLogFailures += 1 }
            $0.lastError = "\(what): \(error)"
            if first {
                $0.commitFailingSince = now
                $0.commitAlert = firing
            }
        }
        if first || attempts % 60 == 0 {
            logger.critical(
                "ALERT state_commit_failing: \(logged)",
                metadata: [
                    "sentra.alert": "\(Self.rule)", "sentra.severity": "critical", "sentra.failure": "\(failure.rawValue)",
                    "sentra.error": "\(error)", "sentra.attempt": "\(attempts)",
                ])
        }
        if let pending { write(pending) { $0.lineWritten = true } }
    }

    /// A commit succeeded: resolves the alert if it was firing.
    func succeeded() {
        let now = clock()
        let (was, line, attempts, since, leftOver) = state.withLock { s -> (AlertEvent?, Bool, Int, Int64, AlertEvent?) in
            defer {
                s = State()
            }
            return (s.firing, s.lineWritten, s.attempts, s.failingSince ?? now, s.leftOver)
        }
        if let was {
            status.update {
                $0.commitFailingSince = nil
                $0.commitAlert = nil
            }
            logger.notice(
                "RESOLVED state_commit_failing: the state is saved again",
                metadata: [
                    "sentra.alert": "\(Self.rule)", "sentra.attempts": "\(attempts)",
                    "sentra.failed_seconds": "\((now - since) / 1000)",
                ])
            if line { write(resolved(was, now: now)) { _ in } }
        } else if let leftOver {
            write(resolved(leftOver, now: now)) { _ in }
        }
    }

    private func resolved(_ e: AlertEvent, now: Int64) -> AlertEvent {
        AlertEvent(
            ts: now, rule: Self.rule, status: .resolved, severity: e.severity, labels: e.labels, value: nil,
            summary: Catalogue.of(alertLog.language).text("alert.state_commit.resolved"), started: e.started)
    }

    /// Appends a line to the alert log: once; a failure is logged and left to the next attempt.
    private func write(_ event: AlertEvent, then: (inout State) -> Void) {
        do {
            try alertLog.append(event)
            state.withLock { then(&$0) }
        } catch {
            let n = lineFailures.add(1, ordering: .relaxed).newValue
            guard n == 1 || n % 60 == 0 else { return }
            logger.error(
                "cannot write the \(event.status.rawValue) line of state_commit_failing to the alert log",
                metadata: ["sentra.error": "\(error)", "sentra.attempt": "\(n)"])
        }
    }
}

/// Why the start was refused over the state database, and the exit status, else nil: a
/// database a newer Sentra migrated (a downgrade) gives 1, since restarting cannot help and
/// the unit does not restart on it; a damaged or lost one gives 2. Nothing was changed.
public func refusedState(_ error: any Error) -> (why: String, status: Int32)? {
    guard let e = error as? StoreError else { return nil }
    if e.kind == .newerSchema { return (e.message, 1) }
    return e.isDamagedState ? (e.message, 2) : nil
}
