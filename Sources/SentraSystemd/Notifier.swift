import CSystemd
import Glibc

/// The service manager's notification socket (`NOTIFY_SOCKET`), through libsystemd's
/// sd_notify. Without the variable every call is a no-op, as systemd intends.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Whether a service manager listens (`NOTIFY_SOCKET` is set).
    public var isActive: Bool { sd_booted() >= 0 && getenvString("NOTIFY_SOCKET") != nil }

    public func ready() { send("READY=1") }
    public func reloading() { send("RELOADING=1") }
    public func stopping() { send("STOPPING=1") }
    public func watchdog() { send("WATCHDOG=1") }
    public func status(_ text: String) { _ = csystemd_notify_status(0, text.replacingNewlines()) }

    public func send(_ state: String) { _ = sd_notify(0, state) }

    /// The watchdog interval systemd asks for (`WATCHDOG_USEC` for our pid), or nil.
    public func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }
}

func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

extension String {
    func replacingNewlines() -> String { String(map { $0 == "\n" ? " " : $0 }) }
}
