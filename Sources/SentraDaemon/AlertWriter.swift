import Foundation
import Logging
import SentraAlerts

/// Appends alert events to the alert log on a thread of its own, in order, so the ingest
/// thread never waits for the log's fsync. Each line is still on disk before any plugin
/// sees it (`AlertLog.append` writes, fsyncs, then wakes the plugin host), and the
/// committer waits for a ticket before it commits alert states, so the database never
/// says "firing" for a line that is not in the log.
final class AlertWriter: @unchecked Sendable {
    private let log: AlertLog
    private let logger: Logger
    private let condition = NSCondition()
    private var queue: [AlertEvent] = []
    private var enqueued: UInt64 = 0
    private var written: UInt64 = 0
    private var closed = false
    private var finished = false

    init(log: AlertLog, logger: Logger) {
        self.log = log
        self.logger = logger
        let thread = Thread { [self] in loop() }
        thread.name = "sentra-alert-log"
        thread.start()
    }

    /// Queues an event; returns its ticket.
    @discardableResult
    func enqueue(_ event: AlertEvent) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        queue.append(event)
        enqueued += 1
        condition.broadcast()
        return enqueued
    }

    /// The ticket of the last event queued so far.
    var lastTicket: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return enqueued
    }

    /// Waits until every event up to `ticket` is in the log.
    func waitWritten(_ ticket: UInt64) {
        condition.lock()
        while written < ticket && !finished { condition.wait() }
        condition.unlock()
    }

    /// Writes what is queued and stops.
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
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll()
            condition.unlock()
            for event in batch {
                var attempt = 0
                while true {
                    do {
                        try log.append(event)
                        break
                    } catch {
                        // A full disk: keep the event and retry; the alert is late, not lost.
                        attempt += 1
                        if attempt == 1 || attempt % 60 == 0 {
                            logger.critical(
                                "cannot write the alert log, retrying",
                                metadata: ["sentra.error": "\(error)", "sentra.alert": "\(event.rule)"])
                        }
                        Thread.sleep(forTimeInterval: 1)
                    }
                }
                condition.lock()
                written += 1
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
