import ArgumentParser
import Foundation
import SentraConfig
import SentraCore
import SentraProcess
import SentraStore

extension SentraBench {
    /// What the HTTP face costs: each path's answer time and size against `/api/v1/status`
    /// (the smallest answer through the same server, measured in the same run), on the example
    /// sentra and a large synthetic one, and the daemon's memory before and after.
    struct HTTP: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time and size of /metrics and the API on the example and a large sentra, against /api/v1/status.")
        @Option(help: "The example configuration.") var config = "config/sentra.example.yaml"
        @Option(help: "Looms in the large synthetic sentra.") var looms = 10_000
        @Option(help: "Craftsmen in the large synthetic sentra.") var craftsmen = 1_000
        @Option(help: "Readings per device before measuring.") var rounds = 10
        @Option(help: "Requests per path.") var requests = 20
        @Option(help: "Directory of the built binaries.") var bin = ".build/release"

        func run() throws {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-bench-http-\(UUID().uuidString.prefix(8))")
                .path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let large = Synthetic.registry(workshops: 100, craftsmen: craftsmen, looms: looms)
            let largeConfig = "\(work)/large.yaml"
            try Synthetic.yaml(large).write(toFile: largeConfig, atomically: true, encoding: .utf8)
            let paths = [
                "/api/v1/status", "/metrics", "/api/v1/sentra", "/api/v1/production", "/api/v1/production/usual", "/api/v1/alerts", "/",
            ]
            for (name, path) in [("example", config), ("large", largeConfig)] {
                let daemon = try FedDaemon(bin: bin, config: path, work: work, name: name)
                let (d, registry, httpPort) = (daemon.proc, daemon.registry, daemon.httpPort)
                let taken = try daemon.feed(rounds: rounds, start: Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000)
                let before = d.residentBytes
                let peakBefore = d.peakResidentBytes
                print(
                    "\(name): \(registry.looms.count) looms, \(registry.craftsmen.count) craftsmen, \(registry.devices.count) devices, \(taken) readings taken"
                )
                var reference = 0.0
                for p in paths {
                    var times: [Double] = []
                    var size = 0
                    for _ in 0..<requests {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        let (status, body) = try Loopback.get(port: httpPort, path: p)
                        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                        guard status == 200 else { throw BenchError("GET \(p) answered \(status)") }
                        size = body.count
                    }
                    times.sort()
                    let median = times[times.count / 2]
                    if p == paths[0] { reference = median }
                    print(
                        "  GET \(p.padding(toLength: 26, withPad: " ", startingAt: 0)) median \(String(format: "%8.2f", median)) ms, p90 \(String(format: "%8.2f", times[times.count * 9 / 10])) ms, "
                            + "\(String(format: "%7.1f", median / reference))x the reference, \(size / 1024) KiB, peak RSS \(d.peakResidentBytes / 1_048_576) MiB"
                    )
                }
                print(
                    "  sentrad RSS \(before / 1_048_576) MiB before the requests (peak so far \(peakBefore / 1_048_576) MiB), "
                        + "\(d.residentBytes / 1_048_576) MiB after (peak \(d.peakResidentBytes / 1_048_576) MiB)")
                daemon.stop()
            }
            try? FileManager.default.removeItem(atPath: work)
        }
    }
}
