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
        let thread = Thread { [self] in
            ThreadRole.name(name)
            loop()
        }
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

    /// A job is queued or being done: `submit` would wait.
    var isBusy: Bool {
        condition.lock()
        defer { condition.unlock() }
        return pending.count >= depth
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

/// Set once when the daemon starts to stop (SIGTERM): threads that retry a failing write give
/// up instead of retrying forever, and sleeps between retries end at once.
public final class StopSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var set = false

    public init() {}

    public var isSet: Bool {
        condition.lock()
        defer { condition.unlock() }
        return set
    }

    public func begin() {
        condition.lock()
        set = true
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps `seconds`, or less when the stop begins meanwhile; returns whether it has.
    @discardableResult
    func sleep(_ seconds: TimeInterval) -> Bool {
        let until = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while !set && condition.wait(until: until) {}
        return set
    }
}

/// Runs `body` until it succeeds, once a second, logging the first failure and every 60th:
/// a full disk makes the work late, it never drops it. When the daemon is stopping (`stop`),
/// a failure ends the retries: returns false, and the work is not done.
func retrying(
    _ what: String, logger: Logger, stop: StopSignal, onFailure: (any Error, Int) -> Void = { _, _ in }, _ body: () throws -> Void
) -> Bool {
    var attempt = 0
    while true {
        do {
            try body()
            return true
        } catch {
            attempt += 1
            onFailure(error, attempt)
            if stop.isSet { return false }
            if attempt == 1 || attempt % 60 == 0 {
                logger.error("\(what) failed, retrying", metadata: ["sentra.error": "\(error)", "sentra.attempt": "\(attempt)"])
            }
            // One more try when the stop begins meanwhile (the disk may have room again).
            stop.sleep(1)
        }
    }
}
