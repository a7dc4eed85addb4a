import Foundation
import Logging
import SentraAlertLog
import SentraAlerts
import SentraConfig
import SentraCore
import SentraJournal
import SentraPlugins
import SentraReadModel
import SentraStore
import SentraWire
import ServiceLifecycle

/// A craftsman's usual pieces per hour, from the hourly rows of the state database.
final class StoreUsualRates: UsualRateProvider {
    let store: ProductionStore
    /// The sentra's time zone; set again by a reload (ingest thread only, as every call).
    var timeZone: TimeZone

    init(store: ProductionStore, timeZone: TimeZone) {
        self.store = store
        self.timeZone = timeZone
    }

    func usualPiecesPerHour(craftsman: String, hourOfDay: Int, weekday: Int, beforeDate: String, days: Int) -> Double? {
        guard let before = LocalCalendar.daysSinceEpoch(beforeDate) else { return nil }
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(before * 86_400))))
        let perDay =
            (try? store.workingDayHours(craftsman: craftsman, before: beforeDate, days: days, utcOffset: offset))?[craftsman] ?? []
        guard !perDay.isEmpty else { return nil }
        return UsualRates.median(perDay.map { $0[hourOfDay] })
    }
}

/// The alert engine's lifecycle state in the state database, one row per slot, written only
/// when it changed, in the same transaction as the counters.
struct AlertStatePersistence {
    private let encoder = JSONEncoder()

    func restore(from store: ProductionStore) throws -> [AlertStateRecord] {
        let decoder = JSONDecoder()
        return try store.loadAlertStates().compactMap { try? decoder.decode(AlertStateRecord.self, from: $0.record) }
    }

    /// Rows to write (nil: delete), and whether they replace every row (after a start or reload).
    /// A row's id is its slot key's `rule|type|subject`.
    func changes(_ engine: AlertEngine) -> (rows: [(id: String, record: Data?)], replaceAll: Bool) {
        let (records, replace) = engine.changedRecords()
        return (records.map { r in (r.key.description, r.state == AlertSlotState() ? nil : try? encoder.encode(r)) }, replace)
    }
}

/// Alert-log lines written after the committed alert states (a crash came between the line and
/// the commit). While the receive journal replays, an event equal to one of them (same id and
/// status, in order per id) is taken as already written; what remains afterwards is handed to
/// `AlertEngine.adopt`. Ingest thread only.
final class LoggedAlertLines: @unchecked Sendable {
    private var events: [AlertEvent]
    private var matched: [Bool]
    private var byID: [String: [Int]] = [:]
    private var active = true

    init(_ events: [AlertEvent]) {
        self.events = events
        matched = Array(repeating: false, count: events.count)
        for (i, e) in events.enumerated() { byID[e.id, default: []].append(i) }
    }

    var count: Int { events.count }

    /// Whether `event` was already written (and so is not to be written again).
    func consume(_ event: AlertEvent) -> Bool {
        guard active, var queue = byID[event.id], let first = queue.first else { return false }
        guard events[first].status == event.status else { return false }
        queue.removeFirst()
        byID[event.id] = queue
        matched[first] = true
        return true
    }

    /// Ends the replay: the lines no replayed event matched, in log order.
    func finish() -> [AlertEvent] {
        active = false
        let out = events.indices.filter { !matched[$0] }.map { events[$0] }
        events = []
        matched = []
        byID = [:]
        return out
    }
}

/// Opens the receive journal where the state database says it was last counted, and starts
/// its once-a-second sync.
public func openReceiveJournal(configuration: Configuration, store: ProductionStore, logger: Logger) throws -> ReceiveJournal {
    let mark = try store.meta(ProductionStore.journalMarkKey).flatMap(JournalMark.init)
    let journal = try ReceiveJournal(
        path: configuration.receiveJournalRingPath, mirror: configuration.receiveJournalPath, capacity: configuration.journalBytes,
        resumeAt: mark)
    if let notice = journal.notice {
        logger.warning(
            "\(notice)", metadata: ["sentra.journal": "\(journal.path)", "sentra.journal_mirror": "\(journal.mirrorPath ?? "")"])
    }
    if let source = journal.replaySource {
        logger.info(
            "the receive journal holds messages not yet counted",
            metadata: ["sentra.journal_source": "\(source)", "sentra.messages": "\(journal.replayCount)"])
    }
    journal.startSyncing(interval: 1) { ThreadRole.name("sentra-journal") }
    return journal
}

/// Runs the plugin host in the service group.
public struct PluginService: Service {
    let host: PluginHost
    public init(host: PluginHost) { self.host = host }
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await host.run() }
    }
}
