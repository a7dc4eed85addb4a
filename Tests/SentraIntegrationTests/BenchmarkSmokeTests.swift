import Foundation
import Testing

/// The benchmark commands run with small N so they never rot. No timing is asserted:
/// speed belongs in BENCHMARKS.md.
@Suite(.serialized) struct BenchmarkSmokeTests {
    let bin = (Paths.binary("sentrad") as NSString).deletingLastPathComponent

    @Test func pipelineBenchmarkRuns() throws {
        let (status, out) = try run(Paths.binary("sentra-bench"), ["pipeline", "--readings", "3000", "--rounds", "1", "--looms", "40"])
        #expect(status == 0, "\(out)")
        #expect(out.contains("accepted 3000"), "\(out)")
    }

    @Test func journalBenchmarkRuns() throws {
        let (status, out) = try run(
            Paths.binary("sentra-bench"), ["journal", "--messages", "3000", "--rounds", "1", "--capacity", "1048576"])
        #expect(status == 0, "\(out)")
        #expect(out.contains("through the journal"), "\(out)")
    }

    @Test func endToEndBenchmarkRunsAgainstMosquittoSub() throws {
        let (status, out) = try run(
            Paths.binary("sentra-bench"), ["e2e", "--count", "2000", "--qos", "1", "--bin", bin, "--config", Paths.exampleConfig])
        #expect(status == 0, "\(out)")
        #expect(out.contains("sentrad:"), "\(out)")
        #expect(out.contains("mosquitto_sub:"), "\(out)")
    }

    /// `sentra-bench` with `args`, which must succeed; its output.
    private func bench(_ args: [String]) throws -> String {
        let (status, out) = try run(Paths.binary("sentra-bench"), args + ["--bin", bin, "--config", Paths.exampleConfig])
        #expect(status == 0, "\(out)")
        return out
    }

    @Test func drainBenchmarkAlternatesAndGivesMedians() throws {
        let out = try bench(["e2e", "--drain", "--runs", "2", "--threads", "--count", "2000", "--qos", "0"])
        #expect(out.contains("QoS 0, run 2:"), "\(out)")
        #expect(out.contains("QoS 0, median of 2 alternated runs"), "\(out)")
        #expect(out.contains("sentrad's threads") && out.contains("sentra-ingest"), "\(out)")
    }

    @Test func latencyBenchmarkTimesTheLineAndThePluginAgainstFsync() throws {
        let out = try bench(["latency", "--probes", "6", "--load", "500"])
        #expect(out.contains("a plugin has it"), "\(out)")
        #expect(out.contains("written and fsync'd"), "\(out)")
        #expect(out.contains("durable p99"), "\(out)")
    }

    @Test func memoryBenchmarkBreaksTheResidentSetDown() throws {
        let out = try bench(["memory", "--looms", "30", "--craftsmen", "5", "--rounds", "2"])
        #expect(out.contains("large: 30 looms"), "\(out)")
        #expect(out.contains("resident by mapping") && out.contains("the binary (sentrad)"), "\(out)")
    }

    @Test func restartBenchmarkRuns() throws {
        let (status, out) = try run(
            Paths.binary("sentra-bench"), ["restart", "--days", "2", "--runs", "1", "--bin", bin, "--config", Paths.exampleConfig])
        #expect(status == 0, "\(out)")
        #expect(out.contains("restart: median"), "\(out)")
    }

    @Test func httpBenchmarkRuns() throws {
        let (status, out) = try run(
            Paths.binary("sentra-bench"),
            [
                "http", "--looms", "30", "--craftsmen", "5", "--rounds", "2", "--requests", "2", "--bin", bin, "--config",
                Paths.exampleConfig,
            ])
        #expect(status == 0, "\(out)")
        #expect(out.contains("GET /metrics"), "\(out)")
        #expect(out.contains("large: 30 looms"), "\(out)")
    }
}
