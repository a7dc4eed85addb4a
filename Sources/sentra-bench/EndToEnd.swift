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
            let benchConfig = try writeBenchConfig(in: work)
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 6 * 86_400_000
            let msgs = Synthetic.messages(registry, count: count, start: start)
            print(
                "e2e: \(count) messages, example sentra (\(registry.devices.count) devices), \(ProcessInfo.processInfo.activeProcessorCount) cores"
            )
            for q in qos.split(separator: ",").compactMap({ Int32($0) }) {
                try run(qos: q, msgs, prefix: registry.topicPrefix, work: work, benchConfig: benchConfig)
            }
            try? FileManager.default.removeItem(atPath: work)
        }

        /// The example configuration with this run's commit interval, written into `work`.
        private func writeBenchConfig(in work: String) throws -> String {
            let text = try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "  commit_interval: 1s", with: "  commit_interval: \(commitInterval)")
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let benchConfig = "\(work)/sentra.yaml"
            try text.write(toFile: benchConfig, atomically: true, encoding: .utf8)
            return benchConfig
        }

        /// One QoS level: a broker of its own, the stream preloaded, then mosquitto_sub and
        /// sentrad each timed taking all of it.
        private func run(
            qos q: Int32, _ msgs: [(topic: String, payload: [UInt8])], prefix: String, work: String, benchConfig: String
        ) throws {
            let broker = try BenchBroker(dir: "\(work)/broker-q\(q)")
            let address = "127.0.0.1:\(broker.port)"
            let daemonArgs = [
                "--config", benchConfig, "--broker", address, "--http", "127.0.0.1:\(Loopback.freePort())", "--state-dir",
                "\(work)/state-q\(q)", "--log-dir", "\(work)/log-q\(q)",
            ]
            try registerSessions(port: broker.port, prefix: prefix, daemonArgs: daemonArgs, log: "\(work)/sentrad-q\(q)-1.log")
            let pubStart = Date()
            try preloadStream(port: broker.port, msgs, qos: q, prefix: prefix)
            let pubSeconds = Date().timeIntervalSince(pubStart)

            // mosquitto_sub: the limit of the client library and the broker.
            let t0 = Date()
            let sub2 = try Proc(
                "/usr/bin/mosquitto_sub",
                ["-p", "\(broker.port)", "-c", "-i", "bench-sub", "-q", "1", "-t", "\(prefix)/#", "-C", "\(count)"])
            let subCPU = sub2.wait()
            let subSeconds = Date().timeIntervalSince(t0)

            let daemon = try timeDaemon(daemonArgs, db: "\(work)/state-q\(q)/sentra.sqlite", log: "\(work)/sentrad-q\(q)-2.log")
            let subRate = Double(count) / subSeconds
            let rate = Double(count) / daemon.seconds
            let cpu = daemon.cpu
            print("QoS \(q): preloaded in \(String(format: "%.2f", pubSeconds)) s")
            print(String(format: "  mosquitto_sub: %.0f msg/s, CPU %.2f µs/msg", subRate, subCPU / Double(count) * 1e6))
            print(
                String(
                    format: "  sentrad:       %.0f msg/s, CPU %.2f µs/msg, RSS %d MiB", rate, cpu / Double(count) * 1e6,
                    daemon.rss / 1_048_576
                ))
            print(
                String(
                    format: "  rate ratio %.3f (target ≥ 0.95), CPU ratio %.2f (target ≤ 1.3)", rate / subRate,
                    (cpu / Double(count)) / (subCPU / Double(count))))
        }

        /// Registers both persistent sessions (mosquitto_sub's and sentrad's), so the broker
        /// keeps the stream for both while they are away.
        private func registerSessions(port: Int, prefix: String, daemonArgs: [String], log: String) throws {
            let sub = try Proc(
                "/usr/bin/mosquitto_sub", ["-p", "\(port)", "-c", "-i", "bench-sub", "-q", "1", "-t", "\(prefix)/#", "-C", "1"])
            let d1 = try Proc("\(bin)/sentrad", daemonArgs, output: log)
            try waitFor("sentrad to subscribe") {
                (try? String(contentsOfFile: log, encoding: .utf8))?.contains("connected to broker") == true
            }
            usleep(300_000)
            d1.signal(SIGTERM)
            d1.wait()
            try publishOne(port: port, topic: "\(prefix)/x/loom/x", payload: "{}")
            sub.wait()
        }

        /// sentrad: parse, aggregate, durable state. Its time to take every message, its CPU
        /// time and its resident memory.
        private func timeDaemon(_ daemonArgs: [String], db: String, log: String) throws -> (seconds: Double, cpu: Double, rss: Int) {
            let t1 = Date()
            let d2 = try Proc("\(bin)/sentrad", daemonArgs, output: log)
            var cpu = 0.0
            try waitFor("sentrad to take \(count) readings", timeout: 600) {
                cpu = d2.cpuSeconds
                guard FileManager.default.fileExists(atPath: db), let s = try? ProductionStore(readingFrom: db).meta("ingest_stats"),
                    let stats = try? WireJSON.decode(IngestStatsRecord.self, from: s)
                else { return false }
                return Int(stats.counts.accepted + stats.counts.rejectedTotal) >= count
            }
            let seconds = Date().timeIntervalSince(t1)
            let rss = d2.residentBytes
            d2.signal(SIGTERM)
            d2.wait()
            return (seconds, cpu, rss)
        }

        func publishOne(port: Int, topic: String, payload: String) throws {
            let p = try Proc("/usr/bin/mosquitto_pub", ["-p", "\(port)", "-q", "1", "-t", topic, "-m", payload])
            p.wait()
        }
    }
}

/// Publishes `msgs` with flow control; returns once the broker has them all. The last message
/// goes to `<prefix>/bench/loom/end`.
func preloadStream(
    port: Int, _ msgs: [(topic: String, payload: [UInt8])], qos: Int32, prefix: String = DeviceKey.defaultTopicPrefix
) throws {
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
    try client.publish(topic: "\(prefix)/bench/loom/end", payload: Array("{}".utf8), qos: 1)
    client.waitForPublished(atMost: 0, timeout: 120)
    client.stop()
}
