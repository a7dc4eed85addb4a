import Foundation
import SentraConfig
import Testing

@testable import SentraSim

/// Off-the-shelf devices as the simulator publishes them: each format read back with
/// Foundation's JSON parser and plain text (never the daemon's decoder), its units checked
/// against the ground truth; and the built binary's rule that devices without a time are
/// replayed over MQTT in real time only.
@Suite struct DeviceFormatTests {
    /// The devices example's sentra, plus a Shelly gen1 plug on a craftsman's own circuit.
    static let yaml = """
        sentra: { name: Bengkel Empat, timezone: Asia/Jakarta }
        broker: { host: 127.0.0.1, port: 1883 }
        ingest: { staleness: 5m, voltage_low: 198, voltage_high: 242 }
        shifts:
          weaving: { days: [mon, tue, wed, thu, fri, sat], hours: ["07:00-16:00"], breaks: ["12:00-13:00"] }
          dyeing: { days: [mon, tue, wed, thu, fri, sat], hours: ["08:00-11:00", "13:00-15:00"] }
        workshops:
          - { id: ws-tenun-04, name: Bengkel Tenun Empat, shift: weaving, dyeing: dyeing }
        craftsmen:
          - { id: c-dewi, name: Bu Dewi, workshop: ws-tenun-04 }
          - { id: c-hadi, name: Pak Hadi, workshop: ws-tenun-04 }
        looms:
          - { id: loom-41, workshop: ws-tenun-04, craftsman: c-dewi }
          - { id: loom-43, workshop: ws-tenun-04, craftsman: c-hadi }
        devices:
          - { id: pm-4, workshop: ws-tenun-04, kind: power, profile: tasmota, topic: tasmota-pm4 }
          - { id: wm-4, workshop: ws-tenun-04, kind: water, profile: tasmota, topic: tasmota-wm4, counters: { C1: { field: l, pulses_per_unit: 450 } } }
          - { id: pm-4b, workshop: ws-tenun-04, kind: power, profile: shelly-gen2, topic: shellyplus1pm-ws4, component: "switch:0" }
          - { id: pm-4c, workshop: ws-tenun-04, kind: power, craftsman: c-hadi, profile: shelly-gen1, topic: shellyplug-s-7a1b2c, channel: 0 }
          - { id: loom-41, workshop: ws-tenun-04, kind: loom, loom: loom-41, profile: esphome, topic: loom-41, sensors: { picks: picks, pieces: pieces }, binary_sensor: running }
          - { id: loom-43, workshop: ws-tenun-04, kind: loom, loom: loom-43, profile: esphome, topic: loom-43, sensors: { picks: picks, pieces: pieces }, binary_sensor: running }
        """

    static func config() throws -> Configuration { try Configuration.parse(yaml: yaml, file: "devices.yaml") }

    static func json(_ m: CollectingSink.Message) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any], "\(m.topic) carries a JSON object")
    }
    static func text(_ m: CollectingSink.Message) -> String { String(decoding: m.payload, as: UTF8.self) }

    /// Foundation's idea of the sentra's local time, whole seconds, no offset.
    static func localText(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Jakarta")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    @Test func tasmotaPrintsTotalsInKwhAndPulsesWithItsLocalTime() throws {
        let cfg = try Self.config()
        let run = try simulate(cfg, from: "2026-11-24T09:00", to: "2026-11-24T10:00")
        let energy = run.messages.filter { $0.topic == "tele/tasmota-pm4/SENSOR" }
        let water = run.messages.filter { $0.topic == "tele/tasmota-wm4/SENSOR" }
        #expect(energy.count == 360 && water.count == 360, "one telemetry message per device per 10 s")
        var totals: [Double] = []
        for m in energy {
            let o = try Self.json(m)
            #expect(o["Time"] as? String == Self.localText(m.eventTime), "Time is local, whole seconds, no offset")
            #expect(m.eventTime % 1000 == 0)
            let e = try #require(o["ENERGY"] as? [String: Any])
            let total = try #require(e["Total"] as? Double)
            let volts = try #require(e["Voltage"] as? Int, "Voltage in whole volts")
            #expect((200...240).contains(volts))
            #expect(e["Power"] is Int && e["Current"] is Double && e["TotalStartTime"] is String)
            totals.append(total)
            // Three decimals of kWh, as Tasmota prints it.
            #expect(Self.text(m).range(of: #""Total":[0-9]+\.[0-9]{3},"#, options: .regularExpression) != nil)
        }
        var pulses: [Int] = []
        for m in water {
            let o = try Self.json(m)
            #expect(o["ENERGY"] == nil)
            pulses.append(try #require((o["COUNTER"] as? [String: Any])?["C1"] as? Int))
        }
        #expect(zip(totals, totals.dropFirst()).allSatisfy { $0 <= $1 } && zip(pulses, pulses.dropFirst()).allSatisfy { $0 <= $1 })
        // The water meter's pulses ÷ 450 are the workshop's litres in the truth; its energy is
        // Tasmota's Total plus the Shelly gen2's aenergy (Wh), the plug being a craftsman's.
        let shelly = try Self.energy(run.messages, topic: "shellyplus1pm-ws4/events/rpc")
        let ws = try #require(run.truth.total.workshops.first)
        let litres = Double(try #require(pulses.last) - pulses[0]) / 450
        #expect(litres > 50 && abs(ws.waterL - litres) < 1e-9, "water \(ws.waterL) vs \(litres)")
        let gen1 = run.messages.filter { $0.topic == "shellies/shellyplug-s-7a1b2c/relay/0/energy" }.compactMap { Int(Self.text($0)) }
        let kwh =
            (try #require(totals.last) - totals[0]) + shelly
            + Double(try #require(gen1.last) - gen1[0]) / 60_000
        #expect(kwh > 0.5 && abs(ws.kwh - kwh) < 1e-9, "energy \(ws.kwh) vs \(kwh)")
        #expect(run.messages.first { $0.topic == "tele/tasmota-pm4/LWT" }.map(Self.text) == "Online")
    }

    @Test func shellyAndEsphomeSendWhatChangedOneValueAMessage() throws {
        let cfg = try Self.config()
        let run = try simulate(cfg, from: "2026-11-24T09:00", to: "2026-11-24T10:00")
        var methods: [String: Int] = [:]
        for m in run.messages where m.topic == "shellyplus1pm-ws4/events/rpc" {
            let o = try Self.json(m)
            let method = try #require(o["method"] as? String)
            methods[method, default: 0] += 1
            let params = try #require(o["params"] as? [String: Any])
            let ts = try #require(params["ts"] as? Double, "params.ts in seconds")
            #expect(abs(ts * 1000 - Double(m.eventTime)) < 1)
            guard method == "NotifyStatus" else { continue }
            let sw = try #require(params["switch:0"] as? [String: Any])
            // Partial: power or energy, never both.
            #expect((sw["apower"] != nil) != (sw["aenergy"] != nil), "\(Self.text(m))")
        }
        #expect(methods["NotifyStatus", default: 0] > 300 && methods["NotifyEvent", default: 0] >= 1)
        let status = run.messages.filter { $0.topic == "shellyplus1pm-ws4/status/switch:0" }
        #expect(status.count == 6, "full status every ten minutes")
        for m in status {
            let o = try Self.json(m)
            #expect(o["ts"] == nil && o["apower"] is Double && (o["aenergy"] as? [String: Any])?["total"] is Double)
        }
        #expect(run.messages.first { $0.topic == "shellyplus1pm-ws4/online" }.map(Self.text) == "true")

        let picks = run.messages.filter { $0.topic == "loom-41/sensor/picks/state" }
        #expect(picks.count == 360 && picks.allSatisfy { Int(Self.text($0)) != nil }, "one whole number a message")
        let states = run.messages.filter { $0.topic == "loom-41/binary_sensor/running/state" }.map(Self.text)
        #expect(states.count >= 2 && states.allSatisfy { $0 == "ON" || $0 == "OFF" })
        #expect(zip(states, states.dropFirst()).allSatisfy { $0 != $1 }, "the binary sensor publishes changes")
        #expect(run.messages.first { $0.topic == "loom-41/status" }.map(Self.text) == "online")
        let power = run.messages.filter { $0.topic == "shellies/shellyplug-s-7a1b2c/relay/0/power" }
        #expect(power.count == 360 && power.allSatisfy { Double(Self.text($0)) != nil })
    }

    @Test func aPowerCutBringsBackTheTotalLastSaved() throws {
        let cfg = try Self.config()
        let run = try simulate(cfg, from: "2026-11-24T08:00", to: "2026-11-24T11:00", faults: ["powercut@10:40:pm-4"])
        var totals: [(ms: Int64, total: Int)] = []
        var lwt: [String] = []
        for m in run.messages {
            if m.topic == "tele/tasmota-pm4/LWT" { lwt.append(Self.text(m)) }
            guard m.topic == "tele/tasmota-pm4/SENSOR" else { continue }
            let e = try #require(try Self.json(m)["ENERGY"] as? [String: Any])
            totals.append((m.eventTime, Int((try #require(e["Total"] as? Double) * 1000).rounded())))
        }
        #expect(lwt == ["Online", "Offline", "Online"])
        let drop = try #require(totals.indices.dropFirst().first { totals[$0].total < totals[$0 - 1].total }, "the total steps back")
        // Back at a value it published within the hour before the cut (its last save).
        let cut = totals[drop - 1].ms
        let restored = totals[drop].total
        #expect(totals[..<drop].contains { $0.total == restored && cut - $0.ms <= 3_600_000 })
        // Counted: every increase, and after the cut only what came after the restored value.
        var wh = 0
        for (a, b) in zip(totals, totals.dropFirst()) where b.total > a.total { wh += b.total - a.total }
        let ws = try #require(run.truth.total.workshops.first)
        let plug = try #require(run.truth.total.craftsmen.first { $0.craftsman == "c-hadi" })
        let shelly = try Self.energy(run.messages, topic: "shellyplus1pm-ws4/events/rpc")
        let gen1 = run.messages.filter { $0.topic == "shellies/shellyplug-s-7a1b2c/relay/0/energy" }.compactMap { Int(Self.text($0)) }
        let plugKwh = Double(try #require(gen1.last) - gen1[0]) / 60_000
        // Every kWh is some craftsman's or the workshop's unattributed share.
        let shared = run.truth.total.craftsmen.reduce(0) { $0 + $1.kwh } + run.truth.total.unattributed.reduce(0) { $0 + $1.kwh }
        #expect(abs(shared - ws.kwh) < 1e-9 && plug.kwh >= plugKwh)
        #expect(abs(ws.kwh - (Double(wh) / 1000 + shelly + plugKwh)) < 1e-9, "\(ws.kwh) vs \(Double(wh) / 1000) + \(shelly) + \(plugKwh)")
    }

    /// The Shelly gen2's energy in the window, kWh: its last aenergy less its first.
    static func energy(_ messages: [CollectingSink.Message], topic: String) throws -> Double {
        let totals = try messages.filter { $0.topic == topic }.compactMap { m -> Double? in
            let params = try #require(try json(m)["params"] as? [String: Any])
            return ((params["switch:0"] as? [String: Any])?["aenergy"] as? [String: Any])?["total"] as? Double
        }
        return (try #require(totals.last) - totals[0]) / 1000
    }

    @Test func devicesWithoutATimeAreNotReplayedFasterThanRealTimeOverMQTT() throws {
        #expect(FileManager.default.isExecutableFile(atPath: BrokerTests.simulator), "build sentra-sim first: \(BrokerTests.simulator)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        try Self.yaml.write(toFile: path("devices.yaml"), atomically: true, encoding: .utf8)
        let broker = try Broker(directory: dir)
        defer { broker.stop() }
        let window = [
            "--config", path("devices.yaml"), "--broker", "127.0.0.1:\(broker.port)", "--speed", "0", "--from", "2026-11-24T09:00",
            "--to", "2026-11-24T09:10", "--quiet",
        ]
        #expect(try Child(BrokerTests.simulator, window, stderr: path("refused.log")).wait() == 1)
        let refusal = try String(contentsOfFile: path("refused.log"), encoding: .utf8)
        for d in ["pm-4c (shelly-gen1)", "loom-41 (esphome)", "loom-43 (esphome)", "real time"] {
            #expect(refusal.contains(d), "\(refusal)")
        }
        #expect(!refusal.contains("pm-4 ") && !refusal.contains("pm-4b"), "timed devices are not named: \(refusal)")
        // Left out, the rest replays at any speed.
        let rest = window + ["--leave-out", "pm-4c", "--leave-out", "loom-41", "--leave-out", "loom-43"]
        #expect(
            try Child(BrokerTests.simulator, rest, stderr: path("rest.log")).wait() == 0,
            "\((try? String(contentsOfFile: path("rest.log"), encoding: .utf8)) ?? "")")
        #expect(try Child(BrokerTests.simulator, rest + ["--leave-out", "nobody"], stderr: path("bad.log")).wait() == 1)
    }

    @Test func inRealTimeOverMQTTTheyArePublished() throws {
        #expect(FileManager.default.isExecutableFile(atPath: BrokerTests.simulator), "build sentra-sim first: \(BrokerTests.simulator)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        try Self.yaml.write(toFile: path("devices.yaml"), atomically: true, encoding: .utf8)
        let broker = try Broker(directory: dir)
        defer { broker.stop() }
        // A persistent session holds the subscription, so nothing published is missed.
        let sub = ["-h", "127.0.0.1", "-p", "\(broker.port)", "-i", "devices-test", "-c", "-q", "1", "-t", "loom-41/#", "-t", "shellies/#"]
        #expect(try Child("/usr/bin/mosquitto_sub", sub + ["-E"]).wait(timeout: 30) == 0)
        // Four seconds of real time from now, a reading a second.
        let now = Int64(Date().timeIntervalSince1970) + 1
        let args = [
            "--config", path("devices.yaml"), "--broker", "127.0.0.1:\(broker.port)", "--speed", "1", "--interval", "1", "--from",
            Self.localText(now * 1000), "--to", Self.localText((now + 4) * 1000), "--truth", path("truth.json"),
        ]
        #expect(
            try Child(BrokerTests.simulator, args, stderr: path("sim.log")).wait(timeout: 60) == 0,
            "\((try? String(contentsOfFile: path("sim.log"), encoding: .utf8)) ?? "")")
        // loom-41: online, its state once, picks and pieces each second; the plug: online, power
        // and energy each second.
        let collector = try Child("/usr/bin/mosquitto_sub", sub + ["-v", "-C", "19", "-W", "30"], stdout: path("got.txt"))
        #expect(try collector.wait(timeout: 60) == 0)
        let got = try String(contentsOfFile: path("got.txt"), encoding: .utf8).split(separator: "\n")
        #expect(got.contains("loom-41/status online"))
        #expect(got.filter { $0.hasPrefix("loom-41/sensor/picks/state ") }.count == 4)
        #expect(got.filter { $0.hasPrefix("shellies/shellyplug-s-7a1b2c/relay/0/energy ") }.count == 4)
        let truth = try JSONDecoder().decode(TruthReport.self, from: Data(contentsOf: URL(fileURLWithPath: path("truth.json"))))
        #expect(truth.messages > 18)
    }
}
