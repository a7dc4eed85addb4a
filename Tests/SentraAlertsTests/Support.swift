import Foundation
import SentraCore
import SentraLocale
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraAlerts

func minute(_ m: Int) -> Int64 { Int64(m) * 60_000 }
func second(_ s: Int) -> Int64 { Int64(s) * 1000 }

func testRegistry() -> Registry {
    let shift = Schedule(
        days: Set(1...6), windows: [DayWindow(startMinute: 7 * 60, endMinute: 16 * 60)],
        breaks: [DayWindow(startMinute: 12 * 60, endMinute: 13 * 60)])
    let dyeing = Schedule(
        days: Set(1...6),
        windows: [DayWindow(startMinute: 8 * 60, endMinute: 11 * 60), DayWindow(startMinute: 13 * 60, endMinute: 15 * 60)])
    return Registry(
        name: "Test sentra",
        workshops: [
            Workshop(id: "ws-a", name: "A", shift: shift, dyeing: dyeing),
            Workshop(id: "ws-b", name: "B", shift: shift, dyeing: dyeing),
        ],
        craftsmen: [Craftsman(id: "c-anwar", name: "Pak Anwar", workshop: "ws-a")],
        looms: [Loom(id: "loom-01", workshop: "ws-a", assignments: [Assignment(craftsman: "c-anwar", since: .min)])],
        devices: [
            Device(id: "pm-1", workshop: "ws-a", kind: .power, binding: .workshop),
            Device(id: "wm-1", workshop: "ws-a", kind: .water, binding: .workshop),
            Device(id: "loom-01", workshop: "ws-a", kind: .loom, binding: .loom("loom-01")),
            Device(id: "pm-2", workshop: "ws-b", kind: .power, binding: .workshop),
        ])
}

enum Rules {
    static let voltageSag = RuleSpec(
        name: "voltage_sag", severity: .warning, scope: RuleScope(kind: .power), window: .always,
        condition: .threshold(
            field: .v, below: true, limit: 198, resolveAt: 205, forMillis: 30_000, keepFiringMillis: 0, offlineFires: false),
        summary: "Voltage {value} V below {limit} V for {for} at {workshop}/{device}")
    static let powerOutage = RuleSpec(
        name: "power_outage", severity: .critical, scope: RuleScope(kind: .power), window: .always,
        condition: .threshold(field: .v, below: true, limit: 50, resolveAt: 198, forMillis: 5000, keepFiringMillis: 0, offlineFires: true),
        summary: "Power outage at {workshop}/{device}: {value} V")
    static let waterLowFlow = RuleSpec(
        name: "water_low_flow", severity: .warning, scope: RuleScope(kind: .water), window: .dyeing,
        condition: .threshold(
            field: .lpm, below: true, limit: 1, resolveAt: 1, forMillis: 120_000, keepFiringMillis: 0, offlineFires: false),
        summary: "Water flow {value} L/min below {limit} L/min for {for} during dyeing at {workshop}/{device}")
    static let loomStalled = RuleSpec(
        name: "loom_stalled", severity: .warning, scope: RuleScope(kind: .loom), window: .shift,
        condition: .stalled(forMillis: 900_000), summary: "Loom {loom} of {craftsman} at {workshop} has not advanced for {for}")
    static func deviceSilent(_ window: RuleWindow) -> RuleSpec {
        RuleSpec(
            name: "device_silent", severity: .warning, scope: RuleScope(), window: window, condition: .absent(forMillis: 300_000),
            summary: "No reading from {workshop}/{device} for {value} s")
    }
    static let boardReboot = RuleSpec(
        name: "board_reboot", severity: .info, scope: RuleScope(), window: .always, condition: .counterReset,
        summary: "Board {workshop}/{device} restarted (counter reset)")
    static let productionLow = RuleSpec(
        name: "production_low", severity: .info, scope: RuleScope(), window: .shift, condition: .belowUsual(fraction: 0.5, days: 14),
        summary: "{craftsman} made {value} pieces this hour, below {limit} (half his usual)")
}

/// The real ingest pipeline feeding an engine; events collected in order.
final class Harness {
    var events: [AlertEvent] = []
    var engine: AlertEngine!
    var pipeline: IngestPipeline
    let registry: Registry

    init(
        rules: [RuleSpec], start: Int64, usual: (any UsualRateProvider)? = nil, registry: Registry = testRegistry(),
        language: Language = .en
    ) {
        self.registry = registry
        let cal = LocalCalendar(timeZone: jakarta)
        pipeline = IngestPipeline(registry: registry, calendar: cal)
        var settings = AlertEngine.Settings()
        settings.language = language
        engine = AlertEngine(registry: registry, rules: rules, calendar: cal, startedAt: start, usualRates: usual, settings: settings) {
            [unowned self] in
            self.events.append($0)
        }
        pipeline.observer = engine
        engine.tick(now: start)
    }

    /// Sends one reading at event time `ts`, received at once (live): the daemon's clock
    /// ticks to `ts` first, as the daemon's one-second tick would have.
    func send(_ topic: String, ts: Int64, _ fields: String, live: Bool = true) {
        if live { engine.tick(now: ts) }
        pipeline.ingest(topic: topic, payload: Array("{\"ts\":\(ts),\(fields)}".utf8), now: ts)
    }

    func status(_ topic: String, _ text: String, now: Int64) {
        pipeline.ingest(topic: topic + "/status", payload: Array(text.utf8), now: now)
    }

    func tick(_ now: Int64) { engine.tick(now: now) }

    var lines: [String] { events.map { "\($0.rule) \($0.status.rawValue)" } }
}
