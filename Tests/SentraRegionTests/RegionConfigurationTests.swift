import Foundation
import SentraConfig
import SentraWire
import Testing

@Suite struct RegionConfigurationTests {
    @Test func theShippedRegionFileLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let r = try RegionConfiguration.load(path: root.appendingPathComponent("deploy/region/region/region.yaml").path)
        #expect(r.broker.clientID == "sentractl-region")
        #expect(r.broker.username == "coordinator")
        #expect(r.topicPrefix == "sentra-region")
        #expect(r.prometheus == "https://region.example.org:9090")
        #expect(r.prometheusUsername == "coordinator")
        #expect(r.sentras.map(\.id) == ["bandar-kidul", "tanjung-sari"])
    }

    @Test func aSentrasOwnConfigurationMayCarryTheRegion() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var yaml = try String(contentsOf: root.appendingPathComponent("config/sentra.example.yaml"), encoding: .utf8)
        yaml += "\nregion:\n  broker: { host: 10.0.0.5, port: 8883 }\n  prometheus: http://10.0.0.5:9090/\n"
        let c = try Configuration.parse(yaml: yaml, file: "sentra.yaml")
        #expect(c.sentraID == "bandar-kidul")
        #expect(c.region?.broker.host == "10.0.0.5")
        #expect(c.region?.prometheus == "http://10.0.0.5:9090")
        let r = try RegionConfiguration.parse(yaml: yaml, file: "sentra.yaml")
        #expect(r.broker.port == 8883)
    }

    @Test func mistakesAreNamedByFileLineAndKey() {
        let yaml = """
            region:
              broker:
                host: 127.0.0.1
                topic_prefix: sentra
              topic_prefix: a/+/b
              prometheus: ftp://x
              prometheus_username: someone
              sentras:
                - { id: Bandar Kidul }
                - { id: ok-1 }
                - { id: ok-1 }
              colour: red
            """
        #expect {
            try RegionConfiguration.parse(yaml: yaml, file: "region.yaml")
        } throws: { error in
            let keys = Set((error as? ConfigurationErrors)?.errors.map { "\($0.line):\($0.key)" } ?? [])
            return keys == [
                "4:region.broker.topic_prefix", "5:region.topic_prefix", "6:region.prometheus", "7:region.prometheus_username",
                "9:region.sentras[0].id", "11:region.sentras[2].id", "12:region.colour",
            ]
        }
    }

    @Test func aFileWithoutARegionSaysSo() {
        #expect {
            try RegionConfiguration.parse(yaml: "sentra:\n  name: x\n", file: "s.yaml")
        } throws: { error in
            (error as? ConfigurationErrors)?.errors.first?.description == "s.yaml:1: region: missing: the file has no region section"
        }
    }

    @Test func aSentraIdIsAnIdOfTheProtocolsKind() {
        #expect {
            try Configuration.parse(yaml: "sentra:\n  id: Bandar Kidul\n", file: "s.yaml")
        } throws: { error in
            (error as? ConfigurationErrors)?.errors.contains { $0.line == 2 && $0.key == "sentra.id" } ?? false
        }
    }

    @Test func anEventHandedToPluginsCarriesTheSentra() throws {
        let line =
            #"{"seq":3,"ts":"2026-11-24T10:15:30+07:00","id":"x","rule":"r","status":"firing","severity":"info","labels":{},"value":null,"summary":"s \"q\"","started":"2026-11-24T10:15:30+07:00"}"#
            + "\n"
        let plain = PluginMessage.eventLine(seq: 3, alertLogLine: line)
        #expect(plain == "{\"type\":\"event\",\"seq\":3,\"alert\":\(line.dropLast())}")
        let withID = PluginMessage.eventLine(seq: 3, alertLogLine: line, sentra: "bandar-kidul")
        let parsed = try JSONSerialization.jsonObject(with: Data(withID.utf8)) as? [String: Any]
        let alert = parsed?["alert"] as? [String: Any]
        #expect(alert?["sentra"] as? String == "bandar-kidul")
        #expect(alert?["summary"] as? String == "s \"q\"")
        #expect(AlertEvent.parse(line: String(withID.dropFirst(#"{"type":"event","seq":3,"alert":"#.count).dropLast()))?.seq == 3)
    }
}
