import ArgumentParser
import Foundation
import SentraConfig
import SentraCore

/// `sentra-bench`: the project's benchmarks. Each prints its result against a reference
/// measured in the same run, because these machines are shared and noisy.
@main
struct SentraBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentra-bench", abstract: "Sentra's benchmarks (see BENCHMARKS.md).",
        subcommands: [Pipeline.self, Memory.self, EndToEnd.self])
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
            abstract: "Readings per second per core through parse, registry lookup, aggregation (and rules), against a loop that only copies the payload bytes.")
        @Option(help: "Readings per round.") var readings = 1_000_000
        @Option(help: "Rounds; the best is reported.") var rounds = 5
        @Option(help: "Looms in the synthetic sentra.") var looms = 400

        func run() throws {
            let registry = Synthetic.registry(workshops: max(1, looms / 40), craftsmen: max(1, looms / 5), looms: looms)
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 6 * 86_400_000
            let msgs = Synthetic.messages(registry, count: readings, start: start)
            let now = start + 6 * 86_400_000
            let bytes = msgs.reduce(0) { $0 + $1.payload.count }

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

            var best = Double.infinity
            var accepted: UInt64 = 0
            for _ in 0..<rounds {
                var p = IngestPipeline(registry: registry, calendar: LocalCalendar(identifier: "Asia/Jakarta")!)
                let t0 = nowNanos()
                for m in msgs { m.payload.withUnsafeBytes { p.ingest(topic: m.topic, payload: $0, now: now) } }
                best = min(best, Double(nowNanos() - t0) / 1e9)
                accepted = p.stats.accepted
            }
            let rate = Double(readings) / best
            let refRate = Double(readings) / bestRef
            print("pipeline: \(readings) readings (\(bytes / readings) bytes avg), \(looms) looms, best of \(rounds)")
            print(String(format: "  reference (copy payload bytes): %.0f readings/s", refRate))
            print(String(format: "  sentra pipeline:                %.0f readings/s/core (%.0f ns/reading)", rate, best * 1e9 / Double(readings)))
            print(String(format: "  ratio pipeline/reference: %.3f; target 1,000,000 readings/s/core: %@", rate / refRate, rate >= 1_000_000 ? "met" : "MISSED"))
            print("  accepted \(accepted) (checksum \(checksum % 10))")
        }
    }

    struct Memory: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resident memory of the pipeline state for the example sentra and a synthetic large one.")
        @Option(help: "The example configuration.") var config = "config/sentra.example.yaml"
        @Option(help: "Looms in the large synthetic sentra.") var looms = 10_000
        @Option(help: "Craftsmen in the large synthetic sentra.") var craftsmen = 1_000

        func run() throws {
            let base = residentBytes()
            let example = try Configuration.load(path: config).registry
            let large = Synthetic.registry(workshops: 100, craftsmen: craftsmen, looms: looms)
            for (name, r) in [("example", example), ("large", large)] {
                let before = residentBytes()
                var p = IngestPipeline(registry: r, calendar: LocalCalendar(identifier: "Asia/Jakarta")!)
                let start = Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000
                // Every device reports for an hour (360 rounds would take long; 30 rounds fill every structure).
                let msgs = Synthetic.messages(r, count: r.devices.count * 30, start: start)
                for m in msgs { m.payload.withUnsafeBytes { p.ingest(topic: m.topic, payload: $0, now: start + 86_400_000) } }
                let after = residentBytes()
                print("\(name): \(r.looms.count) looms, \(r.craftsmen.count) craftsmen, \(r.devices.count) devices: pipeline state +\((after - before) / 1024) KiB (process RSS \(after / 1_048_576) MiB, baseline \(base / 1_048_576) MiB)")
                _ = p.stats.accepted
            }
        }
    }
}
