import Foundation
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Points where the crash tests make the daemon kill itself with SIGKILL, to prove that what
/// it had received survives any instant. Enabled only by the environment variable
/// `SENTRA_FAULT=POINT:N[,POINT:N]` (the N-th time the point is passed), which the shipped
/// unit never sets; a disabled point costs a branch.
///
/// | point | where |
/// | --- | --- |
/// | `received` | in the MQTT callback, right after the message is in the receive journal |
/// | `commit` | inside the SQLite transaction of a commit that counts messages, after its writes, before COMMIT |
/// | `replay` | while the journal is replayed at start, after that many messages (or half of them) |
/// | `alert-line` | right after an alert line is written and fsynced, before its state is committed |
/// | `ingest-stall` | the ingest loop's N-th turn: the ingest thread hangs there (no kill), for the watchdog test |
/// | `http-late` | not a kill: the HTTP listener starts N seconds late, for the test that READY=1 waits for it |
///
/// A kill from another thread could land between libmosquitto's acknowledgement and the
/// callback's copy into the journal (the one message docs/protocol.md allows to lose), so `commit`
/// hands its kill to the MQTT callback, which kills right after a message is journaled; if no
/// message comes within half a second, libmosquitto's thread is idle and the commit thread kills.
public final class FaultPoint: Sendable {
    public let name: String
    /// The N of `POINT:N`; 0 when the point is not set.
    let target: Int
    private let handOff: Bool
    /// Hang the thread that passes it instead of killing the process.
    private let hangs: Bool
    private let passed = Atomic<Int>(0)

    init(_ name: String, handOff: Bool = false, hangs: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.name = name
        self.handOff = handOff
        self.hangs = hangs
        var t = 0
        for part in (environment["SENTRA_FAULT"] ?? "").split(separator: ",") {
            let kv = part.split(separator: ":")
            if kv.count == 2, kv[0] == name, let n = Int(kv[1]), n > 0 { t = n }
        }
        target = t
    }

    /// - Parameter limit: pass the point at the `limit`-th time at the latest (a replay shorter
    ///   than the target is still killed in its middle).
    @inline(__always) public func pass(limit: Int = .max) {
        guard target > 0 else { return }
        if passed.add(1, ordering: .relaxed).newValue == min(target, limit) {
            if hangs { FaultInjection.hang("\(name) \(target)") }
            if handOff {
                FaultInjection.killPending.store(true, ordering: .sequentiallyConsistent)
                for _ in 0..<500 { usleep(1000) }
            }
            FaultInjection.die("\(name) \(min(target, limit))")
        }
    }
}

public enum FaultInjection {
    /// Any point set: only then does the MQTT callback look for a handed-off kill.
    public static let enabled = ProcessInfo.processInfo.environment["SENTRA_FAULT"] != nil
    public static let received = FaultPoint("received")
    public static let insideCommit = FaultPoint("commit", handOff: true)
    public static let replaying = FaultPoint("replay")
    public static let afterAlertLine = FaultPoint("alert-line")
    public static let ingestStall = FaultPoint("ingest-stall", hangs: true)
    static let httpLate = FaultPoint("http-late")
    static let killPending = Atomic<Bool>(false)

    /// The MQTT callback, after the message is in the journal.
    @inline(__always) public static func journaled() {
        guard enabled else { return }
        received.pass()
        if killPending.load(ordering: .sequentiallyConsistent) { die("commit (handed to the MQTT callback)") }
    }

    static func hang(_ what: String) -> Never {
        let line = "sentrad: fault injection: hanging at \(what)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        while true { sleep(3600) }
    }

    static func die(_ what: String) -> Never {
        let line = "sentrad: fault injection: SIGKILL at \(what)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        kill(getpid(), SIGKILL)
        while true { pause() }
    }
}

/// A service that starts `delay` late (`FaultInjection.httpLate`); a stop during the delay
/// ends it without starting.
struct LateService<S: Service>: Service {
    let service: S
    let delay: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
        guard !Task.isShuttingDownGracefully else { return }
        try await service.run()
    }
}

/// Opens once; `wait()` returns when it is open, or when the waiting task is cancelled (which
/// wakes every waiter: check `isOpen`).
public final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public var isOpen: Bool { state.withLock { $0.open } }

    public func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    public func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.open || Task.isCancelled { return true }
                    s.waiters.append(c)
                    return false
                }
                if ready { c.resume() }
            }
        } onCancel: {
            let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                defer { s.waiters = [] }
                return s.waiters
            }
            for w in waiters { w.resume() }
        }
    }
}
