import Foundation
import SentraAlertLog
import SentraCore
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraPlugins

/// The host's own alerts about a plugin are summarised in the sentra's language (the alert log's).
@Suite struct PluginAlertLanguageTests {
    @Test func aFailingPluginIsReportedInIndonesianOnAnIndonesianSentra() async throws {
        let f = try PluginFixture(name: "failing-id", timeoutMillis: 500)
        f.log.language = .id
        try await withHost(try f.host()) {
            try f.log.append(sampleEvent(0))
            try await eventually("first event") { f.delivered == [1] }
            try f.setMode("crash")
            for i in 1...3 { try f.log.append(sampleEvent(i)) }
            try await eventually("plugin_failing firing") { f.logEvents.contains { $0.rule == "plugin_failing" } }
            try f.setMode("ok")
            try await eventually("plugin_failing resolved") {
                f.logEvents.contains { $0.rule == "plugin_failing" && $0.status == .resolved }
            }
        }
        let own = f.logEvents.filter { $0.rule == "plugin_failing" }
        #expect(own.map(\.status) == [.firing, .resolved])
        let failures = Int(own.first?.value ?? 0)
        #expect(failures >= 1)
        #expect(own.first?.summary.hasPrefix("Plugin scripted terus gagal (\(failures) kali berturut-turut): ") == true, "\(own)")
        #expect(own.last?.summary == "Teratasi: plugin scripted berjalan lagi")
    }

    @Test func anEnglishSentraKeepsTheEnglishWords() async throws {
        let f = try PluginFixture(name: "failing-en", timeoutMillis: 500)
        #expect(f.log.language == .en)
        try await withHost(try f.host()) {
            try f.setMode("crash")
            for i in 0...3 { try f.log.append(sampleEvent(i)) }
            try await eventually("plugin_failing firing") { f.logEvents.contains { $0.rule == "plugin_failing" } }
            try f.setMode("ok")
            try await eventually("plugin_failing resolved") {
                f.logEvents.contains { $0.rule == "plugin_failing" && $0.status == .resolved }
            }
        }
        let own = f.logEvents.filter { $0.rule == "plugin_failing" }
        #expect(own.first?.summary.hasPrefix("Plugin scripted keeps failing (") == true, "\(own)")
        #expect(own.last?.summary == "Resolved: plugin scripted works again")
    }
}
