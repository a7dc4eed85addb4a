import ArgumentParser
import Foundation
import Logging
import SentraConfig
import SentraCore
import SentraMQTT
import SentraProcess
import SentraStore
import SentraWire

extension SentraBench {
    struct EndToEnd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "e2e",
            abstract:
                "Through a real mosquitto on loopback: a preloaded stream consumed by sentrad and, in the same run, by mosquitto_sub to /dev/null."
        )
        @Option(help: "Messages per run.") var count = 300_000
        @Option(help: "QoS levels to run, comma-separated.") var qos = "0,1"
        @Option(help: "The example configuration.") var config = "config/sentra.example.yaml"
        @Option(help: "Directory of the built binaries.") var bin = ".build/release"
        @Option(help: "Commit interval for this run's sentrad (how soon the end is seen).") var commitInterval = "100ms"

        func run() throws {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-bench-e2e-\(UUID().uuidString.prefix(8))").path
            let registry = try Configuration.load(path: config).registry
            let text = try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "  commit_interval: 1s", with: "  commit_interval: \(commitInterval)")
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let benchConfig = "\(work)/sentra.yaml"
            try text.write(toFile: benchConfig, atomically: true, encoding: .utf8)
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 6 * 86_400_000
            let msgs = Synthetic.messages(registry, count: count, start: start)
            print(
                "e2e: \(count) messages, example sentra (\(registry.devices.count) devices), \(ProcessInfo.processInfo.activeProcessorCount) cores"
            )
            for q in qos.split(separator: ",").compactMap({ Int32($0) }) {
                let broker = try BenchBroker(dir: "\(work)/broker-q\(q)")
                let address = "127.0.0.1:\(broker.port)"
                // Register both persistent sessions, then preload the stream while both are away.
                let sub = try Proc(
                    "/usr/bin/mosquitto_sub", ["-p", "\(broker.port)", "-c", "-i", "bench-sub", "-q", "1", "-t", "sentra/#", "-C", "1"])
                let daemonArgs = [
                    "--config", benchConfig, "--broker", address, "--http", "127.0.0.1:\(Loopback.freePort())", "--state-dir",
                    "\(work)/state-q\(q)", "--log-dir", "\(work)/log-q\(q)",
                ]
                let d1 = try Proc("\(bin)/sentrad", daemonArgs, output: "\(work)/sentrad-q\(q)-1.log")
                try waitFor("sentrad to subscribe") {
                    (try? String(contentsOfFile: "\(work)/sentrad-q\(q)-1.log", encoding: .utf8))?.contains("connected to broker") == true
                }
                usleep(300_000)
                d1.signal(SIGTERM)
                d1.wait()
                try publishOne(port: broker.port, topic: "sentra/x/loom/x", payload: "{}")
                sub.wait()
                let pubStart = Date()
                try preloadStream(port: broker.port, msgs, qos: q)
                let pubSeconds = Date().timeIntervalSince(pubStart)

                // mosquitto_sub: the limit of the client library and the broker.
                let t0 = Date()
                let sub2 = try Proc(
                    "/usr/bin/mosquitto_sub",
                    ["-p", "\(broker.port)", "-c", "-i", "bench-sub", "-q", "1", "-t", "sentra/#", "-C", "\(count)"])
                let subCPU = sub2.wait()
                let subSeconds = Date().timeIntervalSince(t0)

                // sentrad: parse, aggregate, durable state.
                let t1 = Date()
                let d2 = try Proc("\(bin)/sentrad", daemonArgs, output: "\(work)/sentrad-q\(q)-2.log")
                let db = "\(work)/state-q\(q)/sentra.sqlite"
                var cpu = 0.0
                try waitFor("sentrad to take \(count) readings", timeout: 600) {
                    cpu = d2.cpuSeconds
                    guard FileManager.default.fileExists(atPath: db), let s = try? ProductionStore(readingFrom: db).meta("ingest_stats"),
                        let stats = try? WireJSON.decode(IngestStatsRecord.self, from: s)
                    else { return false }
                    return Int(stats.counts.accepted + stats.counts.rejectedTotal) >= count
                }
                let sentradSeconds = Date().timeIntervalSince(t1)
                let rss = d2.residentBytes
                d2.signal(SIGTERM)
                d2.wait()
                let subRate = Double(count) / subSeconds
                let rate = Double(count) / sentradSeconds
                print("QoS \(q): preloaded in \(String(format: "%.2f", pubSeconds)) s")
                print(String(format: "  mosquitto_sub: %.0f msg/s, CPU %.2f µs/msg", subRate, subCPU / Double(count) * 1e6))
                print(
                    String(
                        format: "  sentrad:       %.0f msg/s, CPU %.2f µs/msg, RSS %d MiB", rate, cpu / Double(count) * 1e6, rss / 1_048_576
                    ))
                print(
                    String(
                        format: "  rate ratio %.3f (target ≥ 0.95), CPU ratio %.2f (target ≤ 1.3)", rate / subRate,
                        (cpu / Double(count)) / (subCPU / Double(count))))
            }
            try? FileManager.default.removeItem(atPath: work)
        }

        func publishOne(port: Int, topic: String, payload: String) throws {
            let p = try Proc("/usr/bin/mosquitto_pub", ["-p", "\(port)", "-q", "1", "-t", topic, "-m", payload])
            p.wait()
        }
    }
}

/// Publishes `msgs` with flow control; returns once the broker has them all.
func preloadStream(port: Int, _ msgs: [(topic: String, payload: [UInt8])], qos: Int32) throws {
    var o = MQTTOptions()
    o.port = port
    o.clientID = "bench-pub"
    o.cleanSession = true
    o.maxInflight = 1000
    let client = MQTTClient(options: o, logger: Logger(label: "bench"))
    try client.start()
    usleep(200_000)
    for (i, m) in msgs.enumerated() {
        try client.publish(topic: m.topic, payload: m.payload, qos: qos)
        if i % 2000 == 1999 { client.waitForPublished(atMost: 1000) }
    }
    // A last QoS 1 message: its acknowledgement means every earlier one reached the broker.
    try client.publish(topic: "sentra/bench/loom/end", payload: Array("{}".utf8), qos: 1)
    client.waitForPublished(atMost: 0, timeout: 120)
    client.stop()
}
