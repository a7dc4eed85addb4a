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
        @Option(help: "Commit interval for this run's sentrad (the example's is 1s).") var commitInterval = "1s"

        @Flag(
            help:
                "A backlog drain: each run queues the stream while both subscribers are away, then each drains it alone, in alternating order; medians of --runs."
        )
        var drain = false
        @Option(help: "Runs per QoS level with --drain (at least 5 for a verdict).") var runs = 5
        @Flag(help: "Print each of sentrad's threads' CPU time and context switches after its drain.") var threads = false

        func run() throws {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-bench-e2e-\(UUID().uuidString.prefix(8))").path
            let registry = try Configuration.load(path: config).registry
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 6 * 86_400_000
            let msgs = Synthetic.messages(registry, count: count, start: start)
            let n = drain ? max(1, runs) : 1
            print(
                "e2e: \(count) messages, example sentra (\(registry.devices.count) devices), \(ProcessInfo.processInfo.activeProcessorCount) cores"
                    + (drain ? ", backlog drain, \(n) alternated runs per QoS level" : ""))
            defer { try? FileManager.default.removeItem(atPath: work) }
            for q in qos.split(separator: ",").compactMap({ Int32($0) }) {
                var results: [DrainRun] = []
                for i in 0..<n {
                    let r = try drainOnce(
                        qos: q, msgs, prefix: registry.topicPrefix, work: "\(work)/q\(q)-run\(i)", daemonFirst: i % 2 == 1)
                    r.print(qos: q, run: drain ? i + 1 : nil)
                    results.append(r)
                }
                if drain { DrainRun.printMedians(results, qos: q) }
            }
        }

        /// One run: a broker of its own and fresh state for sentrad, both sessions registered, the stream queued while
        /// both are away, then each subscriber drains it alone (sentrad first when `daemonFirst`).
        private func drainOnce(
            qos q: Int32, _ msgs: [(topic: String, payload: [UInt8])], prefix: String, work: String, daemonFirst: Bool
        ) throws -> DrainRun {
            let broker = try BenchBroker(dir: "\(work)/broker")
            let ring = "/dev/shm/sentra-bench-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: ring) }
            let benchConfig = try writeBenchConfig(in: work, runtimeDir: ring)
            let daemonArgs = [
                "--config", benchConfig, "--broker", "127.0.0.1:\(broker.port)", "--http", "127.0.0.1:\(Loopback.freePort())",
                "--state-dir", "\(work)/state", "--log-dir", "\(work)/log",
            ]
            try registerSessions(port: broker.port, prefix: prefix, daemonArgs: daemonArgs, log: "\(work)/sentrad-1.log")
            let pubStart = Date()
            try preloadStream(port: broker.port, msgs, qos: q, prefix: prefix)
            var run = DrainRun(preload: Date().timeIntervalSince(pubStart), count: count)
            let timeSub = {
                // mosquitto_sub: the limit of the client library and the broker.
                let b0 = broker.proc.cpuSeconds
                defer { run.brokerForSub = broker.proc.cpuSeconds - b0 }
                let t0 = Date()
                let sub = try Proc(
                    "/usr/bin/mosquitto_sub",
                    ["-p", "\(broker.port)", "-c", "-i", "bench-sub", "-q", "1", "-t", "\(prefix)/#", "-C", "\(count)"])
                run.subCPU = sub.wait()
                run.subSeconds = Date().timeIntervalSince(t0)
            }
            if !daemonFirst { try timeSub() }
            let b0 = broker.proc.cpuSeconds
            let d = try timeDaemon(daemonArgs, db: "\(work)/state/sentra.sqlite", log: "\(work)/sentrad-2.log")
            (run.seconds, run.cpu, run.rss) = (d.seconds, d.cpu, d.rss)
            run.brokerForDaemon = broker.proc.cpuSeconds - b0
            if daemonFirst { try timeSub() }
            return run
        }

        /// The example configuration with this run's commit interval and ring, written into `work`.
        private func writeBenchConfig(in work: String, runtimeDir: String) throws -> String {
            let text = try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "  commit_interval: 1s", with: "  commit_interval: \(commitInterval)")
                .replacingOccurrences(of: "\nstate_dir:", with: "\nruntime_dir: \(runtimeDir)\nstate_dir:")
            let benchConfig = "\(work)/sentra.yaml"
            try text.write(toFile: benchConfig, atomically: true, encoding: .utf8)
            return benchConfig
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
            if threads { print(ThreadStats.report(pid: d2.pid, wall: seconds)) }
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

/// One drain of the backlog by each subscriber.
struct DrainRun {
    var preload: Double
    var count: Int
    var subSeconds = 0.0
    var subCPU = 0.0
    var seconds = 0.0
    var cpu = 0.0
    var rss = 0
    /// The broker's CPU seconds while each drained.
    var brokerForSub = 0.0
    var brokerForDaemon = 0.0

    var subRate: Double { Double(count) / subSeconds }
    var rate: Double { Double(count) / seconds }
    var rateRatio: Double { rate / subRate }
    var cpuRatio: Double { cpu / subCPU }

    func print(qos: Int32, run: Int?) {
        Swift.print("QoS \(qos)\(run.map { ", run \($0)" } ?? ""): preloaded in \(String(format: "%.2f", preload)) s")
        // Cores busy: the subscriber and the broker together, over the drain's wall time.
        Swift.print(
            String(
                format: "  mosquitto_sub: %.0f msg/s, CPU %.2f µs/msg; broker %.2f µs/msg; %.2f cores busy", subRate,
                subCPU / Double(count) * 1e6, brokerForSub / Double(count) * 1e6, (subCPU + brokerForSub) / subSeconds))
        Swift.print(
            String(
                format: "  sentrad:       %.0f msg/s, CPU %.2f µs/msg; broker %.2f µs/msg; %.2f cores busy; RSS %d MiB", rate,
                cpu / Double(count) * 1e6, brokerForDaemon / Double(count) * 1e6, (cpu + brokerForDaemon) / seconds, rss / 1_048_576))
        Swift.print(String(format: "  rate ratio %.3f (target ≥ 0.95), CPU ratio %.2f (target ≤ 1.3)", rateRatio, cpuRatio))
    }

    static func printMedians(_ runs: [DrainRun], qos: Int32) {
        func median(_ f: (DrainRun) -> Double) -> Double {
            let v = runs.map(f).sorted()
            return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
        }
        let us = { (x: Double, n: Int) in x / Double(n) * 1e6 }
        Swift.print(
            String(
                format: "QoS %d, median of %d alternated runs: sentrad %.0f msg/s, %.2f µs CPU/msg; mosquitto_sub %.0f msg/s, %.2f µs",
                qos, runs.count, median(\.rate), median { us($0.cpu, $0.count) }, median(\.subRate), median { us($0.subCPU, $0.count) }))
        let each = { (f: (DrainRun) -> Double) in runs.map { String(format: "%.2f", f($0)) }.joined(separator: " ") }
        Swift.print(
            String(
                format: "  median rate ratio %.3f (target ≥ 0.95), median CPU ratio %.2f (target ≤ 1.3)", median(\.rateRatio),
                median(\.cpuRatio))
                + "; rate ratios \(each(\.rateRatio)), CPU ratios \(each(\.cpuRatio))")
    }
}

/// Each thread of a process: CPU seconds, and how often it gave up its core (voluntary: it
/// waited for something) or had it taken (involuntary: preempted), from /proc/PID/task.
enum ThreadStats {
    static func report(pid: pid_t, wall: Double) -> String {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var lines = [String(format: "  sentrad's threads over its %.2f s:", wall)]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for tid in tasks.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
            let dir = "/proc/\(pid)/task/\(tid)"
            guard let stat = try? String(contentsOfFile: "\(dir)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")"),
                let status = try? String(contentsOfFile: "\(dir)/status", encoding: .utf8)
            else { continue }
            let name = (try? String(contentsOfFile: "\(dir)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            let f = stat[stat.index(after: close)...].split(separator: " ")
            let cpu = ((Double(f[11]) ?? 0) + (Double(f[12]) ?? 0)) / ticks
            guard cpu > 0.005 else { continue }
            let field = { (key: String) in
                status.split(separator: "\n").first { $0.hasPrefix(key) }.map { $0.split(separator: "\t").last.map(String.init) ?? "?" }
                    ?? "?"
            }
            lines.append(
                "    " + name.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + String(format: " CPU %.3f s (%3.0f %% of the wall time)", cpu, cpu / wall * 100)
                    + ", waited \(field("voluntary_ctxt_switches")), preempted \(field("nonvoluntary_ctxt_switches"))")
        }
        return lines.joined(separator: "\n")
    }
}
