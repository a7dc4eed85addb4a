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
            let (samples, elapsed) = try timeProbes(probe, topic: topic, alerts: "\(work)/log/alerts.jsonl")
            background.finish()
            probe.stop()
            d.signal(SIGTERM)
            d.wait()
            let p = { (q: Double) in samples[min(samples.count - 1, Int(Double(samples.count) * q))] }
            print(
                String(
                    format: "latency: %d alert lines under %d readings/s of background load (%d sent in %.1f s)", probes, load,
                    background.sent.load(ordering: .relaxed), elapsed))
            print(
                String(
                    format: "  publish → line in alerts.jsonl: p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < 5 ms)", p(0.5), p(0.99),
                    samples.last!))
            try? FileManager.default.removeItem(atPath: work)
        }

        /// The example, plus a rule that fires at once: the tank above 90 % on wm-1. Returns its registry.
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
        /// each timed until its line is in the alert log. Returns the times (ms, sorted) and the
        /// seconds the probes took.
        private func timeProbes(_ probe: MQTTClient, topic: String, alerts: String) throws -> (samples: [Double], elapsed: Double) {
            var lines = 0
            var samples: [Double] = []
            let t0 = Int64(Date().timeIntervalSince1970 * 1000)
            for i in 0..<probes {
                let level = i % 2 == 0 ? 95 : 50
                let payload = Array(#"{"ts":\#(t0 + Int64(i) * 100),"level":\#(level)}"#.utf8)
                let begin = DispatchTime.now().uptimeNanoseconds
                try probe.publish(topic: topic, payload: payload, qos: 1)
                try waitFor("alert line \(i + 1)", timeout: 10, poll: 0.00005) {
                    let count = Self.lineCount(alerts)
                    if count > lines {
                        lines = count
                        return true
                    }
                    return false
                }
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6)
                usleep(2000)
            }
            let elapsed = Double(Int64(Date().timeIntervalSince1970 * 1000) - t0) / 1000
            samples.sort()
            return (samples, elapsed)
        }

        static func lineCount(_ path: String) -> Int {
            guard let fd = fopen(path, "r") else { return 0 }
            defer { fclose(fd) }
            var n = 0
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let r = fread(&buf, 1, buf.count, fd)
                if r <= 0 { break }
                for k in 0..<r where buf[k] == 0x0A { n += 1 }
            }
            return n
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
