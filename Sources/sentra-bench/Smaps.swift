import Foundation

/// A process's resident memory by what holds it, from `/proc/PID/smaps`: each file mapping
/// grouped by its library (the binary, the Swift runtime, Foundation, ICU, SQLite, …), and
/// anonymous memory (heap, thread stacks, the allocator's arenas) apart.
struct Smaps {
    /// Resident kB per group, and anonymous kB per group.
    private(set) var rss: [String: Int] = [:]
    private(set) var anonymous: [String: Int] = [:]
    private(set) var total = 0
    /// Resident kB of file mappings (code, read-only data) that is not anonymous.
    var fileBacked: Int {
        rss.filter { !$0.key.hasPrefix("anonymous") && !$0.key.hasPrefix("receive journal") }.reduce(0) {
            $0 + $1.value - (anonymous[$1.key] ?? 0)
        }
    }

    init(pid: pid_t) {
        // Read to the end: /proc files report a size of 0.
        guard let data = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps")?.readDataToEndOfFile() else { return }
        let text = String(decoding: data, as: UTF8.self)
        var group = "?"
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            // A mapping's header: "start-end perms offset dev inode [path]".
            if let range = fields.first, range.contains("-"), range.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                group = Self.group(fields.count > 5 ? String(fields[5]).trimmingCharacters(in: .whitespaces) : "")
            } else if line.hasPrefix("Rss:") {
                let kb = Self.kilobytes(line)
                rss[group, default: 0] += kb
                total += kb
            } else if line.hasPrefix("Anonymous:") {
                anonymous[group, default: 0] += Self.kilobytes(line)
            }
        }
    }

    private static func kilobytes(_ line: Substring) -> Int {
        Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }

    /// The group a mapping's path belongs to.
    static func group(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        switch true {
        case path.isEmpty: return "anonymous (heap arenas, stacks)"
        case path == "[heap]": return "anonymous (heap arenas, stacks)"
        case path.hasPrefix("[stack"): return "anonymous (heap arenas, stacks)"
        case path.hasPrefix("["): return "kernel ([vdso], [vvar])"
        case name.hasPrefix("libswiftCore") || name.hasPrefix("libswift_") || name.hasPrefix("libswiftDispatch")
            || name.hasPrefix("libdispatch") || name.hasPrefix("libBlocksRuntime") || name.hasPrefix("libswiftSynchronization")
            || name.hasPrefix("libswiftGlibc"):
            return "Swift runtime (libswiftCore, Dispatch, …)"
        case name.hasPrefix("lib_FoundationICU") || name.hasPrefix("libicu") || name.hasPrefix("libFoundationInternationalization"):
            return "ICU (lib_FoundationICU, FoundationInternationalization)"
        case name.hasPrefix("libFoundation"): return "Foundation (" + name + ")"
        case name.hasPrefix("libsqlite3"): return "SQLite (library)"
        case name.hasPrefix("libstdc++") || name.hasPrefix("libgcc_s"): return "libstdc++, libgcc_s"
        case name.hasPrefix("libcrypto") || name.hasPrefix("libssl"): return "OpenSSL (via libmosquitto)"
        case name.hasPrefix("libc.so") || name.hasPrefix("libm.so") || name.hasPrefix("ld-linux"): return "glibc"
        case name.hasPrefix("lib") && name.contains(".so"): return "other shared libraries"
        case path.hasPrefix("/dev/shm") || path.hasPrefix("/run") || name.hasSuffix(".journal"): return "receive journal (tmpfs ring)"
        case name.hasSuffix(".sqlite") || name.hasSuffix("-shm") || name.hasSuffix("-wal"): return "SQLite (database mappings)"
        default: return "the binary (" + name + ")"
        }
    }

    func report() -> String {
        var lines = ["  /proc/PID/smaps, resident by mapping (\(total / 1024) MiB total):"]
        for (g, kb) in rss.sorted(by: { $0.value > $1.value }) where kb > 0 {
            let anon = anonymous[g] ?? 0
            lines.append(
                String(format: "    %7.1f MiB  ", Double(kb) / 1024) + g
                    + (anon > 0 && !g.hasPrefix("anonymous")
                        ? String(format: " (%.1f MiB anonymous: relocations, data)", Double(anon) / 1024) : ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// `process_madvise(MADV_PAGEOUT)` over every file mapping of a process (its code and
/// read-only data): the pages leave its resident set and come back only when touched again,
/// so what is resident a while later is the working set, not what start-up once touched.
/// Returns the bytes advised. A measurement, never done by the daemon to itself.
enum WorkingSet {
    /// glibc's syscall(2), which Swift cannot import (it is variadic); with integer arguments
    /// only, the fixed signature passes them as the variadic call would on x86-64 and arm64.
    /// 434 and 440 are the same on both.
    @_silgen_name("syscall") private static func syscall5(_ n: Int, _ a: Int, _ b: Int, _ c: Int, _ d: Int, _ e: Int) -> Int

    static func pageOutFileMappings(pid: pid_t) -> Int {
        let pidfd = syscall5(434 /* pidfd_open */, Int(pid), 0, 0, 0, 0)
        guard pidfd >= 0, let maps = try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8) else { return 0 }
        defer { close(Int32(pidfd)) }
        var advised = 0
        for line in maps.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 5, f[5].hasPrefix("/"), !f[5].hasPrefix("/dev/shm") else { continue }
            let range = f[0].split(separator: "-").compactMap { UInt(String($0), radix: 16) }
            guard range.count == 2 else { continue }
            var iov = iovec(iov_base: UnsafeMutableRawPointer(bitPattern: range[0]), iov_len: Int(range[1] - range[0]))
            let n = withUnsafePointer(to: &iov) {
                syscall5(440 /* process_madvise */, pidfd, Int(bitPattern: $0), 1, 21 /* MADV_PAGEOUT */, 0)
            }
            if n > 0 { advised += n }
        }
        return advised
    }
}
