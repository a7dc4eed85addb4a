import Foundation
import Logging
import SentraAlerts
import SentraCore
import SentraStore
import ServiceLifecycle

/// A craftsman's usual pieces per hour, from the hourly rows of the state database.
final class StoreUsualRates: UsualRateProvider {
    let store: ProductionStore
    let timeZone: TimeZone

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
        return InMemoryUsualRates.median(perDay.map { $0[hourOfDay] })
    }
}

/// The alert engine's lifecycle state in the state database, one row per slot, written only
/// when it changed, in the same transaction as the counters.
struct AlertStatePersistence {
    private let encoder = JSONEncoder()

    static func key(_ r: AlertStateRecord) -> String { "\(r.rule)|\(r.type)|\(r.subject)" }

    func restore(from store: ProductionStore) throws -> [AlertStateRecord] {
        let decoder = JSONDecoder()
        return try store.loadAlertStates().compactMap { try? decoder.decode(AlertStateRecord.self, from: $0.record) }
    }

    /// Rows to write (nil: delete), and whether they replace every row (after a start or reload).
    func changes(_ engine: AlertEngine) -> (rows: [(id: String, record: Data?)], replaceAll: Bool) {
        let (records, replace) = engine.changedRecords()
        return (records.map { r in (Self.key(r), r.state == AlertSlotState() ? nil : try? encoder.encode(r)) }, replace)
    }
}

/// Runs the plugin host in the service group.
public struct PluginService: Service {
    let host: PluginHost
    public init(host: PluginHost) { self.host = host }
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await host.run() }
    }
}
