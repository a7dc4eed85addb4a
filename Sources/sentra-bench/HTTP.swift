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
            for (name, path) in [("example", config), ("large", largeConfig)] {
                let daemon = try FedDaemon(bin: bin, config: path, work: work, name: name)
                let (d, registry) = (daemon.proc, daemon.registry)
                if registry.looms.count > Self.fullSentraMaxLooms {
                    // Before any reading every loom is unknown, as off shift every loom stands: the
                    // summary's largest case.
                    try printRefresh(
                        "dashboard refresh before any reading (every loom not running)", Self.dashboardPaths(registry, open: nil),
                        port: daemon.httpPort)
                }
                let taken = try daemon.feed(rounds: rounds, start: Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000)
                let before = d.residentBytes
                let peakBefore = d.peakResidentBytes
                print(
                    "\(name): \(registry.looms.count) looms, \(registry.craftsmen.count) craftsmen, \(registry.devices.count) devices, \(taken) readings taken"
                )
                try timePaths(Self.paths(registry), daemon: daemon)
                try printRefresh(
                    "dashboard refresh before (the five whole answers)",
                    ["/api/v1/sentra", "/api/v1/production", "/api/v1/production/usual", "/api/v1/alerts", "/api/v1/status"],
                    port: daemon.httpPort)
                try printRefresh("dashboard refresh", Self.dashboardPaths(registry, open: nil), port: daemon.httpPort)
                if let w = registry.workshops.first, registry.looms.count > Self.fullSentraMaxLooms {
                    try printRefresh(
                        "dashboard refresh, one workshop open", Self.dashboardPaths(registry, open: w.id), port: daemon.httpPort)
                }
                print(
                    "  sentrad RSS \(before / 1_048_576) MiB before the requests (peak so far \(peakBefore / 1_048_576) MiB), "
                        + "\(d.residentBytes / 1_048_576) MiB after (peak \(d.peakResidentBytes / 1_048_576) MiB)")
                daemon.stop()
            }
            try? FileManager.default.removeItem(atPath: work)
        }

        /// Each path's answer time (median and p90 of `requests`) and size, against the first.
        func timePaths(_ paths: [String], daemon: FedDaemon) throws {
            var reference = 0.0
            for p in paths {
                var times: [Double] = []
                var size = 0
                for _ in 0..<requests {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let (status, body) = try Loopback.get(port: daemon.httpPort, path: p)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                    guard status == 200 else { throw BenchError("GET \(p) answered \(status)") }
                    size = body.count
                }
                times.sort()
                let median = times[times.count / 2]
                if p == paths[0] { reference = median }
                print(
                    "  GET \(p.padding(toLength: 52, withPad: " ", startingAt: 0)) median \(String(format: "%8.2f", median)) ms, p90 \(String(format: "%8.2f", times[times.count * 9 / 10])) ms, "
                        + "\(String(format: "%7.1f", median / reference))x the reference, \(size / 1024) KiB, peak RSS \(daemon.proc.peakResidentBytes / 1_048_576) MiB"
                )
            }
        }

        /// One line: the bytes of the answers to `paths` (headers included), each asked once.
        func printRefresh(_ label: String, _ paths: [String], port: Int) throws {
            var bytes = 0
            for p in paths {
                let (status, body) = try Loopback.get(port: port, path: p)
                guard status == 200 else { throw BenchError("GET \(p) answered \(status)") }
                bytes += body.count
            }
            print("  \(label): \(bytes / 1024) KiB in \(paths.count) requests (\(paths.joined(separator: ", ")))")
        }

        /// The paths timed: the whole answers, and the dashboard's narrower ones.
        static func paths(_ r: Registry) -> [String] {
            var paths = [
                "/api/v1/status", "/metrics", "/api/v1/sentra", "/api/v1/sentra?view=summary", "/api/v1/production",
                "/api/v1/production/usual", "/api/v1/production/usual?view=summary", "/api/v1/alerts", "/",
            ]
            if let w = r.workshops.first { paths.append("/api/v1/sentra?view=summary&workshop=\(escaped(w.id))") }
            if let c = r.craftsmen.first {
                paths += ["/api/v1/production/usual?craftsman=\(escaped(c.id))", "/api/v1/production?craftsman=\(escaped(c.id))"]
            }
            return paths
        }

        /// The largest sentra the dashboard fetches whole (app.js, `FULL_SENTRA_MAX_LOOMS`).
        static let fullSentraMaxLooms = 400

        /// The requests app.js makes in one refresh once loaded: the whole sentra when it has at
        /// most `fullSentraMaxLooms` looms, else its summary; the usual production's summary; the
        /// first craftsman's rows (his hours chart is open by default); alerts and status; and,
        /// for a large sentra with `open`, that workshop's looms.
        static func dashboardPaths(_ r: Registry, open workshop: String?) -> [String] {
            let whole = r.looms.count <= fullSentraMaxLooms
            var paths = [whole ? "/api/v1/sentra" : "/api/v1/sentra?view=summary", "/api/v1/production/usual?view=summary"]
            if let c = r.craftsmen.first {
                paths += ["/api/v1/production/usual?craftsman=\(escaped(c.id))", "/api/v1/production?craftsman=\(escaped(c.id))"]
            }
            paths += ["/api/v1/alerts", "/api/v1/status"]
            if let w = workshop, !whole { paths.append("/api/v1/sentra?view=summary&workshop=\(escaped(w))") }
            return paths
        }

        /// An id as a query value, as app.js's `encodeURIComponent` writes it.
        static func escaped(_ id: String) -> String {
            id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? id
        }
    }
}
