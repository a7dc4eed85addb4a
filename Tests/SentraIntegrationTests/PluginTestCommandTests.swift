import Foundation
import Testing

/// Writes a copy of the example configuration whose `plugins:` is `entries` (YAML list items).
func configWithPlugins(_ entries: [String], in dir: URL) throws -> String {
    let example = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
    guard example.contains("\nplugins: []\n") else { throw TestFailure("config/sentra.example.yaml no longer has 'plugins: []'") }
    let plugins = "\nplugins:\n" + entries.map { "  - \($0)\n" }.joined()
    let path = dir.appendingPathComponent("sentra.yaml").path
    try example.replacingOccurrences(of: "\nplugins: []\n", with: plugins).write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// `sentractl plugins test NAME`: one sample alert through a configured plugin.
// Serialized: a test writes a script and then runs it; a process another test forks meanwhile
// would inherit the script's open descriptor and make its exec fail with "Text file busy".
@Suite(.serialized) struct PluginTestCommandTests {
    @Test func theExamplePluginAcknowledgesTheSampleAlert() throws {
        let dir = Paths.tempDir("plugins-test")
        let out = dir.appendingPathComponent("example-alerts.log").path
        let config = try configWithPlugins([#"{ name: ex, builtin: example, options: { path: "\#(out)" } }"#], in: dir)
        let (status, output) = try run(
            Paths.binary("sentractl"), ["plugins", "test", "ex", "--config", config],
            environment: ["SENTRA_PLUGIN_DIR": Paths.root.appendingPathComponent("plugins").path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("< hello: protocol 1, example 1.0"), "\(output)")
        #expect(output.contains("< ack: seq 0"), "\(output)")
        #expect(output.contains("plugin ex: acknowledged the test alert"), "\(output)")
        let written = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        // The example sentra speaks Indonesian: the sample alert's summary is in it.
        #expect(written.contains("firing sentractl_test Peringatan uji dari sentractl"), "\(written)")
    }

    @Test func aPluginWritingGarbageFails() throws {
        let dir = Paths.tempDir("plugins-test")
        let script = dir.appendingPathComponent("garbage.sh")
        try "#!/bin/sh\nread line\necho 'this is not JSON'\nsleep 5\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let config = try configWithPlugins([#"{ name: junk, command: ["\#(script.path)"], timeout: 2s }"#], in: dir)
        let (status, output) = try run(Paths.binary("sentractl"), ["plugins", "test", "junk", "--config", config])
        #expect(status == 1, "\(output)")
        #expect(output.contains("< garbage: this is not JSON"), "\(output)")
        #expect(output.contains("FAILED"), "\(output)")
    }

    @Test func anUnknownPluginNameIsAUserError() throws {
        let dir = Paths.tempDir("plugins-test")
        let config = try configWithPlugins([#"{ name: ex, builtin: example }"#], in: dir)
        let (status, output) = try run(Paths.binary("sentractl"), ["plugins", "test", "nope", "--config", config])
        #expect(status == 1, "\(output)")
        #expect(output.contains("no plugin named 'nope'"), "\(output)")
    }
}
