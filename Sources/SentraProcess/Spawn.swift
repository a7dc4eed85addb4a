import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Starting programs the way the tests and benchmarks need: posix_spawn with an empty signal
/// mask and default dispositions. The Swift test runner's threads block some signals, and a
/// child that inherits that mask (mosquitto waits in ppoll with its inherited mask) would
/// never see SIGTERM; Foundation's Process does not reset it.
public enum Spawn {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `path` with standard input from /dev/null and standard output and error into
    /// `output`; returns its pid.
    public static func start(_ path: String, _ arguments: [String], output: String, environment: [String: String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        guard rc == 0 else { throw Failure(description: "cannot start \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// The exit code of a wait status: the code, or 128 + the signal that ended it.
    public static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// Loopback TCP ports for servers a test or benchmark starts.
public enum Loopback {
    /// A free port on 127.0.0.1 (bound to port 0, then released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = address(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = address(port: port)
        return withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// A blocking `GET path` over HTTP/1.1 with `Connection: close`: the status code and
    /// the whole response (headers and body). For benchmarks, which measure the server, not
    /// a client library.
    public static func get(port: Int, path: String, headers: [String] = []) throws -> (status: Int, response: [UInt8]) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = address(port: port)
        let connected = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Spawn.Failure(description: "cannot connect to 127.0.0.1:\(port)") }
        let request =
            (["GET \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Spawn.Failure(description: "send failed: errno \(errno)") }
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        // "HTTP/1.1 200 OK"
        let status = response.count >= 12 ? Int(String(decoding: response[9..<12], as: UTF8.self)) ?? 0 : 0
        return (status, response)
    }

    static func address(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return addr
    }
}

/// A datagram socket of our own, standing in for systemd's notify socket or journald's.
public final class DatagramListener: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let inbox = Inbox()
    private let reader: Thread

    /// What the reader thread and the test share.
    private final class Inbox: Sendable {
        let messages = Mutex<[String]>([])
        let stopped = Atomic<Bool>(false)
    }

    /// Everything received so far, in order.
    public var messages: [String] { inbox.messages.withLock { $0 } }

    /// Binds `path` and reads on a thread of its own from then on: Linux queues only
    /// `net.unix.max_dgram_qlen` datagrams (10 by default; systemd raises it to 512 for
    /// journald), and a sender that never blocks (as the daemon's journal writer) would lose
    /// what a listener polled now and then had no room for.
    public init(path: String) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            close(fd)
            throw Spawn.Failure(description: "bind \(path): \(String(cString: strerror(errno)))")
        }
        // Wakes the reader every 100 ms to see whether it should stop.
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let inbox = self.inbox
        reader = Thread {
            var buf = [UInt8](repeating: 0, count: 65536)
            while !inbox.stopped.load(ordering: .relaxed) {
                let n = recv(fd, &buf, buf.count, 0)
                if n > 0 {
                    let text = String(decoding: buf[0..<n], as: UTF8.self)
                    inbox.messages.withLock { $0.append(text) }
                }
            }
            close(fd)
        }
        reader.start()
    }

    public func received(_ predicate: (String) -> Bool) -> Bool { messages.contains(where: predicate) }

    /// The reader sees this within one receive timeout and closes the socket itself, so the
    /// descriptor is never closed under a `recv` in progress.
    deinit { inbox.stopped.store(true, ordering: .relaxed) }
}
