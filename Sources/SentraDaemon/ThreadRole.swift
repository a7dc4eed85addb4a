#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's own threads carry their names to the kernel (`top -H`, `ps -L`, `perf`),
/// which Foundation's `Thread.name` does not on Linux.
enum ThreadRole {
    /// Names the calling thread (at most 15 bytes are kept).
    static func name(_ name: String) {
        #if canImport(Glibc)
            let fd = open("/proc/thread-self/comm", O_WRONLY)
            guard fd >= 0 else { return }
            let bytes = Array(name.utf8.prefix(15))
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        #endif
    }
}
