import Foundation
import Testing

@testable import SentraSim

/// The built binary against a real mosquitto on a loopback port this test starts itself.
@Suite struct BrokerTests {
    /// The simulator built with these tests (beside the test executable), else the default build's.
    static let simulator: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let beside = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("sentra-sim").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return repositoryRoot.appendingPathComponent(".build/debug/sentra-sim").path
    }()

    @Test func everyPublishedMessageReachesASubscriber() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.simulator), "build sentra-sim first: \(Self.simulator)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

        let broker = try Broker(directory: dir)
        defer { broker.stop() }

        let window = [
            "--config", exampleConfigPath, "--speed", "0", "--from", "2026-11-24T09:00", "--to", "2026-11-24T10:00", "--seed", "5",
            "--fault", "disconnect@+20m", "--fault", "duplicate@+5m",
        ]
        // What the simulator will publish: the same stream, printed.
        #expect(try Child(Self.simulator, window + ["--stdout", "--quiet"], stdout: path("printed.txt")).wait() == 0)
        let expected = try lines(path("printed.txt"))
        #expect(expected > 10_000)

        // A persistent session holds the subscription, so nothing published is missed.
        let sub = ["-h", "127.0.0.1", "-p", "\(broker.port)", "-i", "sentra-sim-test", "-c", "-q", "1", "-t", "sentra/#"]
        #expect(try Child("/usr/bin/mosquitto_sub", sub + ["-E"]).wait() == 0)
        let collector = try Child("/usr/bin/mosquitto_sub", sub + ["-v", "-C", "\(expected)", "-W", "120"], stdout: path("collected.txt"))

        let truthFile = path("truth.json")
        let status = try Child(
            Self.simulator, window + ["--broker", "127.0.0.1:\(broker.port)", "--truth", truthFile], stderr: path("sim.log")
        ).wait()
        #expect(status == 0, "\((try? String(contentsOfFile: path("sim.log"), encoding: .utf8)) ?? "")")
        #expect(try collector.wait() == 0)

        let truth = try JSONDecoder().decode(TruthReport.self, from: Data(contentsOf: URL(fileURLWithPath: truthFile)))
        #expect(truth.messages == expected)
        #expect(try lines(path("collected.txt")) == truth.messages)
        #expect(try String(contentsOfFile: path("sim.log"), encoding: .utf8).contains("published \(expected) messages"))
    }
}

func lines(_ path: String) throws -> Int {
    try Data(contentsOf: URL(fileURLWithPath: path)).reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
}

/// A child process through posix_spawn, its output sent to files, reaped with waitpid.
final class Child {
    let pid: pid_t

    init(_ path: String, _ arguments: [String], stdout: String = "/dev/null", stderr: String = "/dev/null", stderrPipe: Int32? = nil) throws
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let fd = stderrPipe {
            posix_spawn_file_actions_adddup2(&actions, fd, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        // The test runner's threads block signals; a child must not inherit that mask, or
        // it would ignore SIGTERM.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        self.pid = pid
    }

    /// Waits for the exit; returns the exit status (128 + signal when killed). Past
    /// `timeout` seconds the child is killed, reaped, and the wait fails.
    func wait(timeout: Double = 120) throws -> Int32 {
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            guard r == 0 || errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw POSIXError(.ETIMEDOUT)
            }
            usleep(2_000)
        }
        let low = status & 0x7F
        return low == 0 ? (status >> 8) & 0xFF : 128 + low
    }

    func terminate() { kill(pid, SIGTERM) }
}

/// A mosquitto on a free loopback port; the test fails (never skips) when it cannot start.
final class Broker {
    let port: Int
    private let child: Child
    private let logFD: Int32
    private var drain: Thread?

    init(directory: URL) throws {
        port = try freeLoopbackPort()
        let conf = directory.appendingPathComponent("mosquitto.conf")
        try """
        listener \(port) 127.0.0.1
        allow_anonymous true
        max_queued_messages 0
        persistence false
        log_dest stderr
        log_type error
        log_type warning
        log_type notice
        log_type information

        """.write(to: conf, atomically: true, encoding: .utf8)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        child = try Child("/usr/sbin/mosquitto", ["-c", conf.path], stderrPipe: fds[1])
        close(fds[1])
        logFD = fds[0]
        // Ready once it says it is running; read its log until then (EOF: it died).
        var log = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: log, as: UTF8.self).contains(" running") {
            let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n <= 0 { throw BrokerError(log: String(decoding: log, as: UTF8.self)) }
            log += chunk[0..<n]
        }
        // Keep draining its log so it never blocks on a full pipe.
        let fd = fds[0]
        drain = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
        }
        drain?.start()
    }

    func stop() {
        child.terminate()
        _ = try? child.wait()
        close(logFD)
    }

    struct BrokerError: Error, CustomStringConvertible {
        var log: String
        var description: String { "mosquitto did not start:\n\(log)" }
    }
}

func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let rc = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard rc else { throw POSIXError(.EADDRNOTAVAIL) }
    return Int(UInt16(bigEndian: addr.sin_port))
}
