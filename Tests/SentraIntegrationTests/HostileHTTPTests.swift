import Foundation
import SentraProcess
import SentraWire
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `--from`/`--to` around today, as wide as `sentractl report` takes (3,601 of its 3,660
/// days): every reading a test publishes now falls inside.
func wideReportRange() -> [String] {
    let today = Int64(Date().timeIntervalSince1970) / 86_400
    return ["--from", civilDate(today - 1800), "--to", civilDate(today + 1800)]
}

/// `YYYY-MM-DD` of a count of days since 1970-01-01, by Foundation's Gregorian calendar in UTC.
func civilDate(_ days: Int64) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd"
    return f.string(from: Date(timeIntervalSince1970: Double(days) * 86_400))
}

/// A TCP socket connected to 127.0.0.1:`port`, its sends and receives bounded by `timeout` seconds.
func connectLoopback(port: Int, timeout: Double) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    let r = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard r == 0 else {
        let e = errno
        close(fd)
        throw TestFailure("cannot connect to 127.0.0.1:\(port): errno \(e)")
    }
    return fd
}

/// A TCP connection to 127.0.0.1 driven byte by byte, as an attacker would; every call is
/// bounded by the socket's send and receive timeouts.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int, timeout: Double = 30) throws {
        fd = try connectLoopback(port: port, timeout: timeout)
    }

    /// Sends `text`; false once the peer has closed (EPIPE, ECONNRESET).
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Everything until the peer closes (or the receive timeout).
    func readToEnd() -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One answer of a keep-alive connection: its head and a `Content-Length` body.
    func readAnswer() -> String {
        var out: [UInt8] = []
        var byte: UInt8 = 0
        while !out.ends(with: Array("\r\n\r\n".utf8)), recv(fd, &byte, 1, 0) == 1 { out.append(byte) }
        let head = String(decoding: out, as: UTF8.self)
        let length =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        var body = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = body[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got += n
        }
        return head + String(decoding: body[0..<got], as: UTF8.self)
    }

    /// Whether the peer has closed: a read that does not wait finds the end (or a reset).
    var closedByPeer: Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    deinit { close(fd) }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

/// `GET path` with `Connection: close` on a connection of its own: the status and the body.
func rawGet(port: Int, _ path: String) throws -> (status: Int, body: String) {
    let c = try RawConnection(port: port, timeout: 60)
    c.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    let answer = c.readToEnd()
    let status = Int(answer.dropFirst(9).prefix(3)) ?? 0
    let body = answer.range(of: "\r\n\r\n").map { String(answer[$0.upperBound...]) } ?? ""
    return (status, body)
}

/// A value threads share.
final class Shared<Value: Sendable>: Sendable {
    private let lock: Mutex<Value>
    init(_ value: Value) { lock = Mutex(value) }
    func with<R: Sendable>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&$0) } }
    var value: Value { lock.withLock { $0 } }
}

/// Runs `body(0..<n)` on `n` threads at once; returns their results in order.
func onThreads<T: Sendable>(_ n: Int, _ body: @escaping @Sendable (Int) -> T) async -> [T] {
    let results = Shared<[Int: T]>([:])
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        let group = DispatchGroup()
        for i in 0..<n {
            group.enter()
            Thread {
                let r = body(i)
                results.with { $0[i] = r }
                group.leave()
            }.start()
        }
        group.notify(queue: .global()) { done.resume() }
    }
    let r = results.value
    return (0..<n).compactMap { r[$0] }
}

/// How many TCP connections to its `port` a process holds (listening sockets aside): its
/// descriptors' socket inodes matched against the kernel's table of TCP sockets.
func heldConnections(_ pid: pid_t, port: Int) -> Int {
    let dir = "/proc/\(pid)/fd"
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    let inodes = Set(
        fds.compactMap { fd -> Substring? in
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\(fd)")) ?? ""
            return link.hasPrefix("socket:[") ? link.dropFirst(8).dropLast() : nil
        })
    var n = 0
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // Read to the end: /proc's files say they are empty.
        let text = String(decoding: FileHandle(forReadingAtPath: table)?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ")
            // local_address is HEXADDR:HEXPORT; st 0A is LISTEN; the inode is the 10th field.
            guard f.count > 9, let local = f[1].split(separator: ":").last, Int(local, radix: 16) == port, f[3] != "0A",
                inodes.contains(f[9])
            else { continue }
            n += 1
        }
    }
    return n
}

extension Daemon {
    /// Waits for the HTTP listener: it may start accepting a moment after the broker connection.
    func waitForHTTP() async throws {
        try await eventually("the HTTP listener on \(httpPort)", timeout: 20) {
            (try? rawGet(port: httpPort, "/api/v1/status").status) == 200
        }
    }
}

/// A stranger on the HTTP port: hostile queries, floods of heavy requests, connections held
/// open or fed a byte at a time. The daemon answers each with a bounded error, keeps its
/// watchdog, and keeps counting.
@Suite(.serialized) struct HostileHTTPTests {
    @Test func badQueriesAre400NamingTheParameterAndTheDaemonKeepsCounting() async throws {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        try await daemon.waitForHTTP()
        let cases = [
            ("/api/v1/production?date=0000-01-01", "date"), ("/api/v1/production?date=9999-12-31", "date"),
            ("/api/v1/production?date=2026-02-30", "date"), ("/api/v1/production?from=0001-01-01&to=9998-12-31", "from"),
            ("/api/v1/production?from=2026-01-01&to=9998-12-31", "to"), ("/api/v1/production?from=2026-03-01&to=2026-02-01", "to"),
            ("/api/v1/production?from=2025-01-01&to=2026-01-02", "to"), ("/api/v1/production?by=person", "by"),
            ("/api/v1/production/usual?date=0000-01-01", "date"), ("/api/v1/production/usual?date=2199-13-01", "date"),
            ("/api/v1/alerts?recent=-1", "recent"), ("/api/v1/alerts?recent=ten", "recent"),
            ("/api/v1/alerts?recent=99999999999999999999999999999999", "ok"),
        ]
        for (path, parameter) in cases {
            let (status, body) = try rawGet(port: daemon.httpPort, path)
            if parameter == "ok" {
                #expect(status == 200, "\(path): \(body)")
                continue
            }
            #expect(status == 400, "\(path): \(body)")
            let answer = try WireJSON.decode(ErrorAnswer.self, from: body)
            #expect(answer.parameter == parameter, "\(path): \(body)")
            #expect(!answer.error.isEmpty)
        }
        // The edges are answered.
        #expect(try rawGet(port: daemon.httpPort, "/api/v1/production?from=2199-01-01&to=2199-12-31").status == 200)
        #expect(try rawGet(port: daemon.httpPort, "/api/v1/production/usual?date=2000-01-01").status == 200)
        #expect(daemon.child?.isRunning == true)
        try broker.publish("sentra/ws-bandar-01/loom/loom-01", [#"{"ts":\#(nowMillis() - 1000),"picks":10,"pieces":3}"#])
        try await eventually("the reading published after them") { try daemon.accepted() == 1 }
        try await daemon.terminate()
    }

    /// The attack that once starved the watchdog (20 requests at once for thousands of years)
    /// and the heavy answers that remain allowed: WATCHDOG=1 keeps coming within WATCHDOG_USEC.
    @Test func aFloodOfHeavyRequestsDoesNotDelayTheWatchdog() async throws {
        let broker = try await Broker()
        let notify = try DatagramListener(name: "notify")
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        try broker.publish("sentra/ws-bandar-01/loom/loom-01", [#"{"ts":\#(nowMillis() - 1000),"picks":10,"pieces":3}"#])
        try await eventually("the reading") { try daemon.accepted() == 1 }
        try await daemon.terminate()
        try Self.addAYearOfHours(looms: 4, database: daemon.stateDir + "/sentra.sqlite")
        let watchdogMicros = 2_000_000
        try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "\(watchdogMicros)"])
        try await eventually("READY=1") { notify.received { $0.contains("READY=1") } }

        // When each WATCHDOG=1 arrived, seen by a thread of its own every 10 ms.
        let arrivals = Shared<[Date]>([])
        let stop = Shared(false)
        let watcher = Thread {
            var seen = 0
            while !stop.value {
                let n = notify.messages.filter { $0.contains("WATCHDOG=1") }.count
                if n > seen { arrivals.with { $0.append(Date()) } }
                seen = n
                usleep(10_000)
            }
        }
        watcher.start()
        let today = Int64(Date().timeIntervalSince1970) / 86_400
        let year = "/api/v1/production?from=\(civilDate(today - 365))&to=\(civilDate(today))"
        let attack = "/api/v1/production?from=0001-01-01&to=9998-12-31"
        let started = Date()
        // 20 clients at once, each: a year (by loom for half of them), the attack, and /metrics or the usual.
        let answers = await onThreads(20) { i in
            [i % 2 == 0 ? year + "&by=loom" : year, attack, i % 2 == 0 ? "/metrics" : "/api/v1/production/usual"].map { path in
                do {
                    let (status, body) = try rawGet(port: daemon.httpPort, path)
                    return (status, "\(path): \(status) \(body.prefix(120))")
                } catch {
                    return (-1, "\(path): \(error)")
                }
            }
        }.flatMap { $0 }
        let statuses = answers.map(\.0)
        let odd = answers.filter { ![200, 400, 503].contains($0.0) }.map(\.1)
        // The flood is over; the watchdog must also come on time right after it.
        try await eventually("two more WATCHDOG=1") {
            arrivals.value.filter { $0 > Date().addingTimeInterval(-Double(watchdogMicros) / 1e6 * 1.5) }.count >= 2
        }
        stop.with { $0 = true }
        let flood = Date().timeIntervalSince(started)
        let times = arrivals.value
        let gaps = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) }
        #expect(statuses.count == 60)
        #expect(odd.isEmpty, "\(odd)")
        #expect(statuses.filter { $0 == 400 }.count == 20, "the thousands of years are refused")
        #expect(statuses.filter { $0 == 200 }.count == 40, "\(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
        #expect(times.count >= 3, "WATCHDOG=1 \(times.count) times in \(flood) s")
        let worst = gaps.max() ?? 0
        #expect(worst <= Double(watchdogMicros) / 1e6, "a gap of \(worst) s between WATCHDOG=1 messages (flood: \(flood) s)")
        print(
            "flood of 60 requests from 20 clients: \(String(format: "%.1f", flood)) s; longest WATCHDOG=1 gap \(String(format: "%.3f", worst)) s"
        )
        #expect(try rawGet(port: daemon.httpPort, "/api/v1/status").status == 200)
        try await daemon.terminate()
    }

    /// Hourly rows of `looms` made-up looms for each of the last 366 days × 24 hours, written
    /// with the sqlite3 tool into the stopped daemon's database: what a year-long report reads.
    static func addAYearOfHours(looms: Int, database: String) throws {
        let sql = """
            WITH RECURSIVE h(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM h WHERE n < 366 * 24 - 1),
              l(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM l WHERE k < \(looms))
            INSERT INTO hourly (hour, day, device, kind, workshop, loom, craftsman, picks, pieces, run_ms)
            SELECT (strftime('%s', 'now') / 3600 - 1 - n) * 3600, date((strftime('%s', 'now') / 3600 - 1 - n) * 3600, 'unixepoch'),
              'ws-bandar-01/loom/made-up-' || k, 'loom', 'ws-bandar-01', 'made-up-' || k, 'c-anwar', 100, 1, 3600000 FROM h, l;
            """
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else {
            throw TestFailure("/usr/bin/sqlite3 is missing: apt-get install sqlite3")
        }
        let (status, out) = try run("/usr/bin/sqlite3", [database, sql])
        #expect(status == 0, "\(out)")
    }

    /// A daemon whose connections time out after 1 s and that keeps at most 4 open.
    static func tightDaemon(_ broker: Broker) async throws -> Daemon {
        let dir = Paths.tempDir("hostile-http")
        let config = dir.appendingPathComponent("sentra.yaml")
        let example = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        let tight = example.replacingOccurrences(of: "  port: 8470\n", with: "  port: 8470\n  idle_timeout: 1s\n  max_connections: 4\n")
        #expect(tight != example)
        try tight.write(to: config, atomically: true, encoding: .utf8)
        let daemon = Daemon(broker: broker, config: config.path, dir: dir)
        try await daemon.start()
        try await daemon.waitForHTTP()
        return daemon
    }

    @Test func idleSlowAndKeptAliveConnectionsAreClosed() async throws {
        let broker = try await Broker()
        let daemon = try await Self.tightDaemon(broker)
        let port = daemon.httpPort
        // Idle: connected, never a byte.
        let idle = try RawConnection(port: port)
        // Keep-alive: one answer, then nothing.
        let kept = try RawConnection(port: port)
        kept.send("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(kept.readAnswer().hasPrefix("HTTP/1.1 200"))
        // Slow headers, and a slow body: a byte every 100 ms, for longer than the timeout.
        let slowHead = try RawConnection(port: port)
        let slowBody = try RawConnection(port: port)
        slowBody.send("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n\r\n")
        let request = Array("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 200))")
        var headAlive = true
        var bodyAlive = true
        for i in 0..<100 where headAlive || bodyAlive {
            if headAlive { headAlive = slowHead.send(String(request[i % request.count])) && !slowHead.closedByPeer }
            if bodyAlive { bodyAlive = slowBody.send("t") && !slowBody.closedByPeer }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!headAlive, "headers sent a byte at a time for 10 s kept the connection")
        #expect(!bodyAlive, "a body sent a byte at a time for 10 s kept the connection")
        try await eventually("the idle connection to be closed", timeout: 10) { idle.closedByPeer }
        try await eventually("the kept-alive connection to be closed", timeout: 10) { kept.closedByPeer }
        // A client that asks and asks (pipelined) but never reads: let go once its answers stall.
        let pid = try #require(daemon.child?.pid)
        let greedy = try RawConnection(port: port)
        greedy.send(String(repeating: "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", count: 3000))
        try await eventually("the daemon to take the greedy connection", timeout: 10) { heldConnections(pid, port: port) == 1 }
        try await eventually("the unread connection to be let go", timeout: 20) { heldConnections(pid, port: port) == 0 }
        #expect(greedy.readToEnd().hasPrefix("HTTP/1.1 200"))
        // Headers beyond 16 KiB: refused, and the daemon carries on.
        let big = try RawConnection(port: port)
        big.send("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(String(repeating: "b", count: 20_000))\r\n\r\n")
        let answer = big.readToEnd()
        #expect(answer.isEmpty || answer.hasPrefix("HTTP/1.1 4"), "\(answer.prefix(200))")
        #expect(try rawGet(port: port, "/api/v1/status").status == 200)
        #expect(daemon.child?.isRunning == true)
        try await daemon.terminate()
    }

    @Test func theConnectionCapHoldsAndANewcomerIsAnsweredOnceIdleOnesGo() async throws {
        let broker = try await Broker()
        let daemon = try await Self.tightDaemon(broker)
        let pid = try #require(daemon.child?.pid)
        let port = daemon.httpPort
        // The most connections the daemon held at once, sampled every 5 ms by a thread of its own.
        let most = Shared(0)
        let stop = Shared(false)
        let sampler = Thread {
            while !stop.value {
                let n = heldConnections(pid, port: port)
                most.with { $0 = max($0, n) }
                usleep(5_000)
            }
        }
        sampler.start()
        // 16 idle connections: the kernel completes them all, the daemon takes 4 at a time.
        let held = try (0..<16).map { _ in try RawConnection(port: port) }
        try await eventually("the daemon to take connections up to its cap", timeout: 10) { heldConnections(pid, port: port) >= 4 }
        let (status, _) = try rawGet(port: port, "/api/v1/status")
        #expect(status == 200, "a newcomer behind 16 idle connections")
        for c in held { try await eventually("each idle connection to be closed", timeout: 20) { c.closedByPeer } }
        stop.with { $0 = true }
        // At most 4 accepted, and the few more a single wake-up of the listener may accept at once.
        #expect(most.value <= 4 + 3, "held \(most.value) connections at once")
        print("16 idle connections against a cap of 4: at most \(most.value) held at once")
        try await eventually("the daemon to let the closed ones go", timeout: 10) { heldConnections(pid, port: port) == 0 }
        #expect(daemon.child?.isRunning == true)
        try await daemon.terminate()
    }

    @Test func sentractlReportRefusesBadDaysWithExit1NamingTheOption() throws {
        let dir = Paths.tempDir("ctl-days")
        let common = ["--config", Paths.exampleConfig, "--state-dir", dir.path, "--log-dir", dir.path]
        let cases: [([String], String)] = [
            (["--date", "9999-12-31"], "--date 9999-12-31 lies outside the years 2000 to 2199"),
            (["--date", "0000-01-01"], "--date 0000-01-01 lies outside"), (["--date", "2026-02-30"], "--date '2026-02-30' is not a date"),
            (["--from", "2026-03-01", "--to", "2026-02-01"], "--from 2026-03-01 is after --to 2026-02-01"),
            (
                ["--from", "2000-01-01", "--to", "2199-12-31"],
                "--from 2000-01-01 and --to 2199-12-31 span 73049 days; at most 3660 are allowed"
            ),
            (["--to", "2200-01-01"], "--to 2200-01-01 lies outside"), (["--by", "person"], "--by 'person'"),
            (["--format", "xml"], "--format 'xml'"), (["--date", "2026-01-01", "--from", "2026-01-01"], "--date"),
        ]
        for (args, message) in cases {
            let (status, out) = try run(Paths.binary("sentractl"), ["report"] + args + common)
            #expect(status == 1, "\(args): \(out)")
            #expect(out.contains(message), "\(args): \(out)")
        }
        // Malformed command line: swift-argument-parser's 64.
        #expect(try run(Paths.binary("sentractl"), ["report", "--no-such-option"] + common).0 == 64)
        // No state database there: the user's mistake (1). A damaged one: 2.
        let (missing, missingOut) = try run(Paths.binary("sentractl"), ["report", "--date", "2026-01-01"] + common)
        #expect(missing == 1, "\(missingOut)")
        try Data(repeating: 0x5a, count: 8192).write(to: dir.appendingPathComponent("sentra.sqlite"))
        let (corrupt, corruptOut) = try run(Paths.binary("sentractl"), ["report", "--date", "2026-01-01"] + common)
        #expect(corrupt == 2, "\(corruptOut)")
        // The listener's limits are checked like every other key.
        let example = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        let loose = dir.appendingPathComponent("loose.yaml")
        try example.replacingOccurrences(of: "  port: 8470\n", with: "  port: 8470\n  idle_timeout: 0s\n  max_connections: 5000\n")
            .write(to: loose, atomically: true, encoding: .utf8)
        let (check, checkOut) = try run(Paths.binary("sentractl"), ["check", "--config", loose.path])
        #expect(check == 1 && checkOut.contains("http.idle_timeout") && checkOut.contains("http.max_connections"), "\(checkOut)")
        // tail takes a day too.
        let (since, sinceOut) = try run(Paths.binary("sentractl"), ["tail", "--no-follow", "--since", "1900-01-01"] + common)
        #expect(since == 1 && sinceOut.contains("--since 1900-01-01 lies outside"), "\(sinceOut)")
    }
}
