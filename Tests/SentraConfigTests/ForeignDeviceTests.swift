import Foundation
import Testing

@testable import SentraConfig
@testable import SentraCore

/// Off-the-shelf devices from configuration to counted buckets: each profile's payloads as the
/// devices' documentation shows them, read through `IngestPipeline`. Expected numbers are hand
/// arithmetic on the payloads.
@Suite struct ForeignDeviceTests {
    static let yaml = """
        sentra: { name: t, timezone: Asia/Jakarta }
        workshops: [ { id: ws-4 } ]
        craftsmen: [ { id: c-dewi, workshop: ws-4 } ]
        looms: [ { id: loom-41, workshop: ws-4, craftsman: c-dewi } ]
        devices:
          - { id: pm-4, workshop: ws-4, kind: power, profile: tasmota, topic: tasmota-pm4 }
          - id: wm-4
            workshop: ws-4
            kind: water
            profile: tasmota
            topic: tasmota-wm4
            counters: { C1: { field: l, pulses_per_unit: 450 } }
          - { id: pm-4b, workshop: ws-4, kind: power, profile: shelly-gen2, topic: shellyplus1pm-ws4 }
          - { id: pm-4c, workshop: ws-4, kind: power, profile: shelly-gen1, topic: shelly1pm-ABC123 }
          - { id: pm-4d, workshop: ws-4, kind: power, profile: shelly-gen1, topic: shellyem-D1, meter: emeter, channel: 1 }
          - { id: loom-41, workshop: ws-4, kind: loom, loom: loom-41, profile: esphome }
          - { id: wm-5, workshop: ws-4, kind: water, profile: acme }
        mappings:
          acme:
            status: { topic: "acme/{device}/lwt", online: up, offline: down }
            messages:
              - topic: "acme/{device}/data"
                time: { path: t, format: unix_ms }
                values:
                  l: { path: totals.litres, scale: 0.001 }
                  lpm: flow
              - topic: "acme/{device}/{field}"
                format: plain
                values:
                  bar: { topic_field: pressure }
        """

    struct Harness {
        var pipeline: IngestPipeline
        let registry: Registry
        init() throws {
            let c = try Configuration.parse(yaml: ForeignDeviceTests.yaml, file: "t.yaml")
            registry = c.registry
            pipeline = IngestPipeline(registry: c.registry, settings: c.ingest, calendar: c.calendar)
        }
        mutating func send(_ topic: String, _ payload: String, at now: Int64) {
            pipeline.ingest(topic: topic, payload: Array(payload.utf8), now: now)
        }
        func total(_ metric: Metric, device id: String) -> Double {
            let i = registry.devices.firstIndex { $0.id == id }!
            return pipeline.deltas.buckets.filter { $0.key.device == Int32(i) }.reduce(0) { $0 + $1.value[metric] }
        }
        func state(_ id: String) -> DeviceState { pipeline.devices[registry.devices.firstIndex { $0.id == id }!] }
    }

    /// 2026-11-24 10:00:00 in Jakarta (UTC+7) = 03:00:00 UTC.
    static let t0: Int64 = 1_795_489_200_000

    static func tasmota(_ local: String, total: Double) -> String {
        #"{"Time":"\#(local)","ENERGY":{"TotalStartTime":"2026-01-01T00:00:00","Total":\#(total),"Yesterday":1.2,"Today":0.5,"Power":120,"Voltage":221.5,"Current":0.55}}"#
    }

    @Test func tasmotaTimeIsTheSentrasLocalTimeUnlessItCarriesAnOffset() throws {
        var h = try Harness()
        h.send("tele/tasmota-pm4/SENSOR", Self.tasmota("2026-11-24T10:00:00", total: 1.0), at: Self.t0 + 500)
        #expect(h.state("pm-4").lastTs == Self.t0)
        #expect(h.state("pm-4").voltage == 221.5)
        // SetOption52: the offset is written and honoured (09:00:10 at +06:00 is 03:00:10 UTC).
        h.send("tele/tasmota-pm4/SENSOR", Self.tasmota("2026-11-24T09:00:10+06:00", total: 1.0), at: Self.t0 + 10_500)
        #expect(h.state("pm-4").lastTs == Self.t0 + 10_000)
        #expect(h.state("pm-4").skewMs == -500)
    }

    @Test func aTasmotaPowerCutCountsFromTheRestoredTotalNeverTwice() throws {
        var h = try Harness()
        let totals = [1.0, 1.25, 1.2, 1.22, 1.45]
        for (i, t) in totals.enumerated() {
            let local = String(format: "2026-11-24T10:%02d:00", i)
            h.send("tele/tasmota-pm4/SENSOR", Self.tasmota(local, total: t), at: Self.t0 + Int64(i) * 60_000 + 300)
        }
        // 1.0 → 1.25: 0.25; the cut restores 1.2 (the last save), confirmed by 1.22 (still below
        // 1.25): 1.2 → 1.22 counts 0.02, never 1.22; → 1.45: 0.23.
        #expect(abs(h.total(.kwh, device: "pm-4") - 0.5) < 1e-9)
        #expect(h.pipeline.stats.resets == 1)
    }

    @Test func aTasmotaPulseCounterIsScaledToLitres() throws {
        var h = try Harness()
        h.send("tele/tasmota-wm4/SENSOR", #"{"Time":"2026-11-24T10:00:00","COUNTER":{"C1":4500}}"#, at: Self.t0)
        h.send("tele/tasmota-wm4/SENSOR", #"{"Time":"2026-11-24T10:01:00","COUNTER":{"C1":9000}}"#, at: Self.t0 + 60_000)
        #expect(abs(h.total(.litres, device: "wm-4") - 10) < 1e-9)
        // A Tasmota status other than SENSOR is not subscribed; an unmapped sensor is ignored.
        h.send("tele/tasmota-wm4/SENSOR", #"{"Time":"2026-11-24T10:02:00","DS18B20":{"Temperature":28.1}}"#, at: Self.t0 + 120_000)
        #expect(h.pipeline.stats.ignored == 1)
        h.send("tele/tasmota-wm4/LWT", "Offline", at: Self.t0 + 130_000)
        #expect(h.state("wm-4").offlineSince == Self.t0 + 130_000)
    }

    static func notify(_ ts: Double, _ fields: String) -> String {
        #"{"src":"shellyplus1pm-ws4","dst":"shellyplus1pm-ws4/events","method":"NotifyStatus","params":{"ts":\#(ts),"switch:0":{"id":0,\#(fields)}}}"#
    }

    @Test func shellyGen2NotificationsArePartialAndEnergyIsWattHours() throws {
        var h = try Harness()
        let s0 = Double(Self.t0) / 1000
        h.send(
            "shellyplus1pm-ws4/events/rpc", Self.notify(s0, #""aenergy":{"total":1000.0,"by_minute":[1,2,3],"minute_ts":1}"#), at: Self.t0)
        h.send("shellyplus1pm-ws4/events/rpc", Self.notify(s0 + 1.5, #""apower":50.5"#), at: Self.t0 + 1500)
        h.send("shellyplus1pm-ws4/events/rpc", Self.notify(s0 + 60.25, #""aenergy":{"total":1500.0}"#), at: Self.t0 + 60_250)
        // Delivered twice (QoS 1 after a reconnect): the energy counts once.
        h.send("shellyplus1pm-ws4/events/rpc", Self.notify(s0 + 60.25, #""aenergy":{"total":1500.0}"#), at: Self.t0 + 60_300)
        #expect(abs(h.total(.kwh, device: "pm-4b") - 0.5) < 1e-9)
        #expect(h.pipeline.stats[.duplicate] == 1)
        // A status message carries no time: the receive time.
        h.send(
            "shellyplus1pm-ws4/status/switch:0", #"{"id":0,"apower":10,"voltage":230.1,"aenergy":{"total":1600.0}}"#, at: Self.t0 + 120_000)
        #expect(abs(h.total(.kwh, device: "pm-4b") - 0.6) < 1e-9)
        #expect(h.state("pm-4b").lastTs == Self.t0 + 120_000)
        // Events and other components carry nothing mapped.
        h.send(
            "shellyplus1pm-ws4/events/rpc", #"{"method":"NotifyEvent","params":{"ts":1,"events":[{"event":"btn_down"}]}}"#,
            at: Self.t0 + 121_000)
        h.send("shellyplus1pm-ws4/status/sys", #"{"uptime":100}"#, at: Self.t0 + 122_000)
        #expect(h.pipeline.stats.ignored == 2)
        h.send("shellyplus1pm-ws4/online", "false", at: Self.t0 + 123_000)
        #expect(h.state("pm-4b").offlineSince == Self.t0 + 123_000)
        #expect(h.pipeline.stats.accepted == 4)
    }

    @Test func shellyGen1SendsOnePlainValueAMessageInWattMinutes() throws {
        var h = try Harness()
        h.send("shellies/shelly1pm-ABC123/relay/0/energy", "60000", at: Self.t0)
        h.send("shellies/shelly1pm-ABC123/relay/0/power", "12.5", at: Self.t0)
        h.send("shellies/shelly1pm-ABC123/relay/0/energy", "90000", at: Self.t0 + 60_000)
        // 30000 watt-minutes = 0.5 kWh; a reboot returns it to 0, then it counts from there.
        h.send("shellies/shelly1pm-ABC123/relay/0/energy", "0", at: Self.t0 + 120_000)
        h.send("shellies/shelly1pm-ABC123/relay/0/energy", "6000", at: Self.t0 + 180_000)
        #expect(abs(h.total(.kwh, device: "pm-4c") - 0.6) < 1e-9)
        h.send("shellies/shellyem-D1/emeter/1/total", "2000.5", at: Self.t0)
        h.send("shellies/shellyem-D1/emeter/1/total", "2500.5", at: Self.t0 + 60_000)
        h.send("shellies/shellyem-D1/emeter/0/total", "99999", at: Self.t0 + 60_000)  // another channel: not this device's
        #expect(abs(h.total(.kwh, device: "pm-4d") - 0.5) < 1e-9)
        h.send("shellies/shelly1pm-ABC123/relay/0/energy", "lots", at: Self.t0 + 240_000)
        #expect(h.pipeline.stats[.badType] == 1)
    }

    @Test func esphomeValuesArriveOneAMessageAndAllCountAtTheSameReceiveTime() throws {
        var h = try Harness()
        for (topic, value) in [("picks", "100"), ("pieces", "3"), ("picks", "160"), ("pieces", "4")] {
            h.send("loom-41/sensor/\(topic)/state", value, at: Self.t0)
        }
        #expect(h.total(.picks, device: "loom-41") == 60)
        #expect(h.total(.pieces, device: "loom-41") == 1)
        #expect(h.pipeline.stats[.outOfOrder] == 0 && h.pipeline.stats[.duplicate] == 0)
        h.send("loom-41/binary_sensor/running/state", "ON", at: Self.t0 + 1000)
        h.send("loom-41/sensor/picks/state", "220", at: Self.t0 + 61_000)
        #expect(h.total(.runMs, device: "loom-41") == 60_000)
        // A reboot: totals back to 0, then 30 picks; the reset is confirmed by the next value.
        h.send("loom-41/sensor/picks/state", "0", at: Self.t0 + 62_000)
        h.send("loom-41/sensor/picks/state", "30", at: Self.t0 + 122_000)
        #expect(h.total(.picks, device: "loom-41") == 150)
        h.send("loom-41/sensor/picks/state", "nan", at: Self.t0 + 123_000)
        h.send("loom-41/sensor/wifi_signal/state", "-61", at: Self.t0 + 124_000)
        #expect(h.pipeline.stats[.notFinite] == 1)
        #expect(h.pipeline.stats.ignored == 1)
    }

    @Test func aGenericMappingReadsPathsTopicFieldsAndItsStatusWords() throws {
        var h = try Harness()
        h.send("acme/wm-5/data", #"{"t":\#(Self.t0),"totals":{"litres":12000},"flow":3.5}"#, at: Self.t0)
        h.send("acme/wm-5/data", #"{"t":\#(Self.t0 + 60_000),"totals":{"litres":15000},"flow":"fast"}"#, at: Self.t0 + 60_000)
        #expect(h.pipeline.stats[.badType] == 1)
        h.send("acme/wm-5/data", #"{"t":\#(Self.t0 + 60_000),"totals":{"litres":15000},"flow":2}"#, at: Self.t0 + 60_000)
        #expect(abs(h.total(.litres, device: "wm-5") - 3) < 1e-9)
        h.send("acme/wm-5/pressure", "2.5", at: Self.t0 + 61_000)
        h.send("acme/wm-5/humidity", "50", at: Self.t0 + 61_000)
        #expect(h.pipeline.stats.accepted == 3)
        #expect(h.pipeline.stats.ignored == 1)
        h.send("acme/wm-5/lwt", "down", at: Self.t0 + 62_000)
        #expect(h.state("wm-5").offlineSince == Self.t0 + 62_000)
        h.send("acme/wm-5/data", #"{"t":1,"totals":{"#, at: Self.t0 + 63_000)
        #expect(h.pipeline.stats[.badJSON] == 1)
    }

    @Test func topicsNoDeviceClaimsAreUnknownAndKeptBounded() throws {
        var h = try Harness()
        for i in 0..<5000 {
            h.send("tele/stranger-\(i)/SENSOR", #"{"ENERGY":{"Total":1}}"#, at: Self.t0 + Int64(i))
        }
        #expect(h.pipeline.stats[.unknownDevice] == 5000)
        #expect(h.pipeline.unknownTopics.count <= UnknownTopics.limit)
        #expect(h.pipeline.cachedTopics.rejected <= IngestPipeline.rejectedTopicCacheLimit)
        let kept = h.pipeline.unknownTopics.take()
        #expect(kept.contains { $0.topic == "tele/stranger-4999/SENSOR" })
        // Made-up sensors under a configured node are ignored, and their topics cached only so far.
        for i in 0..<3000 { h.send("loom-41/sensor/s\(i)/state", "1", at: Self.t0) }
        #expect(h.pipeline.cachedTopics.resolved <= 3 * h.registry.devices.count + IngestPipeline.patternTopicCacheLimit)
        // Home Assistant discovery: kept for onboarding, ignored, not rejected.
        h.send("homeassistant/sensor/loom-45/picks/config", #"{"name":"picks","stat_t":"loom-45/sensor/picks/state"}"#, at: Self.t0)
        #expect(h.pipeline.unknownTopics.take().first?.discovery == true)
        #expect(h.pipeline.stats[.unknownDevice] == 5000)
    }

    @Test func readingsWithoutTimeAreOrderedByArrivalForNativeDevicesToo() throws {
        let c = try Configuration.parse(yaml: ForeignDeviceTests.yaml, file: "t.yaml")
        var p = IngestPipeline(registry: c.registry, settings: c.ingest, calendar: c.calendar)
        let native = Registry(
            name: "n", workshops: c.registry.workshops, craftsmen: c.registry.craftsmen, looms: c.registry.looms,
            devices: [Device(id: "loom-41", workshop: "ws-4", kind: .loom, binding: .loom("loom-41"))])
        p.apply(registry: native)
        p.ingest(topic: "sentra/ws-4/loom/loom-41", payload: Array(#"{"picks":10}"#.utf8), now: Self.t0)
        p.ingest(topic: "sentra/ws-4/loom/loom-41", payload: Array(#"{"picks":15}"#.utf8), now: Self.t0)
        #expect(p.stats.accepted == 2)
        #expect(p.deltas.buckets.values.reduce(0) { $0 + $1[.picks] } == 5)
        // The same with a device time is out of order.
        p.ingest(topic: "sentra/ws-4/loom/loom-41", payload: Array(#"{"picks":20,"ts":\#(Self.t0)}"#.utf8), now: Self.t0)
        #expect(p.stats[.outOfOrder] == 1)
    }

    func problems(_ devices: String, mappings: String = "") -> [String] {
        let yaml = """
            workshops: [ { id: ws-4 } ]
            craftsmen: [ { id: c-dewi, workshop: ws-4 } ]
            looms: [ { id: loom-41, workshop: ws-4, craftsman: c-dewi } ]
            devices:
            \(devices)
            \(mappings)
            """
        do {
            _ = try Configuration.parse(yaml: yaml, file: "bad.yaml")
            return []
        } catch let e as ConfigurationErrors {
            return e.errors.map { "\($0.line) \($0.key): \($0.message)" }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func profileMistakesAreNamedByLineAndKey() {
        let unknown = problems("  - { id: pm-4, workshop: ws-4, kind: power, profile: tasmotta }")
        #expect(unknown.count == 1 && unknown[0].hasPrefix("5 devices[0].profile: unknown profile 'tasmotta'"), "\(unknown)")
        let misplaced = problems("  - { id: loom-41, workshop: ws-4, kind: loom, loom: loom-41, profile: esphome, counters: {} }")
        #expect(misplaced.contains { $0.contains("devices[0].counters: only for profile tasmota, not esphome") }, "\(misplaced)")
        let noCounter = problems("  - { id: wm-4, workshop: ws-4, kind: water, profile: tasmota }")
        #expect(noCounter.contains { $0.contains("devices[0].counters: missing (required)") }, "\(noCounter)")
        let badTopic = problems("  - { id: pm-4, workshop: ws-4, kind: power, profile: tasmota, topic: \"a/b\" }")
        #expect(badTopic.contains { $0.contains("devices[0].topic: 'a/b' is not one topic level") }, "\(badTopic)")
        let twice = problems(
            """
              - { id: pm-4, workshop: ws-4, kind: power, profile: tasmota, topic: same }
              - { id: pm-5, workshop: ws-4, kind: power, profile: tasmota, topic: same }
            """)
        #expect(twice.contains { $0.contains("devices 'pm-4' and 'pm-5' both read tele/same/SENSOR") }, "\(twice)")
        let wrongKind = problems("  - { id: loom-41, workshop: ws-4, kind: loom, loom: loom-41, profile: shelly-gen2 }")
        #expect(wrongKind.contains { $0.contains("profile shelly-gen2 reads power meters") }, "\(wrongKind)")
        let component = problems("  - { id: pm-4, workshop: ws-4, kind: power, profile: shelly-gen2, component: \"light:0\" }")
        #expect(component.contains { $0.contains("devices[0].component: expected switch:N") }, "\(component)")
    }

    @Test func mappingMistakesAreNamedByLineAndKey() {
        let device = "  - { id: wm-5, workshop: ws-4, kind: water, profile: acme }"
        let noDevice = problems(device, mappings: "mappings: { acme: { messages: [ { topic: \"acme/x/data\", values: { l: a } } ] } }")
        #expect(noDevice.contains { $0.contains("mappings.acme.messages[0].topic: 'acme/x/data' is not a topic pattern") }, "\(noDevice)")
        let badPath = problems(
            device, mappings: "mappings: { acme: { messages: [ { topic: \"acme/{device}\", values: { l: \"a..b\" } } ] } }")
        #expect(badPath.contains { $0.contains("mappings.acme.messages[0].values.l: 'a..b' is not a JSON path") }, "\(badPath)")
        let wrongField = problems(
            device, mappings: "mappings: { acme: { messages: [ { topic: \"acme/{device}\", values: { picks: a } } ] } }")
        #expect(wrongField.contains { $0.contains("mapping 'acme' maps 'picks', not a field of a water device") }, "\(wrongField)")
        let badTime = problems(
            device,
            mappings:
                "mappings: { acme: { messages: [ { topic: \"acme/{device}\", time: { path: t, format: epoch }, values: { l: a } } ] } }")
        #expect(badTime.contains { $0.contains("time.format: expected unix_ms, unix_s or iso8601") }, "\(badTime)")
        let reserved = problems(device, mappings: "mappings: { tasmota: { messages: [] } }")
        #expect(reserved.contains { $0.contains("'tasmota' cannot name a mapping") }, "\(reserved)")
    }

    @Test func onboardingGuessesTheProfileFromTopicAndPayload() {
        let plug = Onboarding.guess(topic: "tele/tasmota_1A2B3C/SENSOR", sample: Array(#"{"ENERGY":{"Total":1}}"#.utf8))
        #expect(plug == DeviceGuess(profile: "tasmota", topic: "tasmota_1A2B3C", kind: "power"))
        let snippet = Onboarding.snippet(plug!)
        #expect(snippet.contains("profile: tasmota") && snippet.contains("topic: tasmota_1A2B3C") && snippet.contains("id: tasmota_1a2b3c"))
        let shelly = Onboarding.guess(
            topic: "shellyplus1pm-a8/events/rpc", sample: Array(#"{"method":"NotifyStatus","params":{"pm1:0":{"apower":1}}}"#.utf8))
        #expect(shelly?.profile == "shelly-gen2" && shelly?.detail == "pm1:0")
        #expect(Onboarding.guess(topic: "shellies/shellyem-B9/emeter/1/total", sample: [])?.detail == "emeter 1")
        #expect(Onboarding.guess(topic: "loom-45/sensor/picks/state", sample: [])?.kind == "loom")
        // A Home Assistant discovery message, abbreviated as Tasmota and ESPHome write them.
        let discovery = Onboarding.guess(
            topic: "homeassistant/sensor/loom-45/picks/config",
            sample: Array(#"{"name":"picks","~":"loom-45/sensor/picks","stat_t":"~/state","unit_of_meas":"picks"}"#.utf8))
        #expect(discovery == DeviceGuess(profile: "esphome", topic: "loom-45", kind: "loom", detail: "sensor picks"))
        #expect(Onboarding.guess(topic: "somewhere/else", sample: []) == nil)
        #expect(Onboarding.suggestedID("Tasmota_1A2B3C.x") == "tasmota_1a2b3c-x")
    }
}
