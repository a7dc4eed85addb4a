import Foundation
import Testing

@testable import SentraConfig

/// `Configuration.checkForStart()`: what `sentrad` refuses at start and `sentractl check`
/// refuses too.
@Suite struct StartCheckTests {
    /// A directory with `sentra.yaml` = the base plus `extra` (its line 9 onwards).
    func configuration(_ extra: String, files: [String: String] = [:]) throws -> (Configuration, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-start-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let path = dir.appendingPathComponent("sentra.yaml").path
        try (ConfigurationTests.base + extra).write(toFile: path, atomically: true, encoding: .utf8)
        return (try Configuration.load(path: path), dir)
    }

    func startErrors(_ c: Configuration) -> [ConfigurationError] {
        do {
            try c.checkForStart()
            return []
        } catch let e as ConfigurationErrors {
            return e.errors
        } catch {
            return [ConfigurationError(file: "?", line: 0, key: "?", message: "\(error)")]
        }
    }

    static let tokenCases: [(name: String, files: [String: String], words: String)] = [
        ("missing", [:], "no such file"),
        ("empty", ["token": ""], "empty"),
        ("a lone newline", ["token": "\n"], "empty"),
        ("five characters", ["token": "abcde\n"], "at least 16"),
        ("fifteen characters", ["token": "0123456789abcde\n"], "at least 16"),
    ]

    @Test(arguments: 0..<tokenCases.count)
    func aBadTokenFileIsRefusedNamingFileLineAndKey(_ i: Int) throws {
        let t = Self.tokenCases[i]
        let (c, dir) = try configuration("http:\n  port: 8470\n  token_file: token\n", files: t.files)
        let e = startErrors(c)
        #expect(e.count == 1, "\(t.name): \(e)")
        #expect(e.first?.file == dir.appendingPathComponent("sentra.yaml").path, "\(t.name)")
        #expect(e.first?.line == 11, "\(t.name)")
        #expect(e.first?.key == "http.token_file", "\(t.name)")
        #expect(e.first?.message.contains(t.words) == true, "\(t.name): \(e)")
        #expect(e.first?.description.hasPrefix("\(dir.path)/sentra.yaml:11: http.token_file: ") == true)
    }

    @Test func aTokenFileThatIsADirectoryIsRefused() throws {
        let (c, dir) = try configuration("http:\n  token_file: tokens\n")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tokens"), withIntermediateDirectories: true)
        let e = startErrors(c)
        #expect(e.count == 1 && e.first?.line == 10 && e.first?.key == "http.token_file", "\(e)")
        #expect(e.first?.message.contains("not a regular file") == true)
    }

    @Test func aGoodTokenPasses() throws {
        let (c, _) = try configuration("http:\n  token_file: token\n", files: ["token": "0123456789abcdef\n"])
        #expect(startErrors(c).isEmpty)
        #expect(try c.httpToken() == "0123456789abcdef")
        // A listener that is off reads no token, as sentrad does.
        let (off, _) = try configuration("http:\n  enabled: false\n  token_file: token\n")
        #expect(startErrors(off).isEmpty)
    }

    @Test func aListenerMovedBeyondLoopbackNeedsAToken() throws {
        var (c, _) = try configuration("http:\n  port: 8470\n")
        try c.override(broker: nil, stateDirectory: nil, logDirectory: nil, http: "0.0.0.0:8470")
        let e = startErrors(c)
        #expect(e.count == 1 && e.first?.key == "http.token_file" && e.first?.line == 9, "\(e)")
    }

    @Test func brokerSecretsAndCertificatesMustBeReadable() throws {
        let extra =
            "broker:\n  username: u\n  password_file: pw\n  ca_file: /nonexistent/ca.pem\n  cert_file: /nonexistent/c.pem\n  key_file: /dev/null\n"
        let (c, _) = try configuration(extra)
        let e = startErrors(c)
        #expect(e.contains { $0.line == 11 && $0.key == "broker.password_file" }, "\(e)")
        #expect(e.contains { $0.line == 12 && $0.key == "broker.ca_file" }, "\(e)")
        #expect(e.contains { $0.line == 13 && $0.key == "broker.cert_file" }, "\(e)")
        #expect(e.contains { $0.line == 14 && $0.key == "broker.key_file" && $0.message.contains("not a regular file") }, "\(e)")
        #expect(e.count == 4)
        let (ok, _) = try configuration("broker:\n  username: u\n  password_file: pw\n", files: ["pw": "secret\n"])
        #expect(startErrors(ok).isEmpty)
    }

    @Test func aConfigurationFileThatIsNotAFileIsRefused() {
        #expect(throws: ConfigurationErrors.self) { try Configuration.load(path: "/nonexistent/sentra.yaml") }
        #expect(throws: ConfigurationErrors.self) { try Configuration.load(path: "/dev/zero") }
    }
}
