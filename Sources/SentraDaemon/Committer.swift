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

/// Commits in order on a thread of its own (one waiting at most: a batch holds the state of
/// every device heard in its second). A failed commit is retried until it succeeds.
func makeCommitter(
    store: ProductionStore, alertWriter: AlertWriter, journal: ReceiveJournal?, status: DaemonStatus, logger: Logger
)
    -> SerialWorker<CommitJob>
{
    SerialWorker(name: "sentra-commit", depth: 1) { job in
        var batch = job.batch
        // The database never says "firing" for a line that is not in the log.
        if let t = job.alertTicket {
            alertWriter.worker.waitDone(t)
            if let seq = alertWriter.seq(ofTicket: t) { batch.meta.append((ProductionStore.alertLogSeqKey, String(seq))) }
        } else if let seq = job.alertLogSeq {
            batch.meta.append((ProductionStore.alertLogSeqKey, String(seq)))
        }
        if let mark = job.journal { batch.meta.append((ProductionStore.journalMarkKey, mark.description)) }
        retryingForever(
            "commit", logger: logger,
            onFailure: { error in
                status.update {
                    $0.commitFailures += 1
                    $0.lastError = "\(error)"
                }
            }
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
        // Counted: the journal's space up to here may take new messages.
        if let mark = job.journal { journal?.release(upTo: mark.position) }
    }
}

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

    init(log: AlertLog, logger: Logger) {
        let written = Seqs()
        self.written = written
        worker = SerialWorker(name: "sentra-alert-log", depth: .max) { event in
            var seq: Int64 = 0
            retryingForever("writing the alert log (\(event.rule))", logger: logger) { seq = try log.append(event).seq }
            written.state.withLock { $0.seqs.append(seq) }
            FaultInjection.afterAlertLine.pass()
        }
    }

    /// The seq of the line written for `ticket` (once it is done); forgets earlier tickets.
    func seq(ofTicket ticket: UInt64) -> Int64? {
        written.state.withLock { w in
            guard ticket >= w.first, Int(ticket - w.first) < w.seqs.count else { return nil }
            let seq = w.seqs[Int(ticket - w.first)]
            w.seqs.removeFirst(Int(ticket - w.first))
            w.first = ticket
            return seq
        }
    }

    @discardableResult func submit(_ event: AlertEvent) -> UInt64 { worker.submit(event) }
    var lastTicket: UInt64 { worker.lastTicket }
    func close() { worker.close() }
}
