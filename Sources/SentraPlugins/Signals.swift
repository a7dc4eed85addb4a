import SentraAlertLog
import SentraCore
import SentraWire
import Synchronization

/// What a waiter got.
enum Received<T: Sendable>: Sendable {
    case value(T)
    case closed
    case timeout
    case cancelled
}

/// A single-consumer queue that an async task awaits with a timeout, fed from any thread
/// (a plugin's stdout reader thread). Structured: the timeout races in a task group and
/// the loser is cancelled; no stray tasks. Bounded: a producer that runs ahead of its
/// consumer (a plugin writing lines nobody asked for) loses what comes past `capacity`,
/// counted in `dropped`, and costs no more memory.
final class Mailbox<T: Sendable>: Sendable {
    private struct State {
        var queue: [T] = []
        var closed = false
        var waiter: CheckedContinuation<Received<T>, Never>?
        var cancelRequested = false
        var dropped = 0
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 1024) { self.capacity = max(1, capacity) }

    /// Values pushed while the queue was full, and lost.
    var dropped: Int { state.withLock { $0.dropped } }
    var queued: Int { state.withLock { $0.queue.count } }

    func push(_ v: T) {
        let w: CheckedContinuation<Received<T>, Never>? = state.withLock { s in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            if s.queue.count < capacity {
                s.queue.append(v)
            } else {
                s.dropped += 1
            }
            return nil
        }
        w?.resume(returning: .value(v))
    }

    func close() {
        let w: CheckedContinuation<Received<T>, Never>? = state.withLock { s in
            s.closed = true
            defer { s.waiter = nil }
            return s.waiter
        }
        w?.resume(returning: .closed)
    }

    /// The next value, `.closed` once closed and drained, or `.cancelled`.
    func take() async -> Received<T> {
        state.withLock { $0.cancelRequested = false }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Received<T>, Never>) in
                let now: Received<T>? = state.withLock { s in
                    if !s.queue.isEmpty { return .value(s.queue.removeFirst()) }
                    if s.closed { return .closed }
                    if s.cancelRequested { return .cancelled }
                    s.waiter = c
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            let w: CheckedContinuation<Received<T>, Never>? = state.withLock { s in
                guard let w = s.waiter else {
                    s.cancelRequested = true
                    return nil
                }
                s.waiter = nil
                return w
            }
            w?.resume(returning: .cancelled)
        }
    }

    /// The next value, waiting at most `timeout`.
    func take(timeout: Duration) async -> Received<T> {
        await withTaskGroup(of: Received<T>.self) { g in
            g.addTask { await self.take() }
            g.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timeout
                } catch {
                    return .cancelled
                }
            }
            var first = await g.next()!
            g.cancelAll()
            // The cancelled loser may still have taken a value: keep it rather than lose it.
            while let other = await g.next() {
                if case .value = other, case .timeout = first { first = other }
            }
            return first
        }
    }
}

/// A coalescing wake-up flag: many `signal()`s before a `wait` wake it once.
final class WakeSignal: Sendable {
    private let box = Mailbox<Bool>()
    private let pending = Mutex(false)

    func signal() {
        let first = pending.withLock { p in
            defer { p = true }
            return !p
        }
        if first { box.push(true) }
    }

    /// Returns when signalled (at once if signalled since the last wait), or when the task is
    /// cancelled.
    func wait() async {
        _ = await box.take()
        pending.withLock { $0 = false }
    }
}
