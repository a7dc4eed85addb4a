import Foundation
import SentraProcess
import SentraWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Paths of the package and its built binaries.
enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func binary(_ name: String) -> String {
        for dir in [".build/debug", ".build/x86_64-unknown-linux-gnu/debug"] {
            let p = root.appendingPathComponent(dir).appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return root.appendingPathComponent(".build/debug/\(name)").path
    }
    static var exampleConfig: String { root.appendingPathComponent("config/sentra.example.yaml").path }

    static func tempDir(_ name: String) -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Waits for `condition`, checking every 20 ms, failing after `timeout`. The event is awaited;
/// the timeout only bounds a test that would otherwise hang.
func eventually(_ what: String, timeout: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out after \(timeout) s waiting for: \(what)")
}

func freePort() -> Int { Loopback.freePort() }

/// A server from Debian's packages (Prometheus, Alertmanager) that a test starts on a free
/// loopback port, with its log in `dir`; returns once it accepts connections.
func startLoopbackServer(_ binary: String, package: String, _ arguments: [String], port: Int, dir: URL) async throws -> Child {
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw TestFailure("\(binary) is not installed: run scripts/install-deps (it installs \(package))")
    }
    let name = (binary as NSString).lastPathComponent
    let c = try Child(binary, arguments, log: dir.appendingPathComponent("\(name).log"))
    try await eventually("\(name) to listen on \(port)", timeout: 30) {
        if !c.isRunning { throw TestFailure("\(name) exited: \(c.output)") }
        return canConnect(port: port)
    }
    return c
}

func canConnect(port: Int) -> Bool { Loopback.accepts(port) }

/// A child process with its output in a file (`Spawn.start`: an empty signal mask, so
/// SIGTERM reaches it even from the test runner's threads).
final class Child: @unchecked Sendable {
    let pid: pid_t
    let logURL: URL
    let name: String
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String], log: URL, environment: [String: String] = [:]) throws {
        name = (executable as NSString).lastPathComponent
        logURL = log
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestFailure("\(executable) is not built or installed: run scripts/test, which builds and installs what it needs")
        }
        var env = ProcessInfo.processInfo.environment
        for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "SENTRA_JOURNAL_SOCKET"] { env[k] = nil }
        env.merge(environment) { _, b in b }

        pid = try Spawn.start(executable, arguments, output: log.path, environment: env)
    }

    var output: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            exitStatus = Spawn.exitCode(status)
            return false
        }
        return r == 0
    }

    func signal(_ sig: Int32) { if isRunning { kill(pid, sig) } }

    func markExited(_ code: Int32) { exitStatus = code }

    /// Waits for the process to end; returns its exit status (128+N for signal N).
    @discardableResult
    func wait(timeout: Double = 30) async throws -> Int32 {
        try await eventually("\(name) to exit", timeout: timeout) { !isRunning }
        return exitStatus ?? -1
    }

    func stop() {
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            exitStatus = 137
        }
    }

    deinit { stop() }
}

/// A real mosquitto on a free loopback port, with its own persistence directory.
final class Broker: @unchecked Sendable {
    let port: Int
    let dir: URL
    private var child: Child?

    init() async throws {
        dir = Paths.tempDir("broker")
        port = freePort()
        let conf = """
            listener \(port) 127.0.0.1
            allow_anonymous true
            persistence true
            persistence_location \(dir.path)/
            autosave_interval 1
            max_queued_messages 0
            max_inflight_messages 100
            queue_qos0_messages true
            """
        try conf.write(to: dir.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
        // mosquitto started as root drops to its own user; let it write its persistence file.
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.path)
        try await start()
    }

    func start() async throws {
        let path = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { throw TestFailure("mosquitto is not installed: run scripts/install-deps") }
        let c = try Child(path, ["-c", dir.appendingPathComponent("mosquitto.conf").path], log: dir.appendingPathComponent("broker.log"))
        child = c
        try await eventually("mosquitto to listen on \(port)", timeout: 30) {
            if !c.isRunning { throw TestFailure("mosquitto exited: \(c.output)") }
            return canConnect(port: port)
        }
    }

    func stop() async throws {
        child?.signal(SIGTERM)
        try await child?.wait()
        child = nil
    }

    var address: String { "127.0.0.1:\(port)" }

    /// Publishes each line of `lines` as one message to `topic` with mosquitto_pub.
    func publish(_ topic: String, _ lines: [String], qos: Int = 1) throws {
        let input = Pipe()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_pub")
        p.arguments = [
            "-h", "127.0.0.1", "-p", "\(port)", "-q", "\(qos)", "-t", topic, "-l", "-i", "test-pub-\(UUID().uuidString.prefix(6))",
        ]
        p.standardInput = input
        try p.run()
        input.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw TestFailure("mosquitto_pub exited \(p.terminationStatus)") }
    }

    deinit { child?.stop() }
}

/// `sentrad` run as a user runs it, with its own state and log directories.
final class Daemon: @unchecked Sendable {
    let dir: URL
    let config: String
    let broker: Broker
    var child: Child?
    var runs = 0
    /// The configuration `sentractl` reads (a test may break the daemon's own on purpose).
    var ctlConfig: String?
    /// The daemon's HTTP listener: a free loopback port of its own, never the default 8470.
    let httpPort = freePort()
    var httpURL: String { "http://127.0.0.1:\(httpPort)" }

    init(broker: Broker, config: String = Paths.exampleConfig, dir: URL? = nil) {
        self.broker = broker
        self.config = config
        self.dir = dir ?? Paths.tempDir("daemon")
    }

    var stateDir: String { dir.appendingPathComponent("state").path }
    var logDir: String { dir.appendingPathComponent("log").path }

    @discardableResult
    func start(environment: [String: String] = [:], waitForSubscription: Bool = true) async throws -> Child {
        runs += 1
        let c = try Child(
            Paths.binary("sentrad"),
            [
                "--config", config, "--broker", broker.address, "--state-dir", stateDir, "--log-dir", logDir, "--log-level", "debug",
                "--http", "127.0.0.1:\(httpPort)",
            ],
            log: dir.appendingPathComponent("sentrad-\(runs).log"), environment: environment)
        child = c
        if waitForSubscription {
            try await eventually("sentrad to connect", timeout: 20) {
                if !c.isRunning { throw TestFailure("sentrad exited: \(c.output)") }
                return c.output.contains("connected to broker")
            }
        }
        return c
    }

    func terminate() async throws {
        guard let c = child else { return }
        c.signal(SIGTERM)
        let status = try await c.wait()
        #expect(status == 0, "sentrad exit status")
        child = nil
    }

    func kill9() async throws {
        guard let c = child else { return }
        c.signal(SIGKILL)
        try await c.wait()
        child = nil
    }

    /// Runs sentractl with the daemon's directories; returns (status, stdout+stderr).
    func ctl(_ args: [String]) throws -> (Int32, String) {
        try run(Paths.binary("sentractl"), args + ["--config", ctlConfig ?? config, "--state-dir", stateDir, "--log-dir", logDir])
    }

    /// The daemon's committed ingest counts.
    func stats() throws -> IngestStatsRecord? {
        let (status, out) = try ctl(["status", "--json"])
        guard status == 0 else { return nil }
        return try WireJSON.decode(IngestStatsRecord.self, from: out)
    }

    func accepted() throws -> Int { Int(try stats()?.counts.accepted ?? 0) }
    func rejected(_ reason: String) throws -> Int { Int(try stats()?.counts.rejected[reason] ?? 0) }
}

/// Runs a command to its end, returning its status and combined output: killed and reaped if it takes longer than `timeout` seconds
/// (then a `TestFailure`).
func run(
    _ executable: String, _ args: [String], environment: [String: String] = [:], timeout: Double = 120
) throws -> (
    Int32, String
) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-run-\(UUID().uuidString).out")
    defer { try? FileManager.default.removeItem(at: log) }
    let c = try Child(executable, args, log: log, environment: environment)
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    while waitpid(c.pid, &status, WNOHANG) == 0 {
        if Date() > deadline {
            c.stop()
            throw TestFailure(
                "\((executable as NSString).lastPathComponent) \(args.joined(separator: " ")) still running after \(Int(timeout)) s")
        }
        usleep(2_000)
    }
    let code = Spawn.exitCode(status)
    c.markExited(code)
    return (code, c.output)
}

func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
