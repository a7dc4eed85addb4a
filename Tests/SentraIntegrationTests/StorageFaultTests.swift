import Foundation
import SentraProcess
import SentraWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The state's disk and file failing under the built daemon: a full disk (a tiny tmpfs as the
/// state directory), a damaged database, a database lost where history existed.
@Suite(.serialized) struct StorageFaultTests {
    static let loom = "sentra/ws-bandar-01/loom/loom-05"
    static let meter = "sentra/ws-bandar-01/power/pm-1"

    /// `n` readings of loom-05 (craftsman c-anwar) from `first`, 10 s apart, 20 picks each after
    /// the first: the first reading of the device is its baseline.
    static func loomReadings(from first: Int, count n: Int, t0: Int64) -> [String] {
        (first..<(first + n)).map { i in #"{"ts":\#(t0 + Int64(i) * 10_000),"seq":\#(i + 1),"picks":\#(1000 + i * 20)}"# }
    }

    /// The example configuration with a 1 MiB receive journal (its copy on disk must fit the tmpfs).
    static func smallJournalConfig(_ dir: URL) throws -> String {
        let text = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
        #expect(text.contains("  commit_interval: 1s\n"))
        let path = dir.appendingPathComponent("sentra.yaml").path
        try text.replacingOccurrences(of: "  commit_interval: 1s\n", with: "  commit_interval: 1s\n  journal_bytes: 1048576\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A tmpfs of `size` mounted on `dir` (as root); the test fails if it cannot be mounted.
    struct TinyDisk: ~Copyable {
        let dir: String
        init(_ dir: String, size: String) throws {
            self.dir = dir
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let (status, out) = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir], timeout: 30)
            guard status == 0 else { throw TestFailure("cannot mount a tmpfs on \(dir) (this test runs as root): \(out)") }
        }
        /// Fills it with a file until the disk says it is full.
        func fill() -> Int {
            let fd = open(dir + "/filler", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { return 0 }
            defer { close(fd) }
            let chunk = [UInt8](repeating: 0x5A, count: 4096)
            var total = 0
            while true {
                let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { return total }
                total += n
            }
        }
        func makeRoom() { unlink(dir + "/filler") }
        deinit { _ = try? run("/bin/umount", ["-l", dir], timeout: 30) }
    }

    static func metric(_ daemon: Daemon, _ name: String) async throws -> Double? {
        let (status, text) = try await HTTPTests.get(daemon.httpURL + "/metrics")
        guard status == 200 else { return nil }
        // The family's one sample: unlabelled, or labelled only with the sentra.
        let line = text.split(separator: "\n").first {
            $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{sentra=") && !$0.dropFirst(name.count).contains(",")
        }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    static func picks(_ daemon: Daemon) throws -> Int? {
        let (status, out) = try daemon.ctl(["report", "--format", "json"] + wideReportRange())
        guard status == 0, let doc = try? WireJSON.decode(ReportDocument.self, from: out) else { return nil }
        return doc.craftsmen.first { $0.craftsman == "c-anwar" }.map { Int($0.picks) }
    }

    func alertLines(_ daemon: Daemon) -> [String] {
        let text = (try? String(contentsOfFile: daemon.logDir + "/alerts.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// The disk under the state fills while readings come in: the daemon says so at once (a
    /// critical journal entry, `/metrics`, `sentractl status`, the alert log on its other disk)
    /// and keeps evaluating alerts; SIGTERM during the stall ends it (exit 2); once there is room
    /// again, the next start counts everything exactly, and resolves the alert.
    ///
    /// - Parameter fillJournal: publish more than the 1 MiB journal holds during the stall, so the
    ///   MQTT callback waits for space when SIGTERM comes.
    /// - Parameter logOnSameDisk: the alert log on the full disk too: no alert line can be
    ///   written during the stall, and the commits wait for them.
    func stallThenStop(fillJournal: Bool, logOnSameDisk: Bool = false) async throws {
        let broker = try await Broker()
        let root = Paths.tempDir("disk-full")
        let dir = logOnSameDisk ? root.appendingPathComponent("disk") : root
        let disk = try TinyDisk(logOnSameDisk ? dir.path : dir.appendingPathComponent("state").path, size: "3m")
        let daemon = Daemon(broker: broker, config: try Self.smallJournalConfig(root), dir: dir)
        let journal = try DatagramListener(name: "journal")
        let notify = try DatagramListener(name: "notify")
        let env = ["SENTRA_JOURNAL_SOCKET": journal.path, "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"]
        try await daemon.start(environment: env, waitForSubscription: false)
        try await eventually("the subscription") { journal.received { $0.contains("subscribed to the device topics") } }

        let t0 = nowMillis() - 2 * 86_400_000
        try broker.publish(Self.loom, Self.loomReadings(from: 0, count: 10, t0: t0))
        try await eventually("10 readings committed") { try daemon.accepted() == 10 }
        #expect(disk.fill() > 0)

        // The meter first: with the journal full, what comes after it waits at the broker.
        let now = nowMillis()
        try broker.publish(Self.meter, (0..<4).map { #"{"ts":\#(now - 30_000 + Int64($0) * 6000),"v":0}"# })
        // 12,000 readings take about 1.5 MiB of journal.
        let during = fillJournal ? 12_000 : 20
        try broker.publish(Self.loom, Self.loomReadings(from: 10, count: during, t0: t0))

        try await eventually("a critical journal entry") {
            journal.received { $0.contains("SENTRA_ALERT=state_commit_failing") && $0.contains("PRIORITY=2") }
        }
        try await eventually("sentra_commit_failing 1 in /metrics") { try await Self.metric(daemon, "sentra_commit_failing") == 1 }
        // Failed attempts, as they fail: the commit's, or the alert log's it waits for.
        let commitFailures = try await Self.metric(daemon, "sentra_commit_failures_total") ?? 0
        let logFailures = try await Self.metric(daemon, "sentra_alert_log_write_failures_total") ?? 0
        #expect(commitFailures + logFailures > 0)
        // A full disk is not a hang: the ingest thread turns, the watchdog goes on.
        let pings = notify.messages.filter { $0.contains("WATCHDOG=1") }.count
        try await eventually("WATCHDOG=1 during the stall") { notify.messages.filter { $0.contains("WATCHDOG=1") }.count >= pings + 2 }
        try await eventually("STATUS= says so") { notify.received { $0.hasPrefix("STATUS=STATE NOT SAVED") } }
        try await eventually("the journal's use in /metrics") {
            try await Self.metric(daemon, "sentra_journal_used_bytes") ?? 0 > 0
        }
        if !logOnSameDisk {
            try await eventually("the alert line in the alert log (another disk)") {
                alertLines(daemon).contains { $0.contains(#""rule":"state_commit_failing","status":"firing""#) }
            }
        }
        let entry = try #require(journal.messages.first { $0.contains("SENTRA_ALERT=state_commit_failing") })
        #expect(entry.contains("SENTRA_FAILURE=disk_full"), "\(entry)")
        let (status, screen) = try daemon.ctl(["status", "--http", "127.0.0.1:\(daemon.httpPort)"])
        #expect(status == 0, "\(screen)")
        #expect(screen.contains("STATE NOT SAVED since") && screen.contains("critical state_commit_failing"), "\(screen)")
        // Ingest does not wait for the commit: the power meter's outage fires during the stall.
        if logOnSameDisk {
            // Evaluated all the same: its line waits for room, and the writer says so.
            try await eventually("the alert log's failures in /metrics") {
                try await Self.metric(daemon, "sentra_alert_log_write_failures_total") ?? 0 > 0
            }
        } else {
            try await eventually("power_outage during the stall") {
                alertLines(daemon).contains { $0.contains(#""rule":"power_outage","status":"firing""#) }
            }
        }
        #expect(try await Self.metric(daemon, "sentra_commit_failing") == 1, "still failing")

        let child = try #require(daemon.child)
        child.signal(SIGTERM)
        // Bounded: the retry ends at the stop; with the journal full, the exit comes 5 s later.
        let code = try await child.wait(timeout: 20)
        #expect(code == 2, "sentrad's exit status after SIGTERM during the stall")
        #expect(journal.received { $0.contains("stopping while the state cannot be saved") })
        // With the journal full, the broker connection cannot close: the deadline ends the process.
        #expect(journal.received { $0.contains("exiting (2) without closing the broker connection") } == fillJournal)
        daemon.child = nil

        disk.makeRoom()
        try await daemon.start(environment: env, waitForSubscription: false)
        let expected = (10 + during - 1) * 20
        var last: Int?
        do {
            try await eventually("every reading counted once", timeout: 60) {
                last = try Self.picks(daemon)
                return last == expected
            }
        } catch {
            Issue.record("picks \(String(describing: last)), expected \(expected)")
        }
        if !logOnSameDisk {
            try await eventually("the alert resolved") {
                alertLines(daemon).contains { $0.contains(#""rule":"state_commit_failing","status":"resolved""#) }
            }
        }
        // The outage fired once, whatever the stop in between.
        try await eventually("power_outage in the log") {
            alertLines(daemon).contains { $0.contains(#""rule":"power_outage","status":"firing""#) }
        }
        #expect(alertLines(daemon).filter { $0.contains(#""rule":"power_outage","status":"firing""#) }.count == 1)
        #expect(try await Self.metric(daemon, "sentra_commit_failing") == 0)
        let seen = journal.messages.count
        let second = try #require(daemon.child)
        second.signal(SIGTERM)
        let clean = try await second.wait()
        let errors = journal.messages.dropFirst(seen).filter { $0.contains("PRIORITY=2") || $0.contains("PRIORITY=3") }
        #expect(clean == 0, "a clean stop once the disk has room: \(errors)")
        daemon.child = nil
        #expect(try Self.picks(daemon) == expected, "after a clean stop")
    }

    @Test func aFullDiskIsToldAtOnceAndLosesNothing() async throws {
        try await stallThenStop(fillJournal: false)
    }

    @Test func aFullDiskUnderTheAlertLogToo() async throws {
        try await stallThenStop(fillJournal: false, logOnSameDisk: true)
    }

    @Test func sigtermWhileTheJournalIsFullEndsInBoundedTime() async throws {
        try await stallThenStop(fillJournal: true)
    }

    /// Stops a daemon that has counted `n` readings.
    static func counted(_ n: Int) async throws -> (Broker, Daemon) {
        let broker = try await Broker()
        let daemon = Daemon(broker: broker)
        try await daemon.start()
        try broker.publish(Self.loom, Self.loomReadings(from: 0, count: n, t0: nowMillis() - 86_400_000))
        try await eventually("\(n) readings committed") { try daemon.accepted() == n }
        try await daemon.terminate()
        return (broker, daemon)
    }

    static func refusedStart(_ daemon: Daemon, saying what: String) async throws {
        let c = try await daemon.start(waitForSubscription: false)
        let code = try await c.wait(timeout: 30)
        #expect(code == 2, "sentrad's exit status: \(c.output.suffix(2000))")
        #expect(c.output.contains("sentrad: cannot start: the state database") && c.output.contains(what), "\(c.output.suffix(2000))")
        daemon.child = nil
        let (status, out) = try daemon.ctl(["report", "--format", "json"])
        #expect(status == 2, "sentractl report: \(out)")
        #expect(out.contains(what), "\(out)")
    }

    @Test func aDamagedDatabaseStopsTheStartWithExit2() async throws {
        let (_, daemon) = try await Self.counted(5)
        let db = daemon.stateDir + "/sentra.sqlite"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: db)[.size] as? Int)
        let fd = open(db, O_WRONLY)
        #expect(fd >= 0)
        let garbage = [UInt8]((0..<(size - 8192)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) })
        #expect(garbage.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 8192) } == garbage.count)
        close(fd)
        try await Self.refusedStart(daemon, saying: "is damaged")
        let (status, out) = try daemon.ctl(["status", "--json"])
        #expect(status == 2, "sentractl status --json: \(out)")
    }

    /// After a downgrade: the database holds a schema step this version does not know. The
    /// start is refused with exit 1 (restarting cannot help), naming the step; nothing changes.
    @Test func aDatabaseANewerSentraMigratedStopsTheStartWithExit1() async throws {
        let (_, daemon) = try await Self.counted(5)
        let db = daemon.stateDir + "/sentra.sqlite"
        let (added, addOut) = try run("/usr/bin/sqlite3", [db, "INSERT INTO grdb_migrations VALUES ('v99-from-the-future')"])
        #expect(added == 0, "\(addOut)")
        let (_, before) = try run("/usr/bin/sqlite3", [db, ".dump"])
        let c = try await daemon.start(waitForSubscription: false)
        let code = try await c.wait(timeout: 30)
        #expect(code == 1, "sentrad's exit status: \(c.output.suffix(2000))")
        #expect(
            c.output.contains("sentrad: cannot start: the state database \(db) was migrated by a newer Sentra"), "\(c.output.suffix(2000))")
        #expect(c.output.contains("v99-from-the-future"), "\(c.output.suffix(2000))")
        daemon.child = nil
        #expect(try run("/usr/bin/sqlite3", [db, ".dump"]).1 == before, "schema and rows as they were")
        let (status, out) = try daemon.ctl(["report", "--format", "json"])
        #expect(status == 1, "sentractl report: \(out)")
        #expect(out.contains("v99-from-the-future"), "\(out)")
        // Installing the newer version again (here: forgetting its step) lets it start.
        let (removed, removeOut) = try run(
            "/usr/bin/sqlite3", [db, "DELETE FROM grdb_migrations WHERE identifier = 'v99-from-the-future'"])
        #expect(removed == 0, "\(removeOut)")
        try await daemon.start()
        #expect(try daemon.accepted() == 5)
        try await daemon.terminate()
    }

    @Test func anEmptyDatabaseWhereHistoryExistedIsRefusedAndAFreshInstallStarts() async throws {
        let (_, daemon) = try await Self.counted(5)
        let db = daemon.stateDir + "/sentra.sqlite"
        #expect(FileManager.default.fileExists(atPath: db + ".identity"), "written after the first commit of a fresh install")
        #expect(truncate(db, 0) == 0)
        try await Self.refusedStart(daemon, saying: "is empty (0 bytes)")
        #expect(try FileManager.default.attributesOfItem(atPath: db)[.size] as? Int == 0, "left as it was")
        // An operator who means to start anew moves both aside.
        try FileManager.default.removeItem(atPath: db)
        try FileManager.default.removeItem(atPath: db + ".identity")
        try await daemon.start()
        try await daemon.terminate()
    }
}

/// WATCHDOG=1 comes from a thread of its own, and only while the ingest thread is alive.
@Suite(.serialized) struct WatchdogTests {
    /// Arrival times of WATCHDOG=1 on `notify`, seen by a thread of the test's own (the test's
    /// async tasks are busy making HTTP requests).
    final class PingClock: @unchecked Sendable {
        private let lock = NSLock()
        private var times: [Date] = []
        private var stopped = false
        init(_ notify: DatagramListener) {
            Thread {
                var seen = 0
                while true {
                    self.lock.lock()
                    let stop = self.stopped
                    self.lock.unlock()
                    if stop { return }
                    let n = notify.messages.filter { $0.contains("WATCHDOG=1") }.count
                    if n > seen {
                        self.lock.lock()
                        self.times.append(Date())
                        self.lock.unlock()
                        seen = n
                    }
                    usleep(5000)
                }
            }.start()
        }
        func stop() -> [Date] {
            lock.lock()
            defer { lock.unlock() }
            stopped = true
            return times
        }
    }

    @Test func pingsKeepComingWithinTheIntervalUnderHTTPLoad() async throws {
        let broker = try await Broker()
        let notify = try DatagramListener(name: "notify")
        let daemon = Daemon(broker: broker)
        try await daemon.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])
        try await eventually("READY=1") { notify.received { $0.contains("READY=1") } }
        let clock = PingClock(notify)
        let until = Date().addingTimeInterval(4)
        let base = daemon.httpURL
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<12 {
                group.addTask {
                    var n = 0
                    let path = i % 2 == 0 ? "/metrics" : "/api/v1/production?from=2020-01-01&to=2020-12-31&by=loom"
                    while Date() < until {
                        let (status, _) = try await HTTPTests.get(base + path)
                        #expect(status == 200)
                        n += 1
                    }
                    return n
                }
            }
            for try await _ in group {}
        }
        let times = clock.stop()
        #expect(times.count >= 6, "pings seen: \(times.count)")
        let gaps = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) }
        // The one timing assertion these tests allow: a ping within every WATCHDOG_USEC.
        #expect(gaps.allSatisfy { $0 <= 1.0 }, "gaps between WATCHDOG=1: \(gaps)")
        try await daemon.terminate()
    }

    @Test func pingsStopWhenTheIngestThreadHangs() async throws {
        let broker = try await Broker()
        let notify = try DatagramListener(name: "notify")
        let daemon = Daemon(broker: broker)
        let c = try await daemon.start(
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000", "SENTRA_FAULT": "ingest-stall:40"],
            waitForSubscription: false)
        try await eventually("WATCHDOG=1 while it runs") { notify.received { $0.contains("WATCHDOG=1") } }
        try await eventually("the ingest thread to hang") { c.output.contains("fault injection: hanging at ingest-stall") }
        // Within one interval after the last turn of the loop, the pings end for good.
        try await eventually("the pings to stop") {
            let before = notify.messages.filter { $0.contains("WATCHDOG=1") }.count
            try await Task.sleep(for: .seconds(1))
            return notify.messages.filter { $0.contains("WATCHDOG=1") }.count == before
        }
        #expect(c.isRunning, "systemd, not the daemon, ends it")
        try await daemon.kill9()
        // A clean run after it takes the journal's ring off the tmpfs.
        try await daemon.start()
        try await daemon.terminate()
    }
}
