import Foundation

/// One message as received: copied out of libmosquitto's buffers.
public struct ReceivedMessage: Sendable {
    public var topic: String
    public var payload: [UInt8]
    /// Wall clock at receipt, ms since the epoch.
    public var receivedAt: Int64
    public init(topic: String, payload: [UInt8], receivedAt: Int64) {
        self.topic = topic
        self.payload = payload
        self.receivedAt = receivedAt
    }
}

/// A bounded FIFO between libmosquitto's thread and the ingest thread. A full queue blocks
/// the producer, so the broker holds a burst instead of our memory growing without limit.
public final class MessageQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer: [ReceivedMessage?]
    private var head = 0
    private var count = 0
    private var closed = false
    private var consumerWaiting = false
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        buffer = Array(repeating: nil, count: self.capacity)
    }

    /// Adds a message, waiting while the queue is full. Returns false once closed.
    @discardableResult
    public func push(_ m: ReceivedMessage) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == capacity && !closed { condition.wait() }
        if closed { return false }
        buffer[(head + count) % capacity] = m
        count += 1
        // Wake the consumer only when it sleeps: one futex wake per batch, not per message.
        if consumerWaiting { condition.broadcast() }
        return true
    }

    /// Moves up to `max` messages into `out`, waiting until at least one is there, the
    /// queue is closed, or `deadline` passes.
    public func pop(into out: inout [ReceivedMessage], max: Int, deadline: Date, linger: TimeInterval = 0.0005) {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !closed {
            consumerWaiting = true
            let woken = condition.wait(until: deadline)
            consumerWaiting = false
            if !woken { return }
        }
        // Woken for a trickle: let a burst gather for a moment so one wake-up takes many
        // messages (bounded latency: `linger`).
        if count < 64 && !closed && linger > 0 {
            condition.unlock()
            usleep(UInt32(linger * 1_000_000))
            condition.lock()
        }
        let n = Swift.min(max, count)
        let wasFull = count == capacity
        for _ in 0..<n {
            out.append(buffer[head]!)
            buffer[head] = nil
            head = (head + 1) % capacity
        }
        count -= n
        if wasFull && n > 0 { condition.broadcast() }
    }

    public var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    /// Wakes everyone; pushes fail from now on, pops drain what is left.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    public var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }
}
