import Foundation
import Logging
import SentraAlertLog
import SentraAlerts
import SentraCore
import SentraJournal
import SentraPlugins
import SentraReadModel
import SentraStore
import SentraWire
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What one commit writes: a batch and what it needs to name its rows.
struct CommitJob {
    var batch: ProductionStore.Batch
    /// The registry the batch's device indices refer to (a reload may change it).
    var registry: Registry
    var calendar: LocalCalendar
    /// The alert-log ticket this batch's alert states follow from: those lines go first, and
    /// the seq of the ticket's line is committed with them.
    var alertTicket: UInt64?
    /// The alert log's seq the states include, when no line was written since the last commit.
    var alertLogSeq: Int64?
    /// How far the receive journal is counted by this batch.
    var journal: JournalMark?
    /// The batch counts messages the last one did not (the journal moved on).
    var carriesReadings = false
}

/// What the commit and alert-log threads share when the daemon stops while writes fail.
final class CommitControl: Sendable {
    /// SIGTERM: a failing write gives up instead of retrying.
    let stop: StopSignal
    let health: CommitHealth
    private let journal: ReceiveJournal?
    private let logger: Logger
    private let gaveUp = Atomic<Bool>(false)
    /// After giving up, the process exits by itself at the latest this much later.
    static let exitDeadline: TimeInterval = 5

    init(stop: StopSignal, health: CommitHealth, journal: ReceiveJournal?, logger: Logger) {
        self.stop = stop
        self.health = health
        self.journal = journal
        self.logger = logger
    }

    /// A write was given up at the stop: every later commit is skipped too (each batch counts
    /// only what the one before it did not, so none may go without the one before it).
    var abandoned: Bool { gaveUp.load(ordering: .sequentiallyConsistent) }

    /// Gives up (once): says so, and makes sure the process ends. The orderly way ends within a
    /// second or two (the ingest thread drains, the services stop, exit 2); but while the journal
    /// is full, libmosquitto's thread waits inside the message callback for space that no commit
    /// will free, and the broker connection cannot close. Then, `exitDeadline` later, the mirror
    /// is synced and the process exits with 2 without returning from that callback, so the
    /// message it holds is never acknowledged and the broker delivers it again.
    func abandon() {
        guard !gaveUp.exchange(true, ordering: .sequentiallyConsistent) else { return }
        logger.critical(
            "stopping while the state cannot be saved: what was not committed stays in the receive journal and is counted at the next start",
            metadata: ["sentra.journal_uncommitted_bytes": "\(journal?.uncommittedBytes ?? 0)"])
        let journal = self.journal
        let logger = self.logger
        let t = Thread {
            Thread.sleep(forTimeInterval: Self.exitDeadline)
            logger.critical(
                "exiting (2) without closing the broker connection: the receive journal is full and cannot be counted; the broker delivers again what it has not had acknowledged"
            )
            journal?.stopSyncing()
            _exit(2)
        }
        t.name = "sentra-exit-deadline"
        t.start()
    }
}

/// Commits in order on a thread of its own (one at a time: a batch holds the state of every
/// device heard since the one before). A failed commit is retried every second until it
/// succeeds, and told at once (`CommitHealth`); the journal's space is released only after the
/// commit that counted it. When the daemon stops while commits fail, the retries end: the
/// batch and every later one are not committed, and the journal keeps what they counted for the
/// next start.
func makeCommitter(
    store: ProductionStore, alertWriter: AlertWriter, journal: ReceiveJournal?, status: DaemonStatus, control: CommitControl,
    logger: Logger
)
    -> SerialWorker<CommitJob>
{
    SerialWorker(name: "sentra-commit", depth: 1) { job in
        if control.abandoned { return }
        var batch = job.batch
        // The database never says "firing" for a line that is not in the log.
        if let t = job.alertTicket {
            alertWriter.worker.waitDone(t)
            guard let seq = alertWriter.seq(ofTicket: t) else {
                // The alert writer gave up at the stop: these states must not be committed.
                control.abandon()
                return
            }
            batch.meta.append((ProductionStore.alertLogSeqKey, String(seq)))
        } else if let seq = job.alertLogSeq {
            batch.meta.append((ProductionStore.alertLogSeqKey, String(seq)))
        }
        if let mark = job.journal { batch.meta.append((ProductionStore.journalMarkKey, mark.description)) }
        let done = retrying(
            "commit", logger: logger, stop: control.stop, onFailure: { error, _ in control.health.failed(error, what: "commit") }
        ) {
            let started = DispatchTime.now().uptimeNanoseconds
            try store.commit(
                batch, registry: job.registry, calendar: job.calendar,
                beforeCommit: {
                    // The crash tests kill inside a commit that counts messages.
                    if job.carriesReadings { FaultInjection.insideCommit.pass() }
                })
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            status.update {
                $0.lastCommitMillis = ms
                $0.lastCommitAt = Int64(Date().timeIntervalSince1970 * 1000)
                $0.commitHistogram.observe(seconds: ms / 1000)
                $0.commits += 1
            }
        }
        guard done else {
            control.abandon()
            return
        }
        control.health.succeeded()
        // Counted: the journal's space up to here may take new messages.
        if let mark = job.journal { journal?.release(upTo: mark.position) }
        HeapTrim.now(ifDue: DispatchTime.now().uptimeNanoseconds)
    }
}

/// Gives the heap's free pages back to the system at most every 10 s, after a commit
/// (on the commit thread, off the ingest path). Each commit's batch, every snapshot the HTTP
/// face reads and every answer it encodes come and go; glibc keeps their freed pages inside
/// the heap, so the resident size of a large sentra creeps up by megabytes until trimmed
/// (BENCHMARKS.md, memory).
enum HeapTrim {
    private static let last = Atomic<UInt64>(0)
    static let interval: UInt64 = 10_000_000_000

    static func now(ifDue t: UInt64) {
        let previous = last.load(ordering: .relaxed)
        guard t &- previous >= interval else { return }
        last.store(t, ordering: .relaxed)
        _ = mallocTrim(0)
    }
}

/// glibc's malloc_trim(3) (malloc.h is not in Swift's Glibc module).
@_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32

/// Appends alert events to the alert log in order on a thread of its own, so the ingest
/// thread never waits for the log's fsync. Each line is still on disk before any plugin
/// sees it (`AlertLog.append` writes, fsyncs, then wakes the plugin host). It remembers the
/// seq each ticket's line got, for the commit that records how far the log is reflected.
final class AlertWriter: Sendable {
    private final class Seqs: Sendable {
        let state = Mutex<(first: UInt64, seqs: [Int64])>((1, []))
    }
    private let written: Seqs
    let worker: SerialWorker<AlertEvent>

    init(log: AlertLog, control: CommitControl, logger: Logger) {
        let written = Seqs()
        self.written = written
        worker = SerialWorker(name: "sentra-alert-log", depth: .max) { event in
            var seq: Int64 = -1
            // At the stop, a line that cannot be written is given up with the commits that
            // follow from it (the next start emits it again from the journal).
            if !control.abandoned {
                let done = retrying(
                    "writing the alert log (\(event.rule))", logger: logger, stop: control.stop,
                    onFailure: { error, _ in control.health.failed(error, what: "alert log") }
                ) { seq = try log.append(event).seq }
                if !done {
                    seq = -1
                    control.abandon()
                }
            }
            written.state.withLock { $0.seqs.append(seq) }
            if seq >= 0 { FaultInjection.afterAlertLine.pass() }
        }
    }

    /// The seq of the line written for `ticket` (once it is done), nil when it was given up at
    /// the stop; forgets earlier tickets.
    func seq(ofTicket ticket: UInt64) -> Int64? {
        written.state.withLock { w in
            guard ticket >= w.first, Int(ticket - w.first) < w.seqs.count else { return nil }
            let seq = w.seqs[Int(ticket - w.first)]
            w.seqs.removeFirst(Int(ticket - w.first))
            w.first = ticket
            return seq >= 0 ? seq : nil
        }
    }

    @discardableResult func submit(_ event: AlertEvent) -> UInt64 { worker.submit(event) }
    var lastTicket: UInt64 { worker.lastTicket }
    func close() { worker.close() }
}
