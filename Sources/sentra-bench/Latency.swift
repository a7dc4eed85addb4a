import ArgumentParser
import Foundation
import Logging
import SentraConfig
import SentraCore
import SentraMQTT
import SentraProcess
import Synchronization

extension SentraBench {
    struct Latency: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "From publishing a threshold-crossing reading to its line in the alert log, under background load.")
        @Option(help: "The example configuration.") var config = "config/sentra.example.yaml"
        @Option(help: "Alert lines to time (half firing, half resolved).") var probes = 400
        @Option(help: "Background readings per second.") var load = 20_000
        @Option(help: "Directory of the built binaries.") var bin = ".build/release"

        func run() throws {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-bench-latency-\(UUID().uuidString.prefix(8))")
                .path
            let registry = try writeConfig(in: work)
            let broker = try BenchBroker(dir: "\(work)/broker", queueQoS0: false)
            let d = try startDaemon(work: work, port: broker.port)

            // Background load: loom readings at `load` per second, QoS 1 as boards send them.
            let background = BackgroundLoad(
                port: broker.port, devices: registry.devices.filter { $0.kind == .loom }, prefix: registry.topicPrefix, perSecond: load)
            background.start()
            usleep(1_000_000)

            let probe = try connectProbe(port: broker.port)
            let topic = DeviceKey(workshop: "ws-bandar-01", kind: .water, id: "wm-1").topic(prefix: registry.topicPrefix)
            let times = try timeProbes(probe, topic: topic, work: work)
            background.finish()
            probe.stop()
            d.signal(SIGTERM)
            d.wait()
            print(
                String(
                    format: "latency: %d alert lines under %d readings/s of background load (%d sent in %.1f s)", probes, load,
                    background.sent.load(ordering: .relaxed), times.elapsed))
            print(times.report())
            try? FileManager.default.removeItem(atPath: work)
        }

        /// The example, plus a rule that fires at once (the tank above 90 % on wm-1) and the
        /// built-in journald sink sending each event it is handed to this benchmark's socket
        /// (`journal.sock`). Returns its registry.
        private func writeConfig(in work: String) throws -> Registry {
            try FileManager.default.createDirectory(atPath: "\(work)/log", withIntermediateDirectories: true)
            let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(
                of: "\nrules:\n",
                with: """

                    rules:
                      - name: bench_tank_full
                        type: threshold
                        severity: info
                        match: { device: wm-1 }
                        field: level
                        above: 90
                        resolve_at: 60

                    """
            ).replacingOccurrences(
                of: "\nplugins: []",
                with: """

                    plugins:
                      - name: seen
                        builtin: journald
                        min_severity: info
                        options: { socket: \(work)/journal.sock }
                    """)
            try text.write(toFile: "\(work)/sentra.yaml", atomically: true, encoding: .utf8)
            return try Configuration.load(path: "\(work)/sentra.yaml").registry
        }

        private func startDaemon(work: String, port: Int) throws -> Proc {
            let log = "\(work)/sentrad.log"
            let d = try Proc(
                "\(bin)/sentrad",
                [
                    "--config", "\(work)/sentra.yaml", "--broker", "127.0.0.1:\(port)", "--http", "127.0.0.1:\(Loopback.freePort())",
                    "--state-dir", "\(work)/state", "--log-dir",
                    "\(work)/log",
                ],
                output: log)
            try waitFor("sentrad to subscribe") {
                (try? String(contentsOfFile: log, encoding: .utf8))?.contains("connected to broker") == true
            }
            return d
        }

        private func connectProbe(port: Int) throws -> MQTTClient {
            var o = MQTTOptions()
            o.port = port
            o.clientID = "bench-probe"
            o.cleanSession = true
            let probe = MQTTClient(options: o, logger: Logger(label: "bench"))
            try probe.start()
            usleep(200_000)
            return probe
        }

        /// Publishes `probes` readings that cross the rule's threshold, alternately up and down,
        /// each timed until its line is in the alert log (written) and until the in-process
        /// journald sink has sent it to this benchmark's socket (the log is fsync'd before any
        /// plugin sees a line, so this bounds "durable" from above, by a hand-off and a
        /// datagram). Between probes, one line of the same size is written and fsync'd in the
        /// same directory: the disk's own figure, under the same load.
        private func timeProbes(_ probe: MQTTClient, topic: String, work: String) throws -> ProbeTimes {
            var times = ProbeTimes()
            let alerts = "\(work)/log/alerts.jsonl"
            let sink = try DatagramSink(path: "\(work)/journal.sock")
            let reference = open("\(work)/log/fsync-reference", O_WRONLY | O_CREAT | O_APPEND, 0o644)
            defer { close(reference) }
            let line = [UInt8](repeating: 0x78, count: 200) + [0x0A]
            var written = Self.size(alerts)
            let t0 = Int64(Date().timeIntervalSince1970 * 1000)
            for i in 0..<probes {
                let level = i % 2 == 0 ? 95 : 50
                let payload = Array(#"{"ts":\#(t0 + Int64(i) * 100),"level":\#(level)}"#.utf8)
                let begin = nowNanos()
                try probe.publish(topic: topic, payload: payload, qos: 1)
                var lineAt: UInt64?
                try waitFor("alert line \(i + 1) to reach the plugin", timeout: 10, poll: 0.00005) {
                    if lineAt == nil, Self.size(alerts) > written { lineAt = nowNanos() }
                    return sink.received(containing: "SENTRA_RULE=bench_tank_full") > 0
                }
                let end = nowNanos()
                written = Self.size(alerts)
                times.written.append(Double((lineAt ?? end) - begin) / 1e6)
                times.delivered.append(Double(end - begin) / 1e6)
                usleep(2000)
                let f0 = nowNanos()
                _ = line.withUnsafeBytes { write(reference, $0.baseAddress, $0.count) }
                fsync(reference)
                times.fsync.append(Double(nowNanos() - f0) / 1e6)
            }
            times.elapsed = Double(Int64(Date().timeIntervalSince1970 * 1000) - t0) / 1000
            return times
        }

        static func size(_ path: String) -> Int {
            var st = stat()
            return stat(path, &st) == 0 ? Int(st.st_size) : 0
        }
    }
}
/// Loom readings published at a steady rate from a thread of their own, until `finish`.
final class BackgroundLoad: Sendable {
    let port: Int
    let devices: [Device]
    let prefix: String
    let perSecond: Int
    let stopping = Atomic<Bool>(false)
    /// Readings published, once finished.
    let sent = Atomic<Int>(0)
    let finished = Atomic<Bool>(false)

    init(port: Int, devices: [Device], prefix: String, perSecond: Int) {
        self.port = port
        self.devices = devices
        self.prefix = prefix
        self.perSecond = perSecond
    }

    func start() {
        Thread { self.publish() }.start()
    }

    /// Stops the load and waits until its client has delivered what it sent.
    func finish() {
        stopping.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(10_000) }
    }

    private func publish() {
        var o = MQTTOptions()
        o.port = port
        o.clientID = "bench-load"
        o.cleanSession = true
        o.maxInflight = 2000
        let c = MQTTClient(options: o, logger: Logger(label: "bench"))
        try? c.start()
        usleep(200_000)
        let start = DispatchTime.now().uptimeNanoseconds
        var n = 0
        var seq = Array(repeating: 0, count: devices.count)
        let t0 = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        while !stopping.load(ordering: .relaxed) {
            let due = Int(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 * Double(perSecond))
            while n < due {
                let i = n % devices.count
                seq[i] += 1
                let dev = devices[i]
                let p = #"{"ts":\#(t0 + Int64(seq[i]) * 10),"seq":\#(seq[i]),"picks":\#(seq[i]),"state":"run"}"#
                _ = try? c.publish(topic: dev.key.topic(prefix: prefix), payload: Array(p.utf8), qos: 1)
                n += 1
                if n % 1000 == 0 { c.waitForPublished(atMost: 1500, timeout: 5) }
            }
            usleep(500)
        }
        sent.store(n, ordering: .relaxed)
        c.waitForPublished(timeout: 10)
        c.stop()
        finished.store(true, ordering: .releasing)
    }
}

/// The probes' times, ms: publish → line in the alert log, publish → the plugin has it, and
/// the reference fsync of a line of the same size on the same disk, taken between probes.
struct ProbeTimes {
    var written: [Double] = []
    var delivered: [Double] = []
    var fsync: [Double] = []
    var elapsed = 0.0

    static func quantile(_ v: [Double], _ q: Double) -> Double {
        let s = v.sorted()
        return s.isEmpty ? .nan : s[min(s.count - 1, Int(Double(s.count) * q))]
    }

    func report() -> String {
        let row = { (name: String, v: [Double]) in
            "  " + name
                + String(format: " p50 %.2f ms, p99 %.2f ms, max %.2f ms", Self.quantile(v, 0.5), Self.quantile(v, 0.99), v.max() ?? .nan)
        }
        let limit = Self.quantile(fsync, 0.99) + 2
        let p99 = Self.quantile(delivered, 0.99)
        return [
            row("publish → line in alerts.jsonl (written):             ", written),
            row("publish → a plugin has it (after the line's fsync):    ", delivered),
            row("reference: a 201-byte line written and fsync'd:        ", fsync),
            String(format: "  durable p99 %.2f ms against the disk's fsync p99 + 2 ms = %.2f ms: ", p99, limit)
                + (p99 <= limit ? "met" : "missed"),
        ].joined(separator: "\n")
    }
}

/// A unix datagram socket of the benchmark's own, standing in for journald's.
final class DatagramSink {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init(path: String) throws {
        var addr = sockaddr_un()
        guard path.utf8.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw BenchError("socket path too long: \(path)") }
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in
            for (i, b) in path.utf8.enumerated() { dst[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, ok == 0 else { throw BenchError("cannot bind \(path)") }
    }

    deinit { close(fd) }

    /// Datagrams waiting that contain `text` (a journal field), taken without blocking.
    func received(containing text: String) -> Int {
        let needle = Array(text.utf8)
        var n = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard got >= 0 else { return n }
            if buffer[..<got].firstRange(of: needle) != nil { n += 1 }
        }
    }
}
