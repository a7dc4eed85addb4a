import Foundation
import SentraWire
import Testing

/// Off-the-shelf devices end to end: a real mosquitto, the built `sentrad`, the devices' own
/// payloads (written from their documentation, linked beside each fixture) published over MQTT
/// in real time at QoS 0 (as the devices do) and QoS 1, and `sentractl report` compared with
/// production worked out by hand from those payloads. Each sentra is one workshop, one
/// craftsman, one loom (an ESPHome counter board) and the device under test.
@Suite(.serialized) struct DeviceProfileTests {
    // MARK: Tasmota

    /// A Tasmota power plug on the workshop's supply; the loom never runs, so its energy stays
    /// unattributed. A power cut brings the plug back with the total it last saved to flash
    /// (1.200 after 1.250): the increases count from the restored value, never twice.
    @Test func tasmotaPowerMeterThroughAPowerCut() async throws {
        let t = try await DeviceSentra(device: "{ id: pm-1, workshop: ws-1, kind: power, profile: tasmota, topic: tasmota_5E1F20 }")
        let base = (nowMillis() / 1000) * 1000
        let sensor = "tele/tasmota_5E1F20/SENSOR", lwt = "tele/tasmota_5E1F20/LWT"
        try t.publish(lwt, ["Online"])
        try t.publish(sensor, [Tasmota.energy(at: base - 480_000, total: "1.000"), Tasmota.energy(at: base - 420_000, total: "1.250")])
        try t.loomPicks(["100", "130"])
        // What Tasmota sends at its default QoS 0: a temperature (nothing mapped) and a
        // message cut short (garbled).
        try t.publish(sensor, [Tasmota.temperature(at: base - 400_000), Tasmota.cutShort(at: base - 390_000)], qos: 0)
        // The power cut: the broker publishes the Last Will, the plug reconnects, and its
        // total is back at what it saved to flash.
        try t.publish(lwt, ["Offline", "Online"])
        try t.publish(
            sensor,
            [
                Tasmota.energy(at: base - 30_000, total: "1.200"), Tasmota.energy(at: base - 20_000, total: "1.220"),
                Tasmota.energy(at: base - 10_000, total: "1.300"),
            ], qos: 0)

        // By hand: 1.000 → 1.250 is 0.250; the drop to 1.200 is confirmed by 1.220 (below
        // 1.250), which counts 0.020 from the restored 1.200; 1.300 adds 0.080: 0.350 kWh.
        let c = try await t.settled(accepted: 7, rejected: ["bad_json": 1], ignored: 1, status: 4)
        #expect(c.counterEvents.reset == 1 && c.counterEvents.glitch == 0, "one confirmed drop: \(c.counterEvents)")
        let r = try t.report(from: base - 480_000)
        try expectCraftsman(r, pieces: 0, picks: 30, kwh: 0, water: 0)
        try expectUnattributed(r, kwh: 0.350, water: 0)
        try await t.stop()
    }

    /// A Tasmota board counting a YF-S201 flow sensor's pulses on `COUNTER.C1` (450 a litre),
    /// on the workshop's supply: a power cut restores the count it last saved to flash, and
    /// the increases count from there.
    @Test func tasmotaPulseCounterWaterMeterThroughAPowerCut() async throws {
        let t = try await DeviceSentra(
            device:
                "{ id: wm-1, workshop: ws-1, kind: water, profile: tasmota, topic: tasmota_9A0B11, counters: { C1: { field: l, pulses_per_unit: 450 } } }"
        )
        let base = (nowMillis() / 1000) * 1000
        let sensor = "tele/tasmota_9A0B11/SENSOR", lwt = "tele/tasmota_9A0B11/LWT"
        try t.publish(lwt, ["Online"])
        try t.publish(sensor, [Tasmota.counter(at: base - 300_000, c1: "4500"), Tasmota.counter(at: base - 240_000, c1: "9000")], qos: 0)
        try t.loomPicks(["100", "130"])
        try t.publish(sensor, [Tasmota.counter(at: base - 200_000, c1: #""many""#)], qos: 0)
        try t.publish(lwt, ["Offline", "Online"])
        try t.publish(
            sensor,
            [
                Tasmota.counter(at: base - 30_000, c1: "8550"), Tasmota.counter(at: base - 20_000, c1: "8775"),
                Tasmota.counter(at: base - 10_000, c1: "9900"),
            ])

        // By hand, in pulses: 4500 → 9000 is 4500 (10 L); the drop to 8550 is confirmed by
        // 8775 (below 9000), which counts 225 from the restored 8550 (0.5 L); 9900 adds 1125
        // (2.5 L): 13 L, unattributed (the loom never ran).
        let c = try await t.settled(accepted: 7, rejected: ["bad_type": 1], status: 4)
        #expect(c.counterEvents.reset == 1 && c.counterEvents.glitch == 0, "one confirmed drop: \(c.counterEvents)")
        let r = try t.report(from: base - 300_000)
        try expectCraftsman(r, pieces: 0, picks: 30, kwh: 0, water: 0)
        try expectUnattributed(r, kwh: 0, water: 13)
        try await t.stop()
    }

    // MARK: Shelly gen2

    /// A Shelly Plus 1PM on the craftsman's own circuit: notifications carrying only `apower`
    /// or only `aenergy`, an event and a Wi-Fi change (nothing mapped), a reboot (its energy
    /// counter starts again at 0), then `status/switch:0` messages (no device time) in quick
    /// succession.
    @Test func shellyGen2PlugThroughARebootWithPartialNotifications() async throws {
        let prefix = "shellyplus1pm-a8032ab1c2d4"
        let t = try await DeviceSentra(
            device: "{ id: pm-1, workshop: ws-1, kind: power, craftsman: c-a, profile: shelly-gen2, topic: \(prefix) }")
        let s = Double(nowMillis() / 1000)
        let rpc = "\(prefix)/events/rpc"
        try t.publish("\(prefix)/online", ["true"])
        try t.publish(
            rpc,
            [
                ShellyGen2.notifyFull(prefix, ts: s - 600.12, apower: 100.2, totalWh: "1000.000"),
                ShellyGen2.notifyPower(prefix, ts: s - 540.5, apower: 120.5),
                ShellyGen2.notifyEnergy(prefix, ts: s - 480.25, totalWh: "1050.000"),
            ])
        try t.loomPicks(["100", "130"])
        try t.publish(
            rpc,
            [
                ShellyGen2.notifyEvent(prefix, ts: s - 470.5), ShellyGen2.notifyWifi(prefix, ts: s - 460.5),
                ShellyGen2.cutShort(prefix, ts: s - 450.5), ShellyGen2.wordForPower(prefix, ts: s - 440.5),
            ], qos: 0)
        try t.publish("\(prefix)/online", ["false", "true"])
        try t.publish(
            rpc,
            [
                ShellyGen2.notifyEnergy(prefix, ts: s - 300.3, totalWh: "2.500"),
                ShellyGen2.notifyEnergy(prefix, ts: s - 240.3, totalWh: "12.500"),
            ])
        try t.publish(
            "\(prefix)/status/switch:0", ["20.000", "22.000", "25.000"].map { ShellyGen2.switchStatus(totalWh: $0) }, qos: 0)

        // By hand, in Wh: 1000 → 1050 is 50; after the reboot 2.5 is a dip, 12.5 (still below
        // 1050) confirms the reset and counts 12.5; then 20 (+7.5), 22 (+2), 25 (+3): 75 Wh.
        let c = try await t.settled(accepted: 10, rejected: ["bad_json": 1, "bad_type": 1], ignored: 2, status: 4)
        #expect(c.counterEvents.reset == 1 && c.counterEvents.glitch == 0, "one reset: \(c.counterEvents)")
        let r = try t.report(from: Int64(s - 600) * 1000)
        try expectCraftsman(r, pieces: 0, picks: 30, kwh: 0.075, water: 0)
        try expectUnattributed(r, kwh: 0, water: 0)
        try await t.stop()
    }

    // MARK: Shelly gen1

    /// A Shelly Plug S (gen1) on the workshop's supply: one plain value a topic, energy in
    /// watt-minutes, several in quick succession, a reboot (back to 0), and the plug's other
    /// topics (relay state, temperature, overtemperature) which carry nothing mapped.
    @Test func shellyGen1PlugThroughAReboot() async throws {
        let id = "shellyplug-s-7C87CE"
        let t = try await DeviceSentra(device: "{ id: pm-1, workshop: ws-1, kind: power, profile: shelly-gen1, topic: \(id) }")
        let start = nowMillis()
        let relay = "shellies/\(id)/relay/0"
        try t.publish("shellies/\(id)/online", ["true"])
        try t.publish("\(relay)/power", ["40.52"])
        try t.publish("\(relay)/energy", ["6000", "6600", "7200"])
        try t.loomPicks(["100", "130"])
        try t.publish(relay, ["on"], qos: 0)
        try t.publish("shellies/\(id)/temperature", ["38.41"], qos: 0)
        try t.publish("shellies/\(id)/overtemperature", ["0"], qos: 0)
        try t.publish("\(relay)/energy", ["n/a"], qos: 0)
        try t.publish("shellies/\(id)/online", ["false", "true"])
        try t.publish("\(relay)/energy", ["30", "90", "150"], qos: 0)

        // By hand, in watt-minutes: 6000 → 7200 is 1200; after the reboot 30 is a dip, 90
        // confirms the reset and counts 90, 150 adds 60: 1350 Wmin = 1350 / 60000 = 0.0225 kWh.
        let c = try await t.settled(accepted: 9, rejected: ["bad_type": 1], ignored: 3, status: 4)
        #expect(c.counterEvents.reset == 1 && c.counterEvents.glitch == 0, "one reset: \(c.counterEvents)")
        let r = try t.report(from: start)
        try expectCraftsman(r, pieces: 0, picks: 30, kwh: 0, water: 0)
        try expectUnattributed(r, kwh: 0.0225, water: 0)
        try await t.stop()
    }

    // MARK: ESPHome

    /// The loom's ESPHome board (picks, pieces, `running`) and an ESPHome water meter on the
    /// workshop's supply: both reboot (totals back to 0), readings come in quick succession,
    /// the board reports `nan` and a garbled value, and its uptime (an unmapped sensor). The
    /// loom runs while the water flows, so the workshop's water goes to the craftsman.
    @Test func esphomeLoomAndWaterMeterThroughAReboot() async throws {
        let t = try await DeviceSentra(
            device:
                "{ id: wm-1, workshop: ws-1, kind: water, profile: esphome, topic: dye-water-1, sensors: { l: { name: water_total, pulses_per_unit: 450 }, lpm: { name: water_flow, pulses_per_unit: 450 } } }"
        )
        let start = nowMillis()
        let loom = "atbm-loom-1", water = "dye-water-1"
        try t.publish("\(loom)/status", ["online"])
        try t.publish("\(water)/status", ["online"])
        try t.publish("\(loom)/binary_sensor/running/state", ["ON"])
        _ = try await t.settled(accepted: 1, status: 2)

        try t.publish("\(loom)/sensor/picks/state", ["1200", "1210", "1225"], qos: 0)
        try t.publish("\(loom)/sensor/pieces/state", ["3", "4"])
        try t.publish("\(water)/sensor/water_total/state", ["4500", "9000", "11250"], qos: 0)
        try t.publish("\(water)/sensor/water_flow/state", ["9225"], qos: 0)
        try t.publish("\(loom)/sensor/uptime/state", ["3605"], qos: 0)
        try t.publish("\(loom)/sensor/picks/state", ["nan"], qos: 0)
        try t.publish("\(loom)/sensor/pieces/state", ["4.0.1"], qos: 0)
        _ = try await t.settled(accepted: 10, rejected: ["not_finite": 1, "bad_type": 1], ignored: 1, status: 2)

        // Both boards reboot: the broker publishes their Last Will, they come back, the loom
        // board publishes its binary sensor's state again, and the totals start from 0.
        try t.publish("\(loom)/status", ["offline"])
        try t.publish("\(water)/status", ["offline"])
        try t.publish("\(loom)/status", ["online"])
        try t.publish("\(water)/status", ["online"])
        try t.publish("\(loom)/binary_sensor/running/state", ["ON"])
        _ = try await t.settled(accepted: 11, rejected: ["not_finite": 1, "bad_type": 1], ignored: 1, status: 6)

        try t.publish("\(loom)/sensor/picks/state", ["5", "20", "30"], qos: 0)
        try t.publish("\(loom)/sensor/pieces/state", ["0", "1", "2"])
        try t.publish("\(water)/sensor/water_total/state", ["225", "900", "1350"], qos: 0)
        _ = try await t.settled(accepted: 20, rejected: ["not_finite": 1, "bad_type": 1], ignored: 1, status: 6)
        try t.publish("\(loom)/binary_sensor/running/state", ["OFF"])

        // By hand: picks 1200 → 1225 is 25, after the reboot 5 is a dip, 20 confirms and
        // counts 20, 30 adds 10: 55. Pieces 3 → 4 is 1, then 0 (dip), 1 (reset: 1), 2 (+1): 3.
        // Water in pulses ÷ 450: 4500 → 11250 is 15 L, then 225 (dip), 900 (reset: 2 L),
        // 1350 (+1 L): 18 L, all while the loom ran, so all the craftsman's.
        let c = try await t.settled(accepted: 21, rejected: ["not_finite": 1, "bad_type": 1], ignored: 1, status: 6)
        let end = nowMillis()
        #expect(c.counterEvents.reset == 3 && c.counterEvents.glitch == 0, "picks, pieces and water reset: \(c.counterEvents)")
        let r = try t.report(from: start)
        let row = try expectCraftsman(r, pieces: 3, picks: 55, kwh: 0, water: 18)
        try expectUnattributed(r, kwh: 0, water: 0)
        // Running time follows the receive times: no more than the test's own span.
        #expect(row.runSeconds >= 0 && row.runSeconds <= Int((end - start) / 1000) + 1, "run_seconds \(row.runSeconds)")
        try await t.stop()
    }

    // MARK: A generic mapping

    /// A Zigbee smart plug through Zigbee2MQTT, read by a mapping under `mappings:` (JSON
    /// paths, the availability topic as its status), on the craftsman's circuit: readings with
    /// no time in quick succession, a message with nothing mapped, a garbled one, and a power
    /// loss after which the plug's energy counter starts again at 0.
    @Test func genericMappingZigbeePlugThroughAPowerLoss() async throws {
        let t = try await DeviceSentra(
            device: "{ id: pm-1, workshop: ws-1, kind: power, craftsman: c-a, profile: z2m-plug, topic: dye-kitchen-plug }",
            extra: Zigbee2MQTT.mapping)
        let start = nowMillis()
        let topic = "zigbee2mqtt/dye-kitchen-plug", availability = "zigbee2mqtt/dye-kitchen-plug/availability"
        try t.publish(availability, [Zigbee2MQTT.online])
        try t.publish(topic, ["2.00", "2.05", "2.10"].map { Zigbee2MQTT.plug(energy: $0) })
        try t.loomPicks(["100", "130"])
        try t.publish(topic, [Zigbee2MQTT.linkOnly, Zigbee2MQTT.cutShort], qos: 0)
        try t.publish(availability, [Zigbee2MQTT.offline, Zigbee2MQTT.online])
        try t.publish(topic, ["0.01", "0.03", "0.06"].map { Zigbee2MQTT.plug(energy: $0) }, qos: 0)

        // By hand: 2.00 → 2.10 is 0.10 kWh; after the power loss 0.01 is a dip, 0.03 confirms
        // the reset and counts 0.03, 0.06 adds 0.03: 0.16 kWh, the craftsman's.
        let c = try await t.settled(accepted: 8, rejected: ["bad_json": 1], ignored: 1, status: 4)
        #expect(c.counterEvents.reset == 1 && c.counterEvents.glitch == 0, "one reset: \(c.counterEvents)")
        let r = try t.report(from: start)
        try expectCraftsman(r, pieces: 0, picks: 30, kwh: 0.16, water: 0)
        try expectUnattributed(r, kwh: 0, water: 0)
        try await t.stop()
    }

    // MARK: The session

    /// QoS 0 messages published while `sentrad` is stopped wait in its persistent session
    /// (the test broker queues QoS 0 for offline clients) and are counted after it restarts.
    @Test func qos0MessagesPublishedWhileStoppedAreCountedAfterARestart() async throws {
        let t = try await DeviceSentra(device: nil)
        let start = nowMillis()
        let loom = "atbm-loom-1"
        try t.publish("\(loom)/status", ["online"])
        try t.publish("\(loom)/sensor/picks/state", ["100"], qos: 0)
        try t.publish("\(loom)/sensor/pieces/state", ["7"], qos: 0)
        _ = try await t.settled(accepted: 2, status: 1)
        try await t.daemon.terminate()

        try t.publish("\(loom)/sensor/picks/state", ["110", "125"], qos: 0)
        try t.publish("\(loom)/sensor/pieces/state", ["8"], qos: 0)
        let restarted = nowMillis()
        try await t.daemon.start()
        // This run's counts: the three messages the broker kept.
        let c = try await t.settled(accepted: 3, since: restarted)
        #expect(c.rejectedTotal == 0)
        let r = try t.report(from: start)
        try expectCraftsman(r, pieces: 1, picks: 25, kwh: 0, water: 0)
        try await t.stop()
    }

    /// The daemon's subscriptions reach the broker: the filters of each profile in use and
    /// `broker.subscriptions` deliver devices nobody has configured yet, which `sentractl
    /// devices unknown` lists (with what each looks like); a topic outside every filter never
    /// arrives.
    @Test func unconfiguredDevicesOnSubscribedTopicsAreListedAsUnknown() async throws {
        let t = try await DeviceSentra(
            device: "{ id: pm-1, workshop: ws-1, kind: power, profile: tasmota, topic: tasmota_5E1F20 }",
            extra: "broker:\n  subscriptions: [\"gateway/+/up\"]\n")
        let now = nowMillis()
        try t.publish("factory/line-2/counter", [#"{"count":12}"#])
        try t.publish("tele/tasmota_5E1F20/SENSOR", [Tasmota.energy(at: now - 20_000, total: "3.100")], qos: 0)
        try t.publish(
            "tele/tasmota_1A2B3C/SENSOR",
            [Tasmota.energy(at: now - 20_000, total: "0.700"), Tasmota.energy(at: now - 10_000, total: "0.710")],
            qos: 0)
        try t.publish("gateway/gw-7/up", [#"{"dev":"flow-7","l":1234}"#])
        try await t.settled(accepted: 1, rejected: ["unknown_device": 3])

        let (status, out) = try t.daemon.ctl(["devices", "unknown", "--format", "json"])
        try #require(status == 0, "sentractl devices unknown: \(out)")
        let doc = try WireJSON.decode(UnknownTopicsDocument.self, from: out)
        #expect(doc.topics.map(\.topic).sorted() == ["gateway/gw-7/up", "tele/tasmota_1A2B3C/SENSOR"], "\(doc.topics)")
        let plug = try #require(doc.topics.first { $0.topic == "tele/tasmota_1A2B3C/SENSOR" })
        #expect(plug.count == 2)
        #expect(plug.sample.contains(#""Total":0.7"#), "sample: \(plug.sample)")
        #expect(plug.looksLike == .init(profile: "tasmota", kind: "power", topic: "tasmota_1A2B3C"))
        #expect(plug.snippet?.contains("tasmota_1A2B3C") == true, "snippet: \(plug.snippet ?? "none")")
        let gateway = try #require(doc.topics.first { $0.topic == "gateway/gw-7/up" })
        #expect(gateway.count == 1 && gateway.sample.contains("flow-7"))
        try await t.stop()
    }
}

// MARK: - The sentra under test

/// A broker, a `sentrad` and a configuration of one workshop `ws-1`, one craftsman `c-a`, one
/// loom `loom-1` counted by the ESPHome node `atbm-loom-1`, and the device under test.
struct DeviceSentra {
    let broker: Broker
    let daemon: Daemon

    init(device: String?, extra: String = "") async throws {
        broker = try await Broker()
        let dir = Paths.tempDir("devices")
        let yaml = """
            sentra:
              name: Device profile test
              timezone: Asia/Jakarta
            workshops:
              - id: ws-1
            craftsmen:
              - { id: c-a, workshop: ws-1 }
            looms:
              - { id: loom-1, workshop: ws-1, craftsman: c-a }
            devices:
              - { id: loom-1, workshop: ws-1, kind: loom, loom: loom-1, profile: esphome, topic: atbm-loom-1 }
            \(device.map { "  - \($0)\n" } ?? "")\(extra)
            """
        let path = dir.appendingPathComponent("sentra.yaml")
        try yaml.write(to: path, atomically: true, encoding: .utf8)
        let (status, out) = try run(Paths.binary("sentractl"), ["check", "--config", path.path], timeout: 60)
        guard status == 0 else { throw TestFailure("the test's configuration is not valid (\(status)): \(out)\n\(yaml)") }
        daemon = Daemon(broker: broker, config: path.path, dir: dir)
        try await daemon.start()
    }

    /// Publishes each of `payloads` as one message to `topic`, in order, from one client
    /// (mosquitto_pub, bounded by a timeout).
    func publish(_ topic: String, _ payloads: [String], qos: Int = 1) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-pub-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try (payloads.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let args = [
            "-c", #"exec /usr/bin/mosquitto_pub "$@" < "$0""#, file.path, "-h", "127.0.0.1", "-p", "\(broker.port)", "-q", "\(qos)",
            "-t", topic, "-l", "-i", "test-pub-\(UUID().uuidString.prefix(6))",
        ]
        let (status, out) = try run("/bin/sh", args, timeout: 30)
        if status != 0 { throw TestFailure("mosquitto_pub to \(topic) exited \(status): \(out)") }
    }

    /// The loom board's picks total, several in quick succession (no device time).
    func loomPicks(_ values: [String]) throws {
        try publish("atbm-loom-1/status", ["online"])
        try publish("atbm-loom-1/sensor/picks/state", values, qos: 0)
    }

    /// Waits until the daemon has handled as many messages as given (accepted, rejected,
    /// ignored, status), then checks each count is exactly that. `since`: counts of a run of
    /// the daemon started after that time.
    @discardableResult
    func settled(
        accepted: UInt64, rejected: [String: UInt64] = [:], ignored: UInt64 = 0, status: UInt64 = 0, since: Int64? = nil
    ) async throws -> ReadingCounts {
        let want = accepted + rejected.values.reduce(0, +) + ignored + status
        var last: ReadingCounts?
        try await eventually("\(want) messages handled", timeout: 60) {
            guard let s = try daemon.stats(), s.sinceMs >= since ?? 0 else { return false }
            last = s.counts
            let c = s.counts
            return c.accepted + c.rejectedTotal + c.ignored + c.statusMessages >= want
        }
        guard let c = last else { throw TestFailure("no counts") }
        let reasons = c.rejected.filter { $0.value > 0 }
        #expect(c.accepted == accepted, "accepted: \(c)")
        #expect(reasons == rejected, "rejected: \(reasons)")
        #expect(c.ignored == ignored, "ignored: \(c)")
        #expect(c.statusMessages == status, "status messages: \(c)")
        return c
    }

    /// `sentractl report --format json` over the local days from `from` through now.
    func report(from: Int64) throws -> ReportDocument {
        let args = ["report", "--from", Jakarta.date(from), "--to", Jakarta.date(nowMillis() + 60_000), "--format", "json"]
        let (status, out) = try daemon.ctl(args)
        guard status == 0 else { throw TestFailure("sentractl report exited \(status): \(out)") }
        return try WireJSON.decode(ReportDocument.self, from: out)
    }

    func stop() async throws {
        try await daemon.terminate()
    }
}

/// The one craftsman's row, each number as worked out by hand.
@discardableResult
func expectCraftsman(
    _ r: ReportDocument, pieces: Double, picks: Double, kwh: Double, water: Double, sourceLocation: SourceLocation = #_sourceLocation
) throws -> ReportDocument.CraftsmanRow {
    let row = try #require(r.craftsmen.first { $0.craftsman == "c-a" }, sourceLocation: sourceLocation)
    #expect(row.pieces == pieces, "pieces", sourceLocation: sourceLocation)
    #expect(row.picks == picks, "picks", sourceLocation: sourceLocation)
    #expect(abs(row.kwh - kwh) < 1e-6, "kwh \(row.kwh), by hand \(kwh)", sourceLocation: sourceLocation)
    #expect(abs(row.waterL - water) < 1e-6, "water_l \(row.waterL), by hand \(water)", sourceLocation: sourceLocation)
    return row
}

/// The workshop's unattributed energy and water (no row: nothing).
func expectUnattributed(_ r: ReportDocument, kwh: Double, water: Double, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let row = r.unattributed.first { $0.workshop == "ws-1" }
    #expect(abs((row?.kwh ?? 0) - kwh) < 1e-6, "unattributed kwh \(row?.kwh ?? 0), by hand \(kwh)", sourceLocation: sourceLocation)
    #expect(
        abs((row?.waterL ?? 0) - water) < 1e-6, "unattributed water_l \(row?.waterL ?? 0), by hand \(water)",
        sourceLocation: sourceLocation)
}

/// Local time in the sentra's zone, as Tasmota writes it (no offset) and as reports name days.
enum Jakarta {
    static func format(_ ms: Int64, _ pattern: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Jakarta")
        f.dateFormat = pattern
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
    static func time(_ ms: Int64) -> String { format(ms, "yyyy-MM-dd'T'HH:mm:ss") }
    static func date(_ ms: Int64) -> String { format(ms, "yyyy-MM-dd") }
}

// MARK: - Fixtures: the devices' own payloads

/// Tasmota `tele/<topic>/SENSOR` every TelePeriod, `tele/<topic>/LWT` `Online`/`Offline`
/// (its Last Will). `Time` is the device's local time with no offset.
/// https://tasmota.github.io/docs/MQTT/ (topics, LWT)
/// https://tasmota.github.io/docs/Power-Monitoring/ (the ENERGY object: Total kWh, Power W, Voltage V, Current A)
/// https://tasmota.github.io/docs/Commands/#setoption52 (Time with an offset only when SetOption52 is on)
enum Tasmota {
    static func energy(at ms: Int64, total: String) -> String {
        #"{"Time":"\#(Jakarta.time(ms))","ENERGY":{"TotalStartTime":"2025-03-01T09:12:44","Total":\#(total),"Yesterday":0.412,"Today":0.087,"Period":3,"Power":118,"ApparentPower":127,"ReactivePower":47,"Factor":0.93,"Voltage":221,"Current":0.575}}"#
    }
    /// A pulse counter (`CounterType 0`); https://tasmota.github.io/docs/Commands/#sensors (Counter<x>).
    static func counter(at ms: Int64, c1: String) -> String {
        #"{"Time":"\#(Jakarta.time(ms))","COUNTER":{"C1":\#(c1)}}"#
    }
    /// A plug with a DS18B20 probe and no energy in this message: nothing mapped.
    static func temperature(at ms: Int64) -> String {
        #"{"Time":"\#(Jakarta.time(ms))","DS18B20":{"Id":"01144B3A22AA","Temperature":24.5},"TempUnit":"C"}"#
    }
    static func cutShort(at ms: Int64) -> String {
        #"{"Time":"\#(Jakarta.time(ms))","ENERGY":{"TotalStartTime":"2025-03-01T09:12:44","Total":1.2"#
    }
}

/// Shelly gen2 (Plus/Pro): `<prefix>/events/rpc` carries `NotifyStatus` (only what changed,
/// `params.ts` in seconds) and `NotifyEvent`; `<prefix>/status/switch:0` the whole switch
/// status (no time); `<prefix>/online` `true`/`false`. `aenergy.total` is Wh since the last reboot.
/// https://shelly-api-docs.shelly.cloud/gen2/General/Notifications
/// https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt
/// https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch (status: apower, voltage, current, aenergy)
enum ShellyGen2 {
    static func notify(_ prefix: String, ts: Double, _ params: String) -> String {
        #"{"src":"\#(prefix)","dst":"\#(prefix)/events","method":"NotifyStatus","params":{"ts":\#(ts),\#(params)}}"#
    }
    static func notifyFull(_ p: String, ts: Double, apower: Double, totalWh: String) -> String {
        notify(
            p, ts: ts,
            #""switch:0":{"id":0,"source":"init","output":true,"apower":\#(apower),"voltage":229.8,"current":0.46,"freq":50.0,"aenergy":{"total":\#(totalWh),"by_minute":[1670.000,1672.500,1668.900],"minute_ts":\#(Int(ts))},"temperature":{"tC":41.2,"tF":106.2}}"#
        )
    }
    static func notifyPower(_ p: String, ts: Double, apower: Double) -> String {
        notify(p, ts: ts, #""switch:0":{"id":0,"apower":\#(apower)}"#)
    }
    static func notifyEnergy(_ p: String, ts: Double, totalWh: String) -> String {
        notify(
            p, ts: ts,
            #""switch:0":{"id":0,"aenergy":{"by_minute":[1702.300,1698.100,1700.000],"minute_ts":\#(Int(ts)),"total":\#(totalWh)}}"#)
    }
    /// Nothing mapped: the Wi-Fi signal changed.
    static func notifyWifi(_ p: String, ts: Double) -> String {
        notify(p, ts: ts, #""wifi":{"sta_ip":"192.168.33.21","status":"got ip","ssid":"bengkel","rssi":-63}"#)
    }
    /// A button on the switch's input: an event, not a status.
    static func notifyEvent(_ p: String, ts: Double) -> String {
        #"{"src":"\#(p)","dst":"\#(p)/events","method":"NotifyEvent","params":{"ts":\#(ts),"events":[{"component":"input:0","id":0,"event":"single_push","ts":\#(ts)}]}}"#
    }
    static func cutShort(_ p: String, ts: Double) -> String {
        #"{"src":"\#(p)","dst":"\#(p)/events","method":"NotifyStatus","params":{"ts":\#(ts),"switch:0":{"id":0,"apower":"#
    }
    /// A word where the power belongs.
    static func wordForPower(_ p: String, ts: Double) -> String { notify(p, ts: ts, #""switch:0":{"id":0,"apower":"n/a"}"#) }
    static func switchStatus(totalWh: String) -> String {
        #"{"id":0,"source":"timer","output":true,"apower":96.4,"voltage":230.1,"current":0.44,"freq":50.0,"aenergy":{"total":\#(totalWh),"by_minute":[1606.700,1610.300,1604.900],"minute_ts":1733300000},"temperature":{"tC":42.0,"tF":107.6}}"#
    }
}

// Shelly gen1 MQTT: `shellies/<id>/relay/0/power` (W) and `…/relay/0/energy` (watt-minutes,
// since reboot), `shellies/<id>/relay/0` `on`/`off`, `…/temperature`, `…/overtemperature`,
// `shellies/<id>/online` `true`/`false`: one plain value a message.
// https://shelly-api-docs.shelly.cloud/gen1/#shelly-plug-plugs-mqtt
// https://shelly-api-docs.shelly.cloud/gen1/#mqtt-support (online, the Last Will)

// ESPHome MQTT: `<node>/sensor/<object id>/state` one number as text (`nan` without a
// value), `<node>/binary_sensor/<object id>/state` `ON`/`OFF`, `<node>/status` the birth
// (`online`) and will (`offline`) messages. A pulse_meter's total counts pulses since boot.
// https://esphome.io/components/mqtt.html (topics, birth and will messages)
// https://esphome.io/components/sensor/pulse_meter.html (total pulses; pulses a minute)
// https://esphome.io/components/binary_sensor/ (ON/OFF state)

/// Zigbee2MQTT: `zigbee2mqtt/<friendly name>` one JSON object with the device's exposes (a
/// metering plug: `energy` kWh, `power` W, `voltage` V, `current` A, `state`, `linkquality`),
/// no time; `zigbee2mqtt/<friendly name>/availability` `{"state":"online"}`/`{"state":"offline"}`.
/// https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html
/// https://www.zigbee2mqtt.io/guide/configuration/device-availability.html
/// https://www.zigbee2mqtt.io/devices/TS011F_plug_1.html (the plug's exposes)
enum Zigbee2MQTT {
    static let mapping = """
        mappings:
          z2m-plug:
            status: { topic: "zigbee2mqtt/{device}/availability", online: ['{"state":"online"}'], offline: ['{"state":"offline"}'] }
            messages:
              - topic: "zigbee2mqtt/{device}"
                values:
                  kwh: energy
                  w: power
                  v: voltage
                  a: current

        """
    static let online = #"{"state":"online"}"#
    static let offline = #"{"state":"offline"}"#
    static func plug(energy: String) -> String {
        #"{"child_lock":"UNLOCK","current":0.42,"energy":\#(energy),"indicator_mode":"off/on","linkquality":142,"power":96,"power_outage_memory":"restore","state":"ON","voltage":229}"#
    }
    /// Only the link quality and the relay: nothing mapped.
    static let linkOnly = #"{"linkquality":87,"state":"ON"}"#
    static let cutShort = #"{"child_lock":"UNLOCK","current":0.42,"energy":2.1"#
}
