import Foundation
import Logging
import SentraCore
import SentraStore

/// Writes commits on a thread of its own, in order, so the ingest thread never waits for
/// SQLite's fsync. At most `depth` commits wait; beyond that the ingest thread waits (and
/// behind it the bounded queue and the broker), so nothing is dropped. A failed commit is
/// retried, in order, until it succeeds: a full disk stalls ingest, it loses nothing.
final class Committer: @unchecked Sendable {
    struct Job {
        var batch: ProductionStore.Batch
        /// The registry the batch's device indices refer to (a reload may change it).
        var registry: Registry
        var calendar: LocalCalendar
        /// Alert events this batch's alert states follow from: written to the log first.
        var alertsWritten: (writer: AlertWriter, ticket: UInt64)?
    }

    private let store: ProductionStore
    private let status: DaemonStatus
    private let logger: Logger
    private let depth: Int
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var closed = false
    private var finished = false

    init(store: ProductionStore, status: DaemonStatus, logger: Logger, depth: Int = 1) {
        self.store = store
        self.status = status
        self.logger = logger
        self.depth = depth
        let thread = Thread { [self] in loop() }
        thread.name = "sentra-commit"
        thread.start()
    }

    /// Queues a commit; waits while `depth` commits are already waiting.
    func submit(_ job: Job) {
        condition.lock()
        while pending.count >= depth && !closed { condition.wait() }
        pending.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Commits what is queued, then stops the thread; returns when all is on disk.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            guard let job = pending.first else {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            write(job)
            condition.lock()
            pending.removeFirst()
            condition.broadcast()
            condition.unlock()
        }
    }

    private func write(_ job: Job) {
        if let a = job.alertsWritten { a.writer.waitWritten(a.ticket) }
        var attempt = 0
        while true {
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                try store.commit(job.batch, registry: job.registry, calendar: job.calendar)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                status.update {
                    $0.lastCommitMillis = ms
                    $0.commits += 1
                }
                return
            } catch {
                attempt += 1
                if attempt == 1 || attempt % 60 == 0 {
                    logger.error("commit failed, retrying", metadata: ["sentra.error": "\(error)", "sentra.attempt": "\(attempt)"])
                }
                status.update {
                    $0.commitFailures += 1
                    $0.lastError = "\(error)"
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }
}
