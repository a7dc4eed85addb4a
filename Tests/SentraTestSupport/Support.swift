import Foundation
import SentraCore
import SentraWire

/// A one-loom sentra and a pipeline, driven message by message in virtual time.
public struct PipelineHarness {
    public static let t0: Int64 = 1_764_000_000_000  // 2025-11-24T16:00:00Z, 23:00 in Jakarta
    public var pipeline: IngestPipeline
    public var now: Int64 = PipelineHarness.t0 + 86_400_000

    public init(registry: Registry = PipelineHarness.registry(), settings: IngestSettings = .init()) {
        pipeline = IngestPipeline(registry: registry, settings: settings, calendar: LocalCalendar(identifier: "Asia/Jakarta")!)
    }

    public static func registry(
        looms: [(String, String, [Assignment])] = [("loom-1", "ws-1", [Assignment(craftsman: "c-a", since: .min)])],
        craftsmen: [String] = ["c-a", "c-b"], meters: [Device] = []
    ) -> Registry {
        Registry(
            name: "test", workshops: [Workshop(id: "ws-1", name: "one", shift: .always)],
            craftsmen: craftsmen.map { Craftsman(id: $0, name: $0, workshop: "ws-1") },
            looms: looms.map { Loom(id: $0.0, workshop: $0.1, assignments: $0.2) },
            devices: looms.map { Device(id: $0.0, workshop: $0.1, kind: .loom, binding: .loom($0.0)) } + meters)
    }

    public mutating func send(_ json: String) { send(topic: "sentra/ws-1/loom/loom-1", json) }

    public mutating func send(topic: String, _ json: String) {
        pipeline.ingest(topic: topic, payload: Array(json.utf8), now: now)
    }

    public func total(_ m: Metric) -> Double { pipeline.deltas.buckets.values.reduce(0) { $0 + $1[m] } }
    public func rejected(_ r: RejectReason) -> UInt64 { pipeline.stats[r] }
}

public let jakarta = TimeZone(identifier: "Asia/Jakarta")!

/// A local Jakarta time such as `2026-11-24T10:00:00` as ms since the epoch.
public func at(_ local: String) -> Int64 {
    RFC3339.parse(local + "+07:00")!
}

/// A fresh directory under the system's temporary directory, named after the test.
public func temporaryDirectory(_ name: String = #function) -> String {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    let dir = NSTemporaryDirectory() + "sentra-test-\(clean)-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// The non-empty lines of a file; none when it does not exist.
public func readLines(_ path: String) -> [String] {
    guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return s.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
}

/// The repository's top folder.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// `config/sentra.example.yaml`: the example sentra.
public let exampleConfigPath = repositoryRoot + "/config/sentra.example.yaml"

/// An alert event numbered `n`, with a summary that needs escaping.
public func sampleEvent(_ n: Int, rule: String = "voltage_sag", workshop: String = "ws-a", severity: Severity = .warning) -> AlertEvent {
    let t = at("2026-11-24T10:00:00") + Int64(n) * 1000
    return AlertEvent(
        ts: t, rule: rule, status: n % 2 == 0 ? .firing : .resolved, severity: severity,
        labels: ["workshop": workshop, "device": "pm-\(n)"], value: Double(n),
        summary: "Event \(n) \u{201C}quoted\u{201D} \"x\"\nsecond line", started: t)
}

/// Polls `condition` until it holds or a generous deadline passes: awaiting an outcome,
/// not timing it.
public func eventually(_ what: String, within: Duration = .seconds(30), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + within
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// What `eventually` throws (and the test reports) when its condition never held.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var description: String { "timed out waiting for \(what)" }
}
