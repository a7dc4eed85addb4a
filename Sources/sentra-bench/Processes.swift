import Foundation
import SentraConfig
import SentraCore
import SentraProcess
import SentraStore
import SentraWire

#if canImport(Glibc)
    import Glibc
#endif

/// A child process for the benchmarks (`Spawn.start`), output to a file, CPU time from /proc.
final class Proc {
    let pid: pid_t
    private(set) var exitStatus: Int32?

    init(_ path: String, _ args: [String], output: String = "/dev/null", environment: [String: String] = [:]) throws {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, b in b }
        pid = try Spawn.start(path, args, output: output, environment: env)
    }

    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            exitStatus = status
            return false
        }
        return r == 0
    }

    /// CPU seconds (user + system) the process has used so far.
    var cpuSeconds: Double {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = s.lastIndex(of: ")")
        else { return 0 }
        let fields = s[s.index(after: close)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
    }

    var residentBytes: Int { statusBytes("VmRSS:") }
    /// The highest resident size so far.
    var peakResidentBytes: Int { statusBytes("VmHWM:") }

    private func statusBytes(_ key: String) -> Int {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(key) {
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return 0
    }

    func signal(_ s: Int32) { kill(pid, s) }

    /// Waits for exit; returns the rusage CPU seconds of the child.
    @discardableResult
    func wait() -> Double {
        var status: Int32 = 0
        var usage = rusage()
        if exitStatus == nil { wait4(pid, &status, 0, &usage) }
        exitStatus = status
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            wait()
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func waitFor(_ what: String, timeout: Double = 120, poll: Double = 0.01, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(UInt32(poll * 1e6))
    }
    throw BenchError("timed out waiting for \(what)")
}

func freeLoopbackPort() -> Int { Loopback.freePort() }

func loopbackAccepts(_ port: Int) -> Bool { Loopback.accepts(port) }

/// A mosquitto of the benchmark's own, on a free loopback port.
final class BenchBroker {
    let port: Int
    let dir: String
    let proc: Proc

    init(dir: String, queueQoS0: Bool = true) throws {
        self.dir = dir
        port = freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = chmod(dir, 0o777)
        let conf = """
            listener \(port) 127.0.0.1
            allow_anonymous true
            persistence false
            max_queued_messages 0
            max_queued_bytes 0
            max_inflight_messages 1000
            queue_qos0_messages \(queueQoS0)
            """
        try conf.write(toFile: "\(dir)/mosquitto.conf", atomically: true, encoding: .utf8)
        proc = try Proc("/usr/sbin/mosquitto", ["-c", "\(dir)/mosquitto.conf"], output: "\(dir)/broker.log")
        let port = self.port
        try waitFor("mosquitto", timeout: 10) { loopbackAccepts(port) }
    }

    deinit {
        proc.signal(SIGTERM)
        proc.wait()
    }
}

/// `sentrad` as the memory and HTTP benchmarks run it: a broker of its own, state and logs
/// under `work`, a free HTTP port; started and subscribed when `init` returns.
final class FedDaemon {
    let proc: Proc
    let broker: BenchBroker
    let registry: Registry
    let httpPort = freeLoopbackPort()
    private let stateDir: String

    init(bin: String, config: String, work: String, name: String) throws {
        Self.startFromDisk("\(bin)/sentrad")
        registry = try Configuration.load(path: config).registry
        broker = try BenchBroker(dir: "\(work)/broker-\(name)")
        stateDir = "\(work)/state-\(name)"
        let log = "\(work)/sentrad-\(name).log"
        proc = try Proc(
            "\(bin)/sentrad",
            [
                "--config", config, "--broker", "127.0.0.1:\(broker.port)", "--http", "127.0.0.1:\(httpPort)",
                "--state-dir", stateDir, "--log-dir", "\(work)/log-\(name)",
            ],
            output: log)
        try waitFor("sentrad to subscribe") {
            (try? String(contentsOfFile: log, encoding: .utf8))?.contains("connected to broker") == true
        }
    }

    /// Publishes `rounds` readings of every device, from `start` on, and waits until the
    /// daemon has committed them all; returns how many.
    func feed(rounds: Int, start: Int64) throws -> Int {
        let msgs = Synthetic.messages(registry, count: registry.devices.count * rounds, start: start)
        try preloadStream(port: broker.port, msgs, qos: 1)
        let expected = fed + msgs.count
        try waitFor("sentrad to take the readings", timeout: 600) {
            guard let s = try? ProductionStore(readingFrom: "\(stateDir)/sentra.sqlite").meta("ingest_stats"),
                let stats = try? WireJSON.decode(IngestStatsRecord.self, from: s)
            else { return false }
            return Int(stats.counts.accepted) >= expected
        }
        fed = expected
        return msgs.count
    }
    private var fed = 0

    func stop() {
        proc.signal(SIGTERM)
        proc.wait()
    }

    /// Drops the program from the page cache (written back first), so that it is read from
    /// disk as at a boot. The resident memory measured depends on how the cache came to hold
    /// the file: the package's sentrad just extracted by dpkg-deb measured 42 MiB with 10,000
    /// looms (17.7 MiB of the binary resident) where the same file read from disk measured
    /// 53 MiB (28.7 MiB). Best effort: pages another process maps stay.
    static func startFromDisk(_ program: String) {
        let fd = open(program, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = fdatasync(fd)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    }
}
