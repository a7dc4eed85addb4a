import Foundation
import Logging
import SentraAlertLog
import SentraCore
import SentraWire
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a plugin delivery failed; the text goes into the `plugin_failing` alert.
public struct PluginError: Error, CustomStringConvertible {
    public var plugin: String
    public var reason: String
    /// True when the failure is this side's (the program could not be spawned), not the
    /// plugin's nor its configuration's.
    public var isInternal = false
    public var description: String { "plugin \(plugin): \(reason)" }
}

/// The version of the plugin protocol this daemon speaks (docs/plugins.md).
public let pluginProtocolVersion = 1

/// A message a plugin wrote that its worker must see.
enum PluginReply: Sendable {
    case hello(protocol: Int)
    case ack(seq: Int64)
    case nack(seq: Int64, error: String)
    case garbage(String)
}

/// One running external plugin: the child process, its pipes, and the threads reading its
/// stdout and stderr. `log` and `alert` messages are handled on the reader thread (they
/// need no answer); replies go to a mailbox the worker awaits with a timeout.
///
/// `@unchecked Sendable`: `Process` is not `Sendable`; only the worker that owns this value
/// touches it, and the reader threads touch only the mailbox and the liveness flag.
final class ExternalPlugin: @unchecked Sendable {
    let name: String
    private let process: Process
    private let stdinFD: Int32
    /// Owns `stdinFD`: closing through it keeps its deinit from closing the fd a second time.
    private let stdinHandle: FileHandle
    private let replies = Mailbox<PluginReply>()
    private let alive = LivenessFlag()
    private let onSend: (@Sendable (String) -> Void)?

    /// Starts the program. `onAlert` appends a plugin's own alert to the alert log;
    /// `onExit` wakes the worker. `onLine`, when given, sees every line the plugin writes
    /// (stderr: true for its stderr) before it is handled, and `onSend` every line sent to it
    /// (`PluginTrial` records both).
    init(
        spec: PluginSpec, command: [String], environment: [String: String], logger: Logger,
        onAlert: @escaping @Sendable (AlertEvent) -> Void, onExit: @escaping @Sendable () -> Void,
        onLine: (@Sendable (_ stderr: Bool, _ line: String) -> Void)? = nil,
        onSend: (@Sendable (String) -> Void)? = nil, bounds: PluginBounds = .init()
    ) throws {
        name = spec.name
        self.onSend = onSend
        guard let exe = Self.resolve(command.first ?? "") else {
            throw PluginError(plugin: spec.name, reason: "program '\(command.first ?? "")' not found or not executable")
        }
        let (p, inPipe, outPipe, errPipe) = try Self.spawn(exe, arguments: Array(command.dropFirst()), environment, plugin: spec.name)
        process = p
        stdinHandle = inPipe.fileHandleForWriting
        stdinFD = stdinHandle.fileDescriptor
        // A plugin that stops reading must not block us: a full pipe is a failure instead.
        _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
        let outFD = outPipe.fileHandleForReading.fileDescriptor
        let errFD = errPipe.fileHandleForReading.fileDescriptor
        let name = spec.name
        let replies = self.replies
        let alive = self.alive
        var log = logger
        log[metadataKey: "sentra.plugin"] = "\(name)"
        let threadLogger = log
        let limiter = PluginLineLimiter(bounds: bounds)
        // The pipes' FileHandles own the fds; keep them alive in the threads.
        let outHandle = outPipe.fileHandleForReading
        let errHandle = errPipe.fileHandleForReading
        Thread.detachNewThread {
            Self.readLines(outFD, maxBytes: bounds.maxLineBytes) { line, cut in
                onLine?(false, line)
                if cut {
                    threadLogger.warning("plugin wrote a line longer than \(bounds.maxLineBytes) bytes")
                    replies.push(.garbage("a line longer than \(bounds.maxLineBytes) bytes"))
                    return
                }
                Self.handle(line, plugin: name, logger: threadLogger, replies: replies, onAlert: onAlert) { level, text in
                    Self.logLine(level, text, limiter: limiter, bounds: bounds, logger: threadLogger)
                }
            }
            _ = outHandle
            alive.value.withLock { $0 = false }
            replies.close()
            onExit()
        }
        Thread.detachNewThread {
            Self.readLines(errFD, maxBytes: bounds.maxLineBytes) { line, _ in
                onLine?(true, line)
                Self.logLine(.warning, "plugin stderr: \(line)", limiter: limiter, bounds: bounds, logger: threadLogger)
            }
            _ = errHandle
        }
    }

    /// Starts `exe` with pipes for its stdin, stdout and stderr.
    private static func spawn(
        _ exe: String, arguments: [String], _ environment: [String: String], plugin: String
    ) throws -> (Process, Pipe, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        do {
            try p.run()
        } catch {
            throw PluginError(plugin: plugin, reason: "cannot start \(exe): \(error)", isInternal: true)
        }
        return (p, inPipe, outPipe, errPipe)
    }

    var isAlive: Bool { alive.value.withLock { $0 } }
    var pid: Int32 { process.processIdentifier }

    /// Sends one JSON line; false when the plugin is gone or not reading.
    func send(_ line: String) -> Bool {
        onSend?(line)
        let bytes = Array((line + "\n").utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(stdinFD, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                return false  // EPIPE (SIGPIPE is ignored) or EAGAIN: a full pipe
            }
            off += n
        }
        return true
    }

    func reply(timeout: Duration) async -> Received<PluginReply> {
        await replies.take(timeout: timeout)
    }

    /// Ends the plugin: EOF on its stdin, a grace period, then SIGKILL.
    func stop(grace: Duration) async {
        try? stdinHandle.close()
        guard process.isRunning else { return }
        if grace > .zero {
            kill(process.processIdentifier, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private static func resolve(_ program: String) -> String? {
        guard !program.isEmpty else { return nil }
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(program)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// Blocking line reader for a pipe (on its own thread). A line longer than `maxBytes` is
    /// handed on cut (`cut` true) and the rest of it, up to its newline, skipped: the reader
    /// holds at most `maxBytes` plus one read.
    static func readLines(_ fd: Int32, maxBytes: Int, _ body: (_ line: String, _ cut: Bool) -> Void) {
        var pending: [UInt8] = []
        var skipping = false
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var start = 0
            for i in 0..<n where buf[i] == 10 {
                if !skipping {
                    pending += buf[start..<min(i, start + max(0, maxBytes + 1 - pending.count))]
                    if pending.count > maxBytes {
                        body(String(decoding: pending.prefix(maxBytes), as: UTF8.self), true)
                    } else {
                        body(String(decoding: pending, as: UTF8.self), false)
                    }
                }
                skipping = false
                pending.removeAll(keepingCapacity: pending.count <= 4096)
                start = i + 1
            }
            guard !skipping else { continue }
            pending += buf[start..<min(n, start + max(0, maxBytes + 1 - pending.count))]
            if pending.count > maxBytes {
                body(String(decoding: pending.prefix(maxBytes), as: UTF8.self), true)
                pending.removeAll()
                skipping = true
            }
        }
        if !pending.isEmpty && !skipping { body(String(decoding: pending, as: UTF8.self), false) }
    }

    /// A plugin's line into the daemon's log, cut to `maxLogTextBytes`, at a bounded rate.
    static func logLine(_ level: Logger.Level, _ text: String, limiter: PluginLineLimiter, bounds: PluginBounds, logger: Logger) {
        let (pass, heldBack) = limiter.admit(now: Int64(Date().timeIntervalSince1970 * 1000))
        guard pass else { return }
        if heldBack > 0 {
            logger.warning("plugin lines not logged (over the rate limit)", metadata: ["sentra.suppressed": "\(heldBack)"])
        }
        logger.log(level: level, "\(PluginBounds.cut(text, bounds.maxLogTextBytes))")
    }

    private static func handle(
        _ line: String, plugin: String, logger: Logger, replies: Mailbox<PluginReply>,
        onAlert: @Sendable (AlertEvent) -> Void, logText: (Logger.Level, String) -> Void
    ) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return }
        guard let message = try? WireJSON.decode(PluginMessage.self, from: trimmed) else {
            logger.warning("plugin wrote a line that is not a protocol message", metadata: ["sentra.line": "\(trimmed.prefix(200))"])
            replies.push(.garbage(String(trimmed.prefix(200))))
            return
        }
        switch message {
        case .hello(let hello):
            replies.push(.hello(protocol: hello.protocol ?? 0))
        case .ack(let ack):
            replies.push(.ack(seq: ack.seq))
        case .nack(let nack):
            replies.push(.nack(seq: nack.seq, error: nack.error ?? "refused"))
        case .log(let log):
            logText(log.level.flatMap(Logger.Level.init(rawValue:)) ?? .info, log.message ?? "")
        case .alert(let alert):
            guard let event = alert.event(plugin: plugin, now: Int64(Date().timeIntervalSince1970 * 1000)) else {
                logger.warning("plugin alert without a rule name ignored")
                return
            }
            onAlert(event)
        case .event, .unknown:
            // A newer plugin's message this daemon does not know: ignored (docs/plugins.md, versioning).
            logger.debug("plugin message of unknown type ignored", metadata: ["sentra.type": "\(message.type)"])
        }
    }
}

extension PluginHost {
    /// What the daemon tells a plugin it starts (docs/plugins.md, handshake).
    struct HandshakeContext: Sendable {
        var sentraName: String
        var sentraID: String?
        var timeZone: TimeZone
        var stateDirectory: String
        var timeout: Duration
    }

    /// Sends the daemon's hello and waits for the plugin's; stops the plugin and throws on
    /// any failure.
    static func handshake(_ p: ExternalPlugin, spec: PluginSpec, context c: HandshakeContext) async throws {
        let line = try WireJSON.line(
            PluginMessage.hello(
                .init(
                    daemon: "sentrad", protocol: pluginProtocolVersion, spec: spec, sentra: c.sentraName, sentraID: c.sentraID,
                    timezone: c.timeZone.identifier, stateDir: c.stateDirectory)))
        guard p.send(line) else {
            await p.stop(grace: .zero)
            throw PluginError(plugin: spec.name, reason: "exited before the handshake")
        }
        while true {
            switch await p.reply(timeout: c.timeout) {
            case .value(.hello(let version)):
                guard version == pluginProtocolVersion else {
                    await p.stop(grace: .zero)
                    throw PluginError(plugin: spec.name, reason: "speaks protocol \(version), the daemon \(pluginProtocolVersion)")
                }
                return
            case .value(.garbage(let g)):
                await p.stop(grace: .zero)
                throw PluginError(plugin: spec.name, reason: "answered the handshake with garbage: \(g)")
            case .value:
                continue
            case .timeout:
                await p.stop(grace: .zero)
                throw PluginError(plugin: spec.name, reason: "no hello within \(c.timeout)")
            case .closed:
                await p.stop(grace: .zero)
                throw PluginError(plugin: spec.name, reason: "exited during the handshake")
            case .cancelled:
                await p.stop(grace: .zero)
                throw CancellationError()
            }
        }
    }
}

final class LivenessFlag: Sendable {
    let value = Mutex(true)
}
