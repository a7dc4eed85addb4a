import SentraAlerts
import SentraCore
import SentraReadModel
import SentraWire
import Testing

/// The read model's workshop health (docs/http.md, `power.status`), which the API only encodes.
@Suite struct WorkshopHealthTests {
    let registry = Registry(
        name: "test", workshops: [Workshop(id: "ws-1", name: "one", shift: .always)],
        craftsmen: [Craftsman(id: "c-a", name: "A", workshop: "ws-1")],
        looms: [Loom(id: "loom-1", workshop: "ws-1", assignments: [Assignment(craftsman: "c-a", since: .min)])],
        devices: [
            Device(id: "loom-1", workshop: "ws-1", kind: .loom, binding: .loom("loom-1")),
            Device(id: "pm-1", workshop: "ws-1", kind: .power, binding: .workshop),
            Device(id: "pm-2", workshop: "ws-1", kind: .power, binding: .craftsman("c-a")),
        ])

    func heard(_ values: [Field: Double], online: Bool = true) -> LiveDevice {
        var d = LiveDevice()
        d.lastHeard = 1_000
        d.online = online
        for (f, v) in values { d[f] = v }
        return d
    }

    func sag(on device: String) -> FiringRuleAlert {
        FiringRuleAlert(
            rule: "voltage_sag",
            alert: FiringAlert(
                id: "x", labels: ["workshop": "ws-1", "device": device], started: 0, value: 187, summary: "", severity: .warning))
    }

    @Test func powerCombinesTheMetersOnlineAndWaterWithoutMetersIsNone() {
        let snapshot = LiveSnapshot(
            registry: registry, devices: [LiveDevice(), heard([.v: 221.5, .w: 1000.1]), heard([.v: 219, .w: 0.2])], firing: [])
        let health = WorkshopHealth(workshop: "ws-1", meters: [0, 1, 2], snapshot: snapshot, firing: [])
        #expect(health.power == .init(status: .ok, voltage: 219, watts: 1000.3, devices: ["pm-1", "pm-2"], alerts: []))
        #expect(health.water == .init(status: .noMeter, flowLpm: nil, tankPercent: nil, devices: [], alerts: []))
        #expect(health.alerts == [])
    }

    @Test func anAlertOnAMeterWinsAndOfflineMetersCountForNothing() {
        let snapshot = LiveSnapshot(
            registry: registry, devices: [LiveDevice(), heard([.v: 187]), heard([.v: 230], online: false)], firing: [])
        let stalled = FiringRuleAlert(
            rule: "loom_stalled",
            alert: FiringAlert(
                id: "y", labels: ["workshop": "ws-1", "loom": "loom-1"], started: 0, value: nil, summary: "", severity: .info))
        let health = WorkshopHealth(workshop: "ws-1", meters: [0, 1, 2], snapshot: snapshot, firing: [sag(on: "pm-1"), stalled])
        #expect(health.power.status == .alert && health.power.alerts == ["voltage_sag"] && health.power.voltage == 187)
        #expect(health.alerts == ["loom_stalled", "voltage_sag"])

        let gone = LiveSnapshot(
            registry: registry, devices: [LiveDevice(), LiveDevice(), heard([.v: 230], online: false)], firing: [])
        let offline = WorkshopHealth(workshop: "ws-1", meters: [0, 1, 2], snapshot: gone, firing: [sag(on: "pm-9")])
        #expect(offline.power.status == .offline && offline.power.voltage == nil && offline.power.alerts == [])
        #expect(offline.alerts == ["voltage_sag"], "the workshop's alerts name every rule firing there")
    }

    @Test func aUsualIsTheMedianOfPastWorkingDays() {
        let days = [[Double](repeating: 1, count: 24), [Double](repeating: 2, count: 24), [Double](repeating: 4, count: 24)]
        let usual = CraftsmanUsual(workingDays: days, hoursIntoDay: 1.5)
        #expect(usual.days == 3 && usual.day == 48 && usual.soFar == 3 && usual.hours == [Double](repeating: 2, count: 24))
        let none = CraftsmanUsual(workingDays: [], hoursIntoDay: 12)
        #expect(none.days == 0 && none.day == nil && none.soFar == nil && none.hours == nil)
    }
}
