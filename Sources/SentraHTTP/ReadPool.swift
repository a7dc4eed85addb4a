import Foundation
import Synchronization

/// Threads of their own for the HTTP answers that block: reading the state database (a
/// report, a scrape's totals) and the alert log, and encoding what they read. Swift's
/// cooperative threads (as many as there are cores) carry every HTTP connection and the
/// daemon's other services; a blocking read there would stall all of them.
///
/// At most `threads` reads run at once and at most `waiting` wait their turn; past that
/// `run` refuses at once with `ReadPool.Busy` (the API's 503), so a flood of heavy requests
/// costs a bounded queue, never more threads or memory.
public final class ReadPool: Sendable {
    /// The pool is full: `threads` running and `waiting` queued.
    public struct Busy: Error, CustomStringConvertible {
        public var description: String { "the daemon is busy answering other heavy requests; try again in a moment" }
    }

    public let threads: Int
    public let waiting: Int
    private let state: Mutex<State>
    private let wakeUp = DispatchSemaphore(value: 0)

    private struct State {
        var queue: [@Sendable () -> Void] = []
        var head = 0
        var started = 0
        var running = 0
        var queued: Int { queue.count - head }
    }

    /// The pool the daemon's HTTP listener uses: 2 reads at a time, 32 waiting.
    public static let shared = ReadPool(threads: 2, waiting: 32)

    public init(threads: Int, waiting: Int) {
        self.threads = max(1, threads)
        self.waiting = max(0, waiting)
        state = Mutex(State())
    }

    /// `work()`'s value, computed on one of the pool's threads; the caller's task is
    /// suspended meanwhile, its thread free. Throws `Busy` when the queue is full.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job: @Sendable () -> Void = { [self] in
                let result = Result { try work() }
                // Done before the caller hears of it, so its next request finds the room free.
                state.withLock { $0.running -= 1 }
                continuation.resume(with: result)
            }
            let (accepted, startThread) = state.withLock { s -> (Bool, Bool) in
                guard s.running + s.queued < threads + waiting else { return (false, false) }
                s.queue.append(job)
                let start = s.started < threads
                if start { s.started += 1 }
                return (true, start)
            }
            guard accepted else {
                continuation.resume(throwing: Busy())
                return
            }
            if startThread { startWorker() }
            wakeUp.signal()
        }
    }

    /// Set in the thread dictionary of the pool's threads.
    static let marker = "sentra.read-pool"

    /// Whether the caller runs on one of a pool's threads.
    static var onPoolThread: Bool { Thread.current.threadDictionary[marker] as? Bool == true }

    /// Jobs queued and not yet started, and jobs running (for tests).
    var queued: Int { state.withLock { $0.queued } }
    var running: Int { state.withLock { $0.running } }

    private func startWorker() {
        let thread = Thread { [self] in
            Thread.current.name = "sentra-read"
            Thread.current.threadDictionary[Self.marker] = true
            while true {
                wakeUp.wait()
                let job = state.withLock { s -> (@Sendable () -> Void)? in
                    guard s.head < s.queue.count else { return nil }
                    let j = s.queue[s.head]
                    s.head += 1
                    s.running += 1
                    if s.head > 64, s.head * 2 > s.queue.count {
                        s.queue.removeFirst(s.head)
                        s.head = 0
                    }
                    return j
                }
                job?()
            }
        }
        thread.start()
    }
}
