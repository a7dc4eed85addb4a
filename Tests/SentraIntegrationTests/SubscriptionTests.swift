import Foundation
import SentraWire
import Testing

/// The daemon's session follows its configuration's device profiles: a profile added while it
/// was stopped (the broker kept the old session) or by a reload is subscribed to, on the same
/// persistent session.
@Suite(.serialized) struct SubscriptionTests {
    static func config(_ devices: String) -> String {
        """
        sentra: { name: t, timezone: Asia/Jakarta }
        workshops: [ { id: ws-4 } ]
        craftsmen: [ { id: c-dewi, workshop: ws-4 } ]
        looms: [ { id: loom-41, workshop: ws-4, craftsman: c-dewi } ]
        devices:
          - { id: pm-1, workshop: ws-4, kind: power }
        \(devices)
        """
    }
    static let tasmota = "  - { id: pm-4, workshop: ws-4, kind: power, profile: tasmota, topic: tasmota-pm4 }"
    static let esphome = "  - { id: loom-41, workshop: ws-4, kind: loom, loom: loom-41, profile: esphome }"

    /// Tasmota's `Time`: the sentra's local time, no offset.
    static func localNow() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Jakarta")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.string(from: Date())
    }

    func subscribedLines(_ d: Daemon) -> Int { d.child?.output.components(separatedBy: "subscribed to the device topics").count ?? 1 }

    @Test func aProfileAddedAtRestartOrByReloadIsSubscribed() async throws {
        let broker = try await Broker()
        let dir = Paths.tempDir("subscriptions")
        let path = dir.appendingPathComponent("sentra.yaml")
        try Self.config("").write(to: path, atomically: true, encoding: .utf8)
        let daemon = Daemon(broker: broker, config: path.path, dir: dir)
        try await daemon.start()
        try await eventually("the first subscription") { subscribedLines(daemon) > 1 }
        try await daemon.terminate()

        // The broker keeps the session (and its two filters); the new start adds Tasmota's.
        try Self.config(Self.tasmota).write(to: path, atomically: true, encoding: .utf8)
        try await daemon.start()
        try await eventually("the subscription at the second start") { subscribedLines(daemon) > 1 }
        try broker.publish("tele/tasmota-pm4/SENSOR", [#"{"Time":"\#(Self.localNow())","ENERGY":{"Total":1.5,"Voltage":220}}"#], qos: 0)
        try await eventually("the Tasmota reading to be counted") { try daemon.accepted() == 1 }

        // A reload adds ESPHome's filters to the running session.
        try Self.config(Self.tasmota + "\n" + Self.esphome).write(to: path, atomically: true, encoding: .utf8)
        let before = subscribedLines(daemon)
        daemon.child?.signal(SIGHUP)
        try await eventually("the reload's subscriptions") { subscribedLines(daemon) > before }
        try broker.publish("loom-41/sensor/picks/state", ["120"], qos: 0)
        try await eventually("the ESPHome reading to be counted") { try daemon.accepted() == 2 }
        #expect(try daemon.rejected("unknown_device") == 0)
        try await daemon.terminate()
        try await broker.stop()
    }
}
