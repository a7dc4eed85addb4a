import Foundation
import SentraFuzzTargets

// Two builds of one program (docs/fuzzing.md):
// - plain: `sentra-fuzz TARGET FILE|DIR...` replays inputs through a target (to reproduce a
//   crasher without the sanitizer; the test suite does the same in-process);
// - fuzz (`scripts/fuzz`: `--sanitize=fuzzer -Xswiftc -DSENTRA_LIBFUZZER`): libFuzzer's own
//   main drives `LLVMFuzzerTestOneInput`, the target named by SENTRA_FUZZ_TARGET.

#if SENTRA_LIBFUZZER
    let selectedTarget: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["SENTRA_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("sentra-fuzz: set SENTRA_FUZZ_TARGET to one of: \(names)\n".utf8))
            exit(2)
        }
        return target
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
#else
    @main
    struct SentraFuzz {
        static func main() {
            let args = Array(CommandLine.arguments.dropFirst())
            guard let name = args.first, let target = FuzzTarget(rawValue: name), args.count > 1 else {
                let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
                fail("usage: sentra-fuzz \(names) FILE|DIR...  (replays inputs; scripts/fuzz runs the fuzzer)", code: 2)
            }
            var count = 0
            for path in args.dropFirst() {
                for file in files(at: path) {
                    guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)", code: 1) }
                    target.run([UInt8](data))
                    count += 1
                }
            }
            print("sentra-fuzz \(name): \(count) inputs, no crash")
        }

        /// `path` itself, or the files in it when it is a directory (sorted, hidden ones left out).
        static func files(at path: String) -> [String] {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { fail("no such file: \(path)", code: 1) }
            guard isDir.boolValue else { return [path] }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
        }

        static func fail(_ message: String, code: Int32) -> Never {
            FileHandle.standardError.write(Data("sentra-fuzz: \(message)\n".utf8))
            exit(code)
        }
    }
#endif
