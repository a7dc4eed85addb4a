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
            try FileManager.default.createDirectory(atPath: "\(work)/log", withIntermediateDirectories: true)
            // The example, plus a rule that fires at once: the tank above 90 % on wm-1.
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
            let registry = try Configuration.load(path: "\(work)/sentra.yaml").registry
            let broker = try BenchBroker(dir: "\(work)/broker", queueQoS0: false)
            let log = "\(work)/sentrad.log"
            let d = try Proc(
                "\(bin)/sentrad",
                [
                    "--config", "\(work)/sentra.yaml", "--broker", "127.0.0.1:\(broker.port)", "--http", "127.0.0.1:\(Loopback.freePort())",
                    "--state-dir", "\(work)/state", "--log-dir",
                    "\(work)/log",
                ],
                output: log)
            try waitFor("sentrad to subscribe") {
                (try? String(contentsOfFile: log, encoding: .utf8))?.contains("connected to broker") == true
            }

            // Background load: loom readings at `load` per second, QoS 1 as boards send them.
            let stop = Atomic<Bool>(false)
            let sent = Atomic<Int>(0)
            let finished = Atomic<Bool>(false)
            let port = broker.port
            let loomDevices = registry.devices.filter { $0.kind == .loom }
            let background = Thread {
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
                var seq = Array(repeating: 0, count: loomDevices.count)
                let t0 = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
                while !stop.load(ordering: .relaxed) {
                    let due = Int(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 * Double(load))
                    while n < due {
                        let i = n % loomDevices.count
                        seq[i] += 1
                        let dev = loomDevices[i]
                        let p = #"{"ts":\#(t0 + Int64(seq[i]) * 10),"seq":\#(seq[i]),"picks":\#(seq[i]),"state":"run"}"#
                        _ = try? c.publish(topic: "sentra/\(dev.workshop)/loom/\(dev.id)", payload: Array(p.utf8), qos: 1)
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
            background.start()
            usleep(1_000_000)

            var o = MQTTOptions()
            o.port = broker.port
            o.clientID = "bench-probe"
            o.cleanSession = true
            let probe = MQTTClient(options: o, logger: Logger(label: "bench"))
            try probe.start()
            usleep(200_000)
            let alerts = "\(work)/log/alerts.jsonl"
            var lines = 0
            var samples: [Double] = []
            let t0 = Int64(Date().timeIntervalSince1970 * 1000)
            for i in 0..<probes {
                let level = i % 2 == 0 ? 95 : 50
                let payload = Array(#"{"ts":\#(t0 + Int64(i) * 100),"level":\#(level)}"#.utf8)
                let begin = DispatchTime.now().uptimeNanoseconds
                try probe.publish(topic: "sentra/ws-bandar-01/water/wm-1", payload: payload, qos: 1)
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
            stop.store(true, ordering: .relaxed)
            while !finished.load(ordering: .acquiring) { usleep(10_000) }
            probe.stop()
            d.signal(SIGTERM)
            d.wait()
            samples.sort()
            let p = { (q: Double) in samples[min(samples.count - 1, Int(Double(samples.count) * q))] }
            print(
                String(
                    format: "latency: %d alert lines under %d readings/s of background load (%d sent in %.1f s)", probes, load,
                    sent.load(ordering: .relaxed), elapsed))
            print(
                String(
                    format: "  publish → line in alerts.jsonl: p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < 5 ms)", p(0.5), p(0.99),
                    samples.last!))
            try? FileManager.default.removeItem(atPath: work)
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
