import ArgumentParser
import Foundation
import SentraConfig
import SentraCore
import SentraProcess
import SentraStore

extension SentraBench {
    struct Restart: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Time from SIGTERM to READY=1 of the next start, with a year of state for the example sentra; and the database's size.")
        @Option(help: "The example configuration.") var config = "config/sentra.example.yaml"
        @Option(help: "Days of hourly state to create.") var days = 365
        @Option(help: "Restarts to time.") var runs = 5
        @Option(help: "Directory of the built binaries.") var bin = ".build/release"

        func run() throws {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-bench-restart-\(UUID().uuidString.prefix(8))")
                .path
            try FileManager.default.createDirectory(atPath: "\(work)/state", withIntermediateDirectories: true)
            let c = try Configuration.load(path: config)
            let t0 = Date()
            let size = try Self.fillYear(c, db: "\(work)/state/sentra.sqlite", days: days)
            print(
                String(
                    format: "state: %d days of hourly rows for %d devices in %.1f s: database %.1f MiB", days, c.registry.devices.count,
                    Date().timeIntervalSince(t0), Double(size) / 1_048_576))

            let broker = try BenchBroker(dir: "\(work)/broker")
            let notify = try DatagramListener(path: "\(work)/notify")
            let args = [
                "--config", config, "--broker", "127.0.0.1:\(broker.port)", "--http", "127.0.0.1:\(Loopback.freePort())", "--state-dir",
                "\(work)/state", "--log-dir", "\(work)/log",
            ]
            var current = try Proc("\(bin)/sentrad", args, output: "\(work)/sentrad-0.log", environment: ["NOTIFY_SOCKET": notify.path])
            try waitFor("READY=1") { notify.messages.contains { $0.contains("READY=1") } }
            var samples: [Double] = []
            for i in 1...runs {
                let seen = notify.messages.count
                let start = Date()
                current.signal(SIGTERM)
                current.wait()
                let stopped = Date().timeIntervalSince(start)
                current = try Proc("\(bin)/sentrad", args, output: "\(work)/sentrad-\(i).log", environment: ["NOTIFY_SOCKET": notify.path])
                // Only a READY=1 of the new process counts.
                try waitFor("READY=1", poll: 0.001) { notify.messages.dropFirst(seen).contains { $0.contains("READY=1") } }
                let total = Date().timeIntervalSince(start)
                samples.append(total)
                print(String(format: "  restart %d: SIGTERM → exit %.0f ms, SIGTERM → READY=1 %.0f ms", i, stopped * 1000, total * 1000))
            }
            current.signal(SIGTERM)
            current.wait()
            samples.sort()
            print(
                String(
                    format: "restart: median %.0f ms, max %.0f ms over %d runs", samples[samples.count / 2] * 1000, samples.last! * 1000,
                    runs))
            try? FileManager.default.removeItem(atPath: work)
        }

        /// Writes `days` of hourly rows (every device, every hour) through the store's own commit.
        static func fillYear(_ c: Configuration, db: String, days: Int) throws -> Int64 {
            let store = try ProductionStore(path: db)
            let calendar = c.calendar
            let now = Int64(Date().timeIntervalSince1970) / 3600 * 3600
            let first = now - Int64(days) * 86_400
            var deltas = BucketDeltas()
            var hour = first
            while hour < now {
                for (i, d) in c.registry.devices.enumerated() {
                    let key = BucketKey(
                        hour: hour, device: Int32(i),
                        craftsman: d.loom.map { l in
                            Int32(c.registry.craftsmen.firstIndex { $0.id == c.registry.loom(l)!.currentCraftsman }!)
                        } ?? -1)
                    switch d.kind {
                    case .loom:
                        deltas.add(key, .picks, 1800)
                        deltas.add(key, .pieces, 1)
                        deltas.add(key, .runMs, 3_000_000)
                        deltas.add(key, .stopMs, 600_000)
                    case .power:
                        deltas.add(key, .kwh, 1.25)
                    case .water:
                        deltas.add(key, .litres, 120)
                    }
                }
                hour += 3600
                if (hour / 3600) % 24 == 0 {
                    try store.commit(.init(deltas: deltas, devices: []), registry: c.registry, calendar: calendar)
                    deltas.removeAll()
                }
            }
            try store.commit(.init(deltas: deltas, devices: []), registry: c.registry, calendar: calendar)
            try store.checkpoint()
            return store.sizeOnDisk()
        }
    }
}
