import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Points where the crash tests make the daemon kill itself with SIGKILL, to prove that what
/// it had received survives any instant. Enabled only by the environment variable
/// `SENTRA_FAULT=POINT:N[,POINT:N]` (the N-th time the point is passed), which the shipped
/// unit never sets; a disabled point costs one load and a branch.
///
/// | point | where |
/// | --- | --- |
/// | `received` | in the MQTT callback, right after the message is in the receive journal |
/// | `commit` | inside a commit's SQLite transaction, after its writes, before COMMIT |
/// | `alert-line` | right after an alert line is written and fsynced, before its state is committed |
public final class FaultPoint: Sendable {
    public let name: String
    private let target: Int
    private let passed = Atomic<Int>(0)

    init(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.name = name
        var t = 0
        for part in (environment["SENTRA_FAULT"] ?? "").split(separator: ",") {
            let kv = part.split(separator: ":")
            if kv.count == 2, kv[0] == name, let n = Int(kv[1]), n > 0 { t = n }
        }
        target = t
    }

    public var isEnabled: Bool { target > 0 }

    @inline(__always) public func pass() {
        guard target > 0 else { return }
        if passed.add(1, ordering: .relaxed).newValue == target {
            let line = "sentrad: fault injection: SIGKILL at \(name) \(target)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            kill(getpid(), SIGKILL)
        }
    }
}

public enum FaultInjection {
    public static let received = FaultPoint("received")
    public static let insideCommit = FaultPoint("commit")
    public static let afterAlertLine = FaultPoint("alert-line")
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
