import SentraAlertLog
import SentraAlerts
import SentraCore
import SentraPlugins
import SentraStore
import SentraWire
import Synchronization

/// One device as the daemon's HTTP face shows it.
public struct LiveDevice: Sendable {
    /// Event time of its last accepted reading.
    public var lastHeard: Int64?
    /// False once it said `offline` (its Last Will), until it is heard again.
    public var online = true
    public var state: LoomState?
    /// When the loom's current state began (event time), as far as this run has seen.
    public var stateSince: Int64?
    /// The latest value of each instantaneous field, inline (NaN: none yet), so a sentra of
    /// 10,000 devices keeps them without a heap allocation each.
    fileprivate var values = InlineArray<6, Double>(repeating: .nan)
    public init() {}

    /// The instantaneous fields, in the order of `values`.
    public static let gaugeFields: [Field] = [.v, .a, .w, .lpm, .level, .bar]

    @inline(__always) static func slot(_ f: Field) -> Int? {
        switch f {
        case .v: 0
        case .a: 1
        case .w: 2
        case .lpm: 3
        case .level: 4
        case .bar: 5
        default: nil
        }
    }

    /// The latest value of an instantaneous field (`v`, `lpm`, `level`, ...), nil before the first.
    public subscript(_ f: Field) -> Double? {
        get { Self.slot(f).flatMap { values[$0].isNaN ? nil : values[$0] } }
        set { if let i = Self.slot(f) { values[i] = newValue ?? .nan } }
    }
}

/// An alert firing now and the rule that fired it.
public struct FiringRuleAlert: Sendable, Equatable {
    public var rule: String
    public var alert: FiringAlert
    public init(rule: String, alert: FiringAlert) {
        self.rule = rule
        self.alert = alert
    }
}

/// What the ingest thread last published: the registry, each device's latest values and the
/// engine's firing alerts, copied once per commit interval (not per reading).
public struct LiveSnapshot: Sendable {
    public var registry: Registry
    /// By `registry.devices` index.
    public var devices: [LiveDevice]
    public var firing: [FiringRuleAlert]

    public init(registry: Registry, devices: [LiveDevice], firing: [FiringRuleAlert]) {
        self.registry = registry
        self.devices = devices
        self.firing = firing
    }
}

/// The latest `LiveSnapshot`, written by the ingest thread and read by HTTP handlers.
public final class LiveState: Sendable {
    private let state = Mutex<LiveSnapshot?>(nil)
    public init() {}
    public var snapshot: LiveSnapshot? { state.withLock { $0 } }
    public func publish(_ s: LiveSnapshot) { state.withLock { $0 = s } }
}

/// The ingest thread's side: follows accepted readings and status messages, a few stores
/// per reading.
public struct LiveTracker {
    public private(set) var devices: [LiveDevice]

    public init(registry: Registry, restored: [DeviceState]) {
        devices = restored.map(Self.device(from:))
        if devices.count < registry.devices.count {
            devices += Array(repeating: LiveDevice(), count: registry.devices.count - devices.count)
        }
    }

    public static func device(from s: DeviceState) -> LiveDevice {
        var d = LiveDevice()
        d.lastHeard = s.lastTs
        d.online = s.offlineSince == nil
        d.state = s.state
        d.stateSince = s.stateTs
        d[.v] = s.voltage
        return d
    }

    public mutating func accepted(device i: Int, reading r: Reading, ts: Int64) {
        guard i < devices.count else { return }
        devices[i].lastHeard = ts
        devices[i].online = true
        var mask = r.mask
        while mask != 0 {
            let f = mask.trailingZeroBitCount
            mask &= mask - 1
            if let slot = Field(rawValue: f).flatMap(LiveDevice.slot) { devices[i].values[slot] = r.values[f] }
        }
        if let s = r.state, s != devices[i].state {
            devices[i].state = s
            devices[i].stateSince = ts
        }
    }

    public mutating func status(device i: Int, online: Bool) {
        guard i < devices.count else { return }
        devices[i].online = online
    }

    /// Carries devices over to a reloaded registry by their key; new devices start empty.
    public mutating func remap(from old: Registry, to new: Registry) {
        var byKey: [DeviceKey: LiveDevice] = [:]
        for (i, d) in old.devices.enumerated() where i < devices.count { byKey[d.key] = devices[i] }
        devices = new.devices.map { byKey[$0.key] ?? LiveDevice() }
    }
}
