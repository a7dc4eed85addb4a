import SentraCore

/// Device messages into `IngestPipeline.ingest`, the daemon's entry for every MQTT message,
/// on a small fixed registry: a loom with two craftsmen over time, a power meter of the
/// workshop and a water meter of a craftsman.
///
/// Input: one message per line, `TOPIC PAYLOAD` (split at the first space); a line without a
/// space is a payload for `sentra/ws-1/loom/loom-1`; a line `!TOPIC` is a message too large
/// to keep. The clock advances a minute per message, so several lines exercise the counter
/// rules (resets, glitches, rates) and the time-weighted states.
enum PayloadFuzz {
    static let t0: Int64 = 1_764_000_000_000
    static let registry = Registry(
        name: "fuzz", workshops: [Workshop(id: "ws-1", name: "one", shift: .always)],
        craftsmen: [Craftsman(id: "c-a", name: "A", workshop: "ws-1"), Craftsman(id: "c-b", name: "B", workshop: "ws-1")],
        looms: [
            Loom(
                id: "loom-1", workshop: "ws-1",
                assignments: [Assignment(craftsman: "c-a", since: .min), Assignment(craftsman: "c-b", since: t0 + 3_600_000)])
        ],
        devices: [
            Device(id: "loom-1", workshop: "ws-1", kind: .loom, binding: .loom("loom-1")),
            Device(id: "pm-1", workshop: "ws-1", kind: .power, binding: .workshop),
            Device(id: "wm-1", workshop: "ws-1", kind: .water, binding: .craftsman("c-a")),
        ])
    nonisolated(unsafe) static var calendar = LocalCalendar(identifier: "Asia/Jakarta")

    static func fuzzOne(_ data: UnsafeRawBufferPointer) {
        guard let calendar else { fatalError("no Asia/Jakarta time zone") }
        let observer = Checker()
        var pipeline = IngestPipeline(registry: registry, calendar: calendar)
        pipeline.observer = observer
        var now = t0
        for line in data.split(separator: 10, omittingEmptySubsequences: false) {
            now += 60_000
            let space = line.firstIndex(of: 32)
            if line.first == UInt8(ascii: "!") {
                let topic = UnsafeRawBufferPointer(rebasing: line.dropFirst())
                pipeline.ingest(topic: topic, payload: UnsafeRawBufferPointer(start: nil, count: 0), now: now, payloadTooLarge: true)
            } else if let space {
                let topic = UnsafeRawBufferPointer(rebasing: line[line.startIndex..<space])
                pipeline.ingest(topic: topic, payload: UnsafeRawBufferPointer(rebasing: line[(space + 1)...]), now: now)
            } else {
                var t = "sentra/ws-1/loom/loom-1"
                t.withUTF8 { pipeline.ingest(topic: UnsafeRawBufferPointer($0), payload: UnsafeRawBufferPointer(rebasing: line), now: now) }
            }
        }
        // What the pipeline counted must be numbers a report can add up.
        for (key, bucket) in pipeline.deltas.buckets {
            for m in Metric.allCases {
                require(bucket[m].isFinite && bucket[m] >= 0, "bucket \(key) \(m) = \(bucket[m])")
            }
        }
        pipeline.markClean()
    }

    /// Checks what the pipeline tells its observers: an increase is finite and positive.
    final class Checker: IngestObserver {
        func accepted(device: Int, reading: Reading, ts: Int64, receivedAt: Int64) {
            require(registry.devices.indices.contains(device), "accepted for device \(device)")
        }
        func counterEvent(device: Int, field: Field, decision: CounterDecision, value: Double, ts: Int64) {}
        func increased(device: Int, field: Field, by amount: Double, ts: Int64) {
            require(amount.isFinite && amount > 0, "\(field) increased by \(amount)")
        }
        func status(device: Int, online: Bool, ts: Int64) {}
        func rejected(_ reason: RejectReason, topic: UnsafeRawBufferPointer, device: Int?) {}
    }
}
