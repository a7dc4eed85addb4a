import Foundation
import SentraCore
import Synchronization
import Testing
import SentraWire
import SentraTestSupport
@testable import SentraAlertLog


@Suite struct AlertLogTests {
    @Test func seqContinuesAcrossReopenAndRestart() throws {
        let dir = temporaryDirectory()
        let path = dir + "/alerts.jsonl"
        let log = try AlertLog(path: path, timeZone: jakarta)
        for i in 0..<3 { try log.append(sampleEvent(i)) }
        try log.reopen()
        try log.append(sampleEvent(3))
        // An operator moved the file away; SIGHUP: a new file, the seq goes on.
        try FileManager.default.moveItem(atPath: path, toPath: dir + "/moved.jsonl")
        try log.reopen()
        try log.append(sampleEvent(4))
        let again = try AlertLog(path: path, timeZone: jakarta)
        #expect(again.lastSeq == 5)
        try again.append(sampleEvent(5))
        let lines = readLines(dir + "/moved.jsonl") + readLines(path)
        #expect(lines.compactMap { AlertEvent.parse(line: $0)?.seq } == [1, 2, 3, 4, 5, 6])
        let parsed = AlertEvent.parse(line: lines[0])!
        var expected = sampleEvent(0)
        expected.seq = 1
        #expect(parsed == expected)
    }

    @Test func tornLastLineIsCutAtOpen() throws {
        let dir = temporaryDirectory()
        let path = dir + "/alerts.jsonl"
        do {
            let log = try AlertLog(path: path, timeZone: jakarta)
            for i in 0..<2 { try log.append(sampleEvent(i)) }
        }
        let h = FileHandle(forWritingAtPath: path)!
        h.seekToEndOfFile()
        h.write("{\"seq\":3,\"ts\":\"2026-".data(using: .utf8)!)
        h.closeFile()
        let log = try AlertLog(path: path, timeZone: jakarta)
        #expect(log.lastSeq == 2)
        try log.append(sampleEvent(2))
        #expect(readLines(path).map { AlertEvent.parse(line: $0)?.seq } == [1, 2, 3])
    }

    @Test func rotationKeepsLinesWholeAndSeqContinuous() throws {
        let dir = temporaryDirectory()
        let path = dir + "/alerts.jsonl"
        var log: AlertLog? = try AlertLog(path: path, timeZone: jakarta, settings: .init(maxFileBytes: 1000, maxKeptBytes: 1 << 30))
        log!.setCursor(plugin: "p", seq: 0)
        for i in 0..<20 { try log!.append(sampleEvent(i)) }
        log = nil
        log = try AlertLog(path: path, timeZone: jakarta, settings: .init(maxFileBytes: 1000, maxKeptBytes: 1 << 30))
        log!.setCursor(plugin: "p", seq: 0)
        for i in 20..<30 { try log!.append(sampleEvent(i)) }
        let segs = AlertLog.segments(path)
        #expect(segs.count > 5)
        var all: [Int64] = []
        for s in segs {
            let data = try String(contentsOfFile: s.path, encoding: .utf8)
            #expect(data.hasSuffix("\n"))
            #expect(s.size <= 1000)
            let seqs = readLines(s.path).map { AlertEvent.parse(line: $0)!.seq }
            #expect(seqs.first == s.firstSeq)
            all += seqs
        }
        #expect(all == Array(1...30))
        // A follower reads them all in order, from any position, across the files.
        var f = AlertLogFollower(path: path, after: 0)
        #expect(f.poll().map(\.seq) == Array(1...30))
        var g = AlertLogFollower(path: path, after: 17)
        #expect(g.poll(maxLines: 5).map(\.seq) == [18, 19, 20, 21, 22])
        #expect(g.poll().map(\.seq) == Array(23...30))
        try log!.append(sampleEvent(30))
        #expect(g.poll().map(\.seq) == [31])
        #expect(g.poll().isEmpty)
    }

    @Test func rotatedFilesAreKeptForALaggingCursorUpToTheLimit() throws {
        let dir = temporaryDirectory()
        let path = dir + "/alerts.jsonl"
        let log = try AlertLog(path: path, timeZone: jakarta, settings: .init(maxFileBytes: 1000, maxKeptBytes: 4000))
        log.setCursor(plugin: "fast", seq: 0)
        log.setCursor(plugin: "slow", seq: 0)
        for i in 0..<10 {
            try log.append(sampleEvent(i))
            log.setCursor(plugin: "fast", seq: log.lastSeq)
        }
        // Everything rotated is kept: "slow" has read nothing.
        let before = AlertLog.segments(path).filter(\.rotated)
        #expect(before.count >= 3 && before.first?.firstSeq == 1)
        // "slow" catches up: all but the newest rotated file go.
        log.setCursor(plugin: "slow", seq: log.lastSeq)
        #expect(AlertLog.segments(path).filter(\.rotated).count == 1)
        // "slow" stops reading; past maxKeptBytes the oldest goes and an alert says so.
        log.removeCursor(plugin: "fast")
        for i in 10..<40 { try log.append(sampleEvent(i)) }
        let rotated = AlertLog.segments(path).filter(\.rotated)
        #expect(rotated.reduce(0) { $0 + $1.size } <= 4000 + 1000)
        var f = AlertLogFollower(path: path, after: 0)
        let events = f.poll(maxLines: 1000).compactMap { AlertEvent.parse(line: $0.text) }
        let behind = events.filter { $0.rule == "plugin_fell_behind" }
        #expect(behind.count >= 2)
        #expect(behind.allSatisfy { $0.labels == ["component": "slow"] })
        #expect(Set(behind.map(\.status)) == [.firing, .resolved])
    }
}

@Suite struct AlertTailTests {
    @Test func filtersRendersAndFollowsAcrossRotation() async throws {
        let dir = temporaryDirectory()
        let path = dir + "/alerts.jsonl"
        let log = try AlertLog(path: path, timeZone: jakarta, settings: .init(maxFileBytes: 800, maxKeptBytes: 1 << 30))
        log.setCursor(plugin: "keep-all", seq: 0)
        for i in 0..<12 {
            try log.append(sampleEvent(i, workshop: i % 3 == 0 ? "ws-b" : "ws-a", severity: i % 4 == 0 ? .critical : .warning))
        }
        #expect(AlertLog.segments(path).count > 3)

        var o = AlertTail.Options()
        o.follow = false
        o.since = at("2026-11-24T10:00:00")
        o.workshop = "ws-a"
        var out: [String] = []
        try await AlertTail(path: path, timeZone: jakarta, options: o).run(color: false) { out.append($0) }
        // Events 1, 2, 4, 5, 7, 8, 10, 11 are at ws-a.
        #expect(out.count == 8)
        #expect(out[0].hasPrefix("2026-11-24 10:00:01  resolved  warning   voltage_sag  ws-a/pm-1  Event 1"))

        o.workshop = nil
        o.minSeverity = .critical
        o.json = true
        out = []
        try await AlertTail(path: path, timeZone: jakarta, options: o).run(color: false) { out.append($0) }
        #expect(out.compactMap { AlertEvent.parse(line: $0)?.seq } == [1, 5, 9])
        #expect(out == readAllLines(path).filter { AlertEvent.parse(line: $0)!.severity == .critical })

        // Without --since: the last lines, then what follows.
        var tailOptions = AlertTail.Options()
        tailOptions.lines = 2
        tailOptions.follow = false
        out = []
        try await AlertTail(path: path, timeZone: jakarta, options: tailOptions).run(color: true) { out.append($0) }
        #expect(out.count == 2 && out[1].contains("Event 11") && out[1].contains("\u{1B}["))
    }
}

func readAllLines(_ path: String) -> [String] {
    AlertLog.segments(path).flatMap { readLines($0.path) }
}

final class Collected: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ s: String) { lines.withLock { $0.append(s) } }
    var all: [String] { lines.withLock { $0 } }
}

@Suite struct AlertTailFollowTests {
    @Test func followsNewLinesAcrossRotationAndReportsGaps() async throws {
        let dir = temporaryDirectory()
        let path = dir + "/alerts.jsonl"
        let log = try AlertLog(path: path, timeZone: jakarta, settings: .init(maxFileBytes: 900, maxKeptBytes: 1 << 30))
        log.setCursor(plugin: "keep", seq: 0)
        try log.append(sampleEvent(0))
        var o = AlertTail.Options()
        o.pollInterval = .milliseconds(20)
        let tail = AlertTail(path: path, timeZone: jakarta, options: o)
        let out = Collected()
        try await withThrowingTaskGroup(of: Void.self) { g in
            g.addTask { try await tail.run(color: false) { out.add($0) } }
            try await eventually("the existing line") { out.all.count == 1 }
            for i in 1..<8 { try log.append(sampleEvent(i)) }  // rotates a few times
            try await eventually("the new lines") { out.all.count == 8 }
            g.cancelAll()
        }
        #expect(out.all.map { $0.contains("Event 7") } == Array(repeating: false, count: 7) + [true])
        #expect(AlertLog.segments(path).count > 2)
    }
}
