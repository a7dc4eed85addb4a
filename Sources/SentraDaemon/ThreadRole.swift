#if canImport(Glibc)
    import Glibc
#endif

/// What a thread of the daemon is, for the kernel: its name (shown by `top -H`, `ps -L`,
/// `perf`) and, for the threads that work through batches, the `SCHED_BATCH` policy.
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

    /// Names the calling thread and marks it a batch worker: when it is woken it does not
    /// preempt the thread running on the core (the ingest thread, the commit thread and the
    /// journal's copy to disk are). The ingest thread is woken by the MQTT network thread
    /// (which receives into the journal); on a small box where the broker holds the other
    /// core, the kernel would otherwise put it on the network thread's core and preempt it,
    /// and a backlog would drain at the speed of the two sharing one core (BENCHMARKS.md).
    /// It still gets its fair share of CPU; it only waits for the next free core or tick.
    static func batchWorker(_ name: String) {
        self.name(name)
        #if canImport(Glibc)
            var param = sched_param()
            param.sched_priority = 0
            _ = sched_setscheduler(0, 3 /* SCHED_BATCH, behind _GNU_SOURCE in the headers */, &param)
        #endif
    }
}
