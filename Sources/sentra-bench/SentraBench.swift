import ArgumentParser
import Foundation
import SentraAlerts
import SentraConfig
import SentraCore
import SentraJournal
import SentraProcess
import SentraStore

/// `sentra-bench`: the project's benchmarks. Each prints its result against a reference
/// measured in the same run, because these machines are shared and noisy.
@main
struct SentraBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentra-bench", abstract: "Sentra's benchmarks (see BENCHMARKS.md).",
        subcommands: [Pipeline.self, JournalCost.self, EndToEnd.self, Latency.self, Memory.self, Restart.self, HTTP.self])
}

func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

/// Resident memory of this process, bytes (VmRSS).
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
    return 0
}

extension SentraBench {
    struct Pipeline: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Readings per second per core through parse, registry lookup, aggregation (and rules), against a loop that only copies the payload bytes."
        )
        @Option(help: "Readings per round.") var readings = 1_000_000
        @Option(help: "Rounds; the best is reported.") var rounds = 5
        @Option(help: "Looms in the synthetic sentra.") var looms = 400
        @Option(help: "The configuration whose alert rules are evaluated.") var config = "config/sentra.example.yaml"
        @Flag(help: "Keep the journal's released pages mapped (no MADV_DONTNEED), to compare.") var keepPages = false
        @Flag(help: "Also time each off-the-shelf profile's messages (Tasmota, Shelly gen2 and gen1, ESPHome) against native ones.")
        var profiles = false

        func run() throws {
            let registry = Synthetic.registry(workshops: max(1, looms / 40), craftsmen: max(1, looms / 5), looms: looms)
            let rules = try Configuration.load(path: config).rules
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 6 * 86_400_000
            let msgs = Synthetic.messages(registry, count: readings, start: start)
            let now = start + 6 * 86_400_000
            let bytes = msgs.reduce(0) { $0 + $1.payload.count }
            let reference = timeReference(msgs)
            let measured = try timePipeline(msgs, registry: registry, rules: rules, now: now)
            let best = measured.best
            let bestRef = reference.seconds
            let rate = Double(readings) / best.alone
            let refRate = Double(readings) / bestRef
            let ns = { (t: Double) in t * 1e9 / Double(readings) }
            print(
                "pipeline: \(readings) readings (\(bytes / readings) bytes avg), \(looms) looms, \(rules.count) alert rules, best of \(rounds)"
            )
            print(String(format: "  reference (copy payload bytes): %.0f readings/s", refRate))
            print(String(format: "  sentra pipeline:                %.0f readings/s/core (%.0f ns/reading)", rate, ns(best.alone)))
            print(
                String(
                    format:
                        "  with a String and an Array made per message (the receive path before the journal): %.0f readings/s/core (%.0f ns)",
                    Double(readings) / best.copied, ns(best.copied)))
            print(
                String(
                    format:
                        "  through the receive journal (append, read, release): %.0f readings/s/core (%.0f ns); journal/pipeline %.3f, journal/before %.3f",
                    Double(readings) / best.journal, ns(best.journal), best.alone / best.journal, best.copied / best.journal))
            print(
                String(
                    format:
                        "  ratio pipeline/reference: %.3f; target 1,500,000 readings/s/core: %@; journal within 5%% of the pipeline: %@",
                    rate / refRate, rate >= 1_500_000 ? "met" : "MISSED", best.alone / best.journal >= 0.95 ? "met" : "MISSED"))
            print("  accepted \(measured.accepted) (checksum \(reference.checksum % 10))")
            if profiles { try timeProfiles(native: best.alone, rules: rules, start: start, now: now) }
        }

        /// Each profile's messages through the same pipeline (rules included), a registry of
        /// as many devices, against the native readings timed in the same run.
        private func timeProfiles(native: Double, rules: [RuleSpec], start: Int64, now: Int64) throws {
            let nativeNs = native * 1e9 / Double(readings)
            print("  off-the-shelf profiles (per message, best of \(rounds); native \(String(format: "%.0f", nativeNs)) ns):")
            for profile in ProfileSynthetic.profiles {
                let registry = ProfileSynthetic.registry(profile: profile, devices: looms)
                let msgs = ProfileSynthetic.messages(profile: profile, registry: registry, count: readings, start: start)
                let topics = msgs.map { Array($0.topic.utf8) }
                let bytes = msgs.reduce(0) { $0 + $1.payload.count } / readings
                var best = Double.infinity
                var accepted: UInt64 = 0
                for _ in 0..<rounds {
                    var p = IngestPipeline(registry: registry, calendar: LocalCalendar(identifier: "Asia/Jakarta")!)
                    p.observer = AlertEngine(
                        registry: registry, rules: rules, calendar: LocalCalendar(identifier: "Asia/Jakarta")!, startedAt: now,
                        usualRates: NoHistory()
                    ) { _ in }
                    let t0 = nowNanos()
                    for (i, m) in msgs.enumerated() {
                        topics[i].withUnsafeBytes { t in m.payload.withUnsafeBytes { p.ingest(topic: t, payload: $0, now: now) } }
                    }
                    best = min(best, Double(nowNanos() - t0) / 1e9)
                    accepted = p.stats.accepted
                }
                guard accepted == UInt64(readings) else { throw ValidationError("\(profile): \(accepted) of \(readings) accepted") }
                let ns = best * 1e9 / Double(readings)
                print(
                    String(
                        format: "    %@ %4d bytes avg  %9.0f messages/s/core  %5.0f ns  %.2f× native (target ≤ 1.5×: %@)",
                        profile.padding(toLength: 12, withPad: " ", startingAt: 0), bytes, Double(readings) / best, ns, ns / nativeNs,
                        ns / nativeNs <= 1.5 ? "met" : "MISSED"))
            }
        }

        /// The reference: only copying each payload's bytes, best of `rounds` (seconds), and a
        /// checksum of what was copied so the loop is not optimised away.
        private func timeReference(_ msgs: [(topic: String, payload: [UInt8])]) -> (seconds: Double, checksum: Int) {
            var bestRef = Double.infinity
            var sink: [UInt8] = Array(repeating: 0, count: 8192)
            var checksum = 0
            for _ in 0..<rounds {
                let t0 = nowNanos()
                for m in msgs {
                    m.payload.withUnsafeBytes { src in
                        sink.withUnsafeMutableBytes { dst in dst.copyMemory(from: src) }
                    }
                    checksum &+= Int(sink[m.payload.count - 1])
                }
                bestRef = min(bestRef, Double(nowNanos() - t0) / 1e9)
            }
            return (bestRef, checksum)
        }

        /// The pipeline alone, the way the daemon ran it before the receive journal (a String
        /// and an Array made per message by the MQTT callback), and through the journal: the
        /// best of `rounds` of each (seconds), and the readings accepted.
        private func timePipeline(
            _ msgs: [(topic: String, payload: [UInt8])], registry: Registry, rules: [RuleSpec], now: Int64
        ) throws -> (best: (alone: Double, copied: Double, journal: Double), accepted: UInt64) {
            let topics = msgs.map { Array($0.topic.utf8) }
            let bench = try BenchJournal(capacity: 32 << 20, keepPages: keepPages)
            let payloads = msgs.map(\.payload)
            var best = (alone: Double.infinity, copied: Double.infinity, journal: Double.infinity)
            var accepted: UInt64 = 0
            func makePipeline() -> IngestPipeline {
                var p = IngestPipeline(registry: registry, calendar: LocalCalendar(identifier: "Asia/Jakarta")!)
                p.observer = AlertEngine(
                    registry: registry, rules: rules, calendar: LocalCalendar(identifier: "Asia/Jakarta")!, startedAt: now,
                    usualRates: NoHistory()
                ) { _ in }
                return p
            }
            for _ in 0..<rounds {
                var p = makePipeline()
                var t0 = nowNanos()
                for (i, m) in msgs.enumerated() {
                    topics[i].withUnsafeBytes { t in m.payload.withUnsafeBytes { p.ingest(topic: t, payload: $0, now: now) } }
                }
                best.alone = min(best.alone, Double(nowNanos() - t0) / 1e9)
                accepted = p.stats.accepted

                p = makePipeline()
                t0 = nowNanos()
                for (i, m) in msgs.enumerated() {
                    let topic = topics[i].withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                    let payload = m.payload.withUnsafeBytes { Array($0) }
                    payload.withUnsafeBytes { p.ingest(topic: topic, payload: $0, now: now) }
                }
                best.copied = min(best.copied, Double(nowNanos() - t0) / 1e9)

                p = makePipeline()
                t0 = nowNanos()
                bench.pass(topics: topics, payloads: payloads, receivedAt: now) { e in
                    p.ingest(topic: e.topic, payload: e.payload, now: e.receivedAt, payloadTooLarge: e.truncated)
                }
                best.journal = min(best.journal, Double(nowNanos() - t0) / 1e9)
                precondition(p.stats.accepted == accepted, "the journal path accepted \(p.stats.accepted), the pipeline \(accepted)")
            }
            return (best, accepted)
        }
    }

    struct Memory: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Resident memory of a running sentrad with the example sentra and with a synthetic large one, after every device reported.")
        @Option(help: "The example configuration.") var config = "config/sentra.example.yaml"
        @Option(help: "Looms in the large synthetic sentra.") var looms = 10_000
        @Option(help: "Craftsmen in the large synthetic sentra.") var craftsmen = 1_000
        @Option(help: "Readings per device.") var rounds = 30
        @Option(help: "Directory of the built binaries.") var bin = ".build/release"
        @Flag(
            help:
                "Then page sentrad's file mappings out (process_madvise) and measure what comes back: with readings only, and with the dashboard's requests."
        )
        var workingSet = false

        /// Resident memory once start-up's pages are gone: after more readings, then after
        /// the requests a dashboard makes.
        private func measureWorkingSet(_ daemon: FedDaemon) throws -> String {
            let pid = daemon.proc.pid
            let advised = WorkingSet.pageOutFileMappings(pid: pid)
            let after = daemon.proc.residentBytes
            _ = try daemon.feed(rounds: rounds, start: Int64(Date().timeIntervalSince1970 * 1000) - 43_200_000)
            let ingest = Smaps(pid: pid)
            for path in [
                "/", "/app.js", "/api/v1/sentra?view=summary", "/api/v1/production/usual?view=summary", "/api/v1/alerts", "/api/v1/status",
                "/metrics",
            ] {
                _ = try Loopback.get(port: daemon.httpPort, path: path)
            }
            let http = Smaps(pid: pid)
            return "  working set: \(advised / 1_048_576) MiB of file mappings paged out, RSS \(after / 1_048_576) MiB right after; "
                + "\(ingest.total / 1024) MiB after \(rounds) more readings per device (file-backed \(ingest.fileBacked / 1024) MiB), "
                + "\(http.total / 1024) MiB after the dashboard's requests and a scrape (file-backed \(http.fileBacked / 1024) MiB)"
        }

        func run() throws {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-bench-mem-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let large = Synthetic.registry(workshops: 100, craftsmen: craftsmen, looms: looms)
            let largeConfig = "\(work)/large.yaml"
            try Synthetic.yaml(large).write(toFile: largeConfig, atomically: true, encoding: .utf8)
            for (name, path) in [("example", config), ("large", largeConfig)] {
                let daemon = try FedDaemon(bin: bin, config: path, work: work, name: name)
                let (d, registry) = (daemon.proc, daemon.registry)
                let idle = d.residentBytes
                let taken = try daemon.feed(rounds: rounds, start: Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000)
                let rss = d.residentBytes
                let smaps = Smaps(pid: d.pid)
                let workingSet = try self.workingSet ? measureWorkingSet(daemon) : nil
                daemon.stop()
                print(
                    "\(name): \(registry.looms.count) looms, \(registry.craftsmen.count) craftsmen, \(registry.devices.count) devices, \(taken) readings: "
                        + "sentrad RSS \(rss / 1_048_576) MiB (idle after start \(idle / 1_048_576) MiB); target ≤ \(name == "example" ? 24 : 48) MiB"
                )
                print(smaps.report())
                if let workingSet { print(workingSet) }
            }
            try? FileManager.default.removeItem(atPath: work)
        }
    }
}

extension SentraBench {
    struct JournalCost: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "journal", abstract: "The receive journal alone: append, read and release per message, against copying the bytes.")
        @Option(help: "Messages per round.") var messages = 1_000_000
        @Option(help: "Rounds.") var rounds = 5
        @Option(help: "Journal bytes.") var capacity = 32 << 20
        @Flag(help: "The ring on disk (ext4) instead of a tmpfs, to compare.") var onDisk = false
        @Flag(help: "Keep released pages mapped (no MADV_DONTNEED), to compare.") var keepPages = false
        func run() throws {
            let registry = Synthetic.registry(workshops: 10, craftsmen: 80, looms: 400)
            let msgs = Synthetic.messages(registry, count: messages, start: 1_764_000_000_000)
            let topics = msgs.map { Array($0.topic.utf8) }
            let bench = try BenchJournal(capacity: capacity, ringOnDisk: onDisk, keepPages: keepPages)
            let payloads = msgs.map(\.payload)
            var sink = [UInt8](repeating: 0, count: 1 << 16)
            var x = 0
            for _ in 0..<rounds {
                var u0 = rusage(); getrusage(RUSAGE_SELF.rawValue, &u0)
                var t0 = nowNanos()
                for k in 0..<msgs.count {
                    topics[k].withUnsafeBytes { t in
                        msgs[k].payload.withUnsafeBytes { p in
                            sink.withUnsafeMutableBytes { d in
                                d.baseAddress!.copyMemory(from: t.baseAddress!, byteCount: t.count)
                                (d.baseAddress! + t.count).copyMemory(from: p.baseAddress!, byteCount: p.count)
                            }
                        }
                    }
                    x &+= Int(sink[k & 63])
                }
                let copy = Double(nowNanos() - t0) / Double(msgs.count)
                t0 = nowNanos()
                bench.pass(topics: topics, payloads: payloads) { e in x &+= e.payload.count }
                let j = Double(nowNanos() - t0) / Double(msgs.count)
                var u1 = rusage(); getrusage(RUSAGE_SELF.rawValue, &u1)
                print(
                    String(
                        format:
                            "copy topic and payload %.0f ns/msg; through the journal (append, read, release) %.0f ns/msg; %d page faults",
                        copy, j, u1.ru_minflt - u0.ru_minflt))
            }
            print("(checksum \(x % 10))")
        }
    }
}

/// A receive journal laid out as the daemon keeps it (the ring on a tmpfs, its copy on disk,
/// synced once a second), removed when done.
final class BenchJournal {
    let journal: ReceiveJournal
    private let dirs: [String]

    init(capacity: Int, ringOnDisk: Bool = false, keepPages: Bool = false) throws {
        let id = UUID().uuidString.prefix(8)
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-bench-journal-\(id)").path
        let shm = "/dev/shm/sentra-bench-\(id)"
        dirs = [disk, shm]
        journal = try ReceiveJournal(
            path: ((ringOnDisk ? disk : shm) as NSString).appendingPathComponent("ring"),
            mirror: (disk as NSString).appendingPathComponent("receive.journal"), capacity: capacity, resumeAt: nil)
        journal.dropsReleasedPages = !keepPages
        journal.startSyncing(interval: 1)
    }

    deinit {
        journal.stopSyncing()
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
    }

    /// Appends a chunk of messages as the MQTT callback would, reads it as the ingest thread
    /// does, and releases what a commit would have counted every 64 Ki messages.
    func pass(topics: [[UInt8]], payloads: [[UInt8]], receivedAt: Int64 = 0, _ body: (JournalEntry) -> Void) {
        var i = 0
        while i < topics.count {
            let end = min(topics.count, i + 1024)
            for k in i..<end {
                topics[k].withUnsafeBytes { t in
                    payloads[k].withUnsafeBytes { _ = journal.append(topic: t, payload: $0, receivedAt: receivedAt) }
                }
            }
            _ = journal.read(max: end - i, deadline: Date.distantPast, linger: 0, body)
            if end / 65_536 != i / 65_536 || end == topics.count { journal.release(upTo: journal.readPosition) }
            i = end
        }
    }
}

/// A sentra with no past days: `below_usual` rules stay quiet, as on a first day.
final class NoHistory: UsualRateProvider {
    func usualPiecesPerHour(craftsman: String, hourOfDay: Int, weekday: Int, beforeDate: String, days: Int) -> Double? { nil }
}
