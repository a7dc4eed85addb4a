import SentraCore
import SentraWire

/// A workshop's power and water as the dashboard shows them, from the live snapshot
/// (docs/http.md, `power.status`): for each kind of meter, `alert` when an alert fires on one
/// of them, `offline` when every one said offline or was never heard, `ok`, or `none` without
/// such meters; the values combine those online (lowest voltage and tank, summed power and flow).
public struct WorkshopHealth: Sendable, Equatable {
    public var power: SentraAnswer.PowerHealth
    public var water: SentraAnswer.WaterHealth
    /// Every rule firing in the workshop (`production_low`, `loom_stalled` too), sorted.
    public var alerts: [String]

    /// `meters`: the workshop's devices, as indices into `snapshot.registry.devices`;
    /// `firing`: every alert firing now.
    public init(workshop: String, meters: [Int], snapshot: LiveSnapshot, firing: [FiringRuleAlert]) {
        let here = firing.filter { $0.alert.labels["workshop"] == workshop }
        let power = Meters(kind: .power, of: meters, snapshot: snapshot, firing: here)
        let water = Meters(kind: .water, of: meters, snapshot: snapshot, firing: here)
        self.power = .init(
            status: power.status, voltage: power.combined(.v, Meters.lowest), watts: power.combined(.w, Meters.sum),
            devices: power.ids, alerts: power.alerts)
        self.water = .init(
            status: water.status, flowLpm: water.combined(.lpm, Meters.sum), tankPercent: water.combined(.level, Meters.lowest),
            devices: water.ids, alerts: water.alerts)
        alerts = Array(Set(here.map(\.rule))).sorted()
    }

    /// A workshop's meters of one kind.
    struct Meters {
        let indices: [Int]
        let ids: [String]
        /// The rules firing on these meters, sorted.
        let alerts: [String]
        let status: MeterStatus
        let snapshot: LiveSnapshot

        init(kind: DeviceKind, of meters: [Int], snapshot: LiveSnapshot, firing: [FiringRuleAlert]) {
            let devices = snapshot.registry.devices
            indices = meters.filter { devices[$0].kind == kind }
            ids = indices.map { devices[$0].id }
            let idSet = Set(ids)
            let onMeters = firing.filter { $0.alert.labels["device"].map(idSet.contains) ?? false }
            alerts = Array(Set(onMeters.map(\.rule))).sorted()
            if indices.isEmpty {
                status = .noMeter
            } else if !onMeters.isEmpty {
                status = .alert
            } else if indices.allSatisfy({ !snapshot.devices[$0].online || snapshot.devices[$0].lastHeard == nil }) {
                status = .offline
            } else {
                status = .ok
            }
            self.snapshot = snapshot
        }

        /// `field` of the meters online, combined; nil when none has it. Rounded as the API prints.
        func combined(_ field: Field, _ combine: ([Double]) -> Double?) -> Double? {
            combine(indices.compactMap { snapshot.devices[$0].online ? snapshot.devices[$0][field] : nil }).map { WireJSON.rounded($0) }
        }

        static func sum(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) }
        static func lowest(_ xs: [Double]) -> Double? { xs.min() }
    }
}
