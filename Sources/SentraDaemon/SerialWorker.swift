import Foundation
import Logging

/// A thread of its own that does jobs in order, so the ingest thread never waits for an
/// fsync. At most `depth` jobs wait; beyond that `submit` waits (and behind it the bounded
/// queue and the broker), so nothing is dropped. Each job gets a ticket; `waitDone(ticket)`
/// returns once it and every earlier job are done.
final class SerialWorker<Job>: @unchecked Sendable {
    private let depth: Int
    private let work: (Job) -> Void
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var submitted: UInt64 = 0
    private var done: UInt64 = 0
    private var closed = false
    private var finished = false

    init(name: String, depth: Int, work: @escaping (Job) -> Void) {
        self.depth = depth
        self.work = work
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Queues a job (waiting while `depth` jobs wait); returns its ticket.
    @discardableResult
    func submit(_ job: Job) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        while pending.count >= depth && !closed { condition.wait() }
        pending.append(job)
        submitted += 1
        condition.broadcast()
        return submitted
    }

    /// The ticket of the last job submitted.
    var lastTicket: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return submitted
    }

    /// Waits until every job up to `ticket` is done.
    func waitDone(_ ticket: UInt64) {
        condition.lock()
        while done < ticket && !finished { condition.wait() }
        condition.unlock()
    }

    /// Does what is queued, then stops the thread; returns when all is done.
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
            work(job)
            condition.lock()
            pending.removeFirst()
            done += 1
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// Runs `body` until it succeeds, once a second, logging the first failure and every 60th:
/// a full disk makes the work late, it never drops it.
func retryingForever(_ what: String, logger: Logger, onFailure: (any Error) -> Void = { _ in }, _ body: () throws -> Void) {
    var attempt = 0
    while true {
        do {
            try body()
            return
        } catch {
            attempt += 1
            onFailure(error)
            if attempt == 1 || attempt % 60 == 0 {
                logger.error("\(what) failed, retrying", metadata: ["sentra.error": "\(error)", "sentra.attempt": "\(attempt)"])
            }
            Thread.sleep(forTimeInterval: 1)
        }
    }
}
