import Foundation
import Logging
import SentraAlerts
import SentraCore
import SentraStore

/// What one commit writes: a batch and what it needs to name its rows.
struct CommitJob {
    var batch: ProductionStore.Batch
    /// The registry the batch's device indices refer to (a reload may change it).
    var registry: Registry
    var calendar: LocalCalendar
    /// The alert-log ticket this batch's alert states follow from: those lines go first.
    var alertTicket: UInt64?
}

/// Commits in order on a thread of its own (one waiting at most: a batch holds the state of
/// every device heard in its second). A failed commit is retried until it succeeds.
func makeCommitter(
    store: ProductionStore, alertWriter: SerialWorker<AlertEvent>, status: DaemonStatus, logger: Logger
)
    -> SerialWorker<CommitJob>
{
    SerialWorker(name: "sentra-commit", depth: 1) { job in
        // The database never says "firing" for a line that is not in the log.
        if let t = job.alertTicket { alertWriter.waitDone(t) }
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
            try store.commit(job.batch, registry: job.registry, calendar: job.calendar)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            status.update {
                $0.lastCommitMillis = ms
                $0.lastCommitAt = Int64(Date().timeIntervalSince1970 * 1000)
                $0.commitHistogram.observe(seconds: ms / 1000)
                $0.commits += 1
            }
        }
    }
}

/// Appends alert events to the alert log in order on a thread of its own, so the ingest
/// thread never waits for the log's fsync. Each line is still on disk before any plugin
/// sees it (`AlertLog.append` writes, fsyncs, then wakes the plugin host).
func makeAlertWriter(log: AlertLog, logger: Logger) -> SerialWorker<AlertEvent> {
    SerialWorker(name: "sentra-alert-log", depth: .max) { event in
        retryingForever("writing the alert log (\(event.rule))", logger: logger) { try log.append(event) }
    }
}
