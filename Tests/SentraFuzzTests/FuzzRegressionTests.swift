import Foundation
import SentraFuzzTargets
import Testing

/// Every input under Tests/Fuzz (the seeds, the fuzzers' minimized corpus, every crasher they found)
/// through the same entries the fuzzers call, in the plain build: an input that traps again
/// crashes this test (docs/fuzzing.md).
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func files(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let dir = root.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func theSeedsRunWithoutATrap(_ target: FuzzTarget) throws {
        let files = Self.files("seeds", target)
        #expect(!files.isEmpty, "Tests/Fuzz/seeds/\(target.rawValue) is empty")
        for file in files { target.run([UInt8](try Data(contentsOf: file))) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func theCorpusRunsWithoutATrap(_ target: FuzzTarget) throws {
        let files = Self.files("corpus", target)
        // Every minimized corpus has more than this; an empty or lost one must not pass quietly.
        #expect(files.count >= 20, "Tests/Fuzz/corpus/\(target.rawValue) has \(files.count) files")
        for file in files { target.run([UInt8](try Data(contentsOf: file))) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyCrasherRunsWithoutATrap(_ target: FuzzTarget) throws {
        for file in Self.files("crashers", target) { target.run([UInt8](try Data(contentsOf: file))) }
    }

    @Test func everyTargetHasItsDirectories() {
        for target in FuzzTarget.allCases {
            for kind in ["seeds", "corpus", "crashers"] {
                var isDir: ObjCBool = false
                let path = Self.root.appendingPathComponent(kind).appendingPathComponent(target.rawValue).path
                #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue, "\(path) is missing")
            }
        }
    }
}
