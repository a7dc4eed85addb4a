import Foundation
import Logging
import SentraAlerts
import SentraConfig
import SentraCoop
import SentraCore
import SentraLocale
import SentraStore

/// The open orders for `order_behind`, read from the state database through `CoopBook` (the
/// same progress and ETA `sentractl order` and the API show). Ingest thread only, about once a
/// minute; a reload hands it the new configuration.
final class StoreOrderOutlooks: OrderOutlookProvider {
    let store: ProductionStore
    var configuration: Configuration
    let logger: Logger
    private var lastWarning: Int64 = .min

    init(store: ProductionStore, configuration: Configuration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    func outlooks(now: Int64) -> [OrderOutlook]? {
        let c = configuration
        let book = CoopBook(store: store, registry: c.registry, pay: c.pay, calendar: c.calendar, language: c.language)
        let forecasts: [OrderForecast]
        do {
            forecasts = try book.forecasts(now: now)
        } catch {
            // A busy or failing database: nothing changes this minute; said at most hourly.
            if now - lastWarning >= 3_600_000 {
                lastWarning = now
                logger.warning("reading the open orders failed; order_behind waits", metadata: ["sentra.error": "\(error)"])
            }
            return nil
        }
        var calendar = c.calendar
        let format = LocaleFormat(c.language)
        return forecasts.map { f in
            let eta = f.etaMillis.map { ms -> String in
                let t = calendar.local(atMillis: ms)
                let hm = String(format: "%02d:%02d", t.minuteOfDay / 60, t.minuteOfDay % 60)
                return "\(format.date(t.date)) \(hm)"
            }
            return OrderOutlook(
                order: f.id, workshop: f.workshop, left: f.left, behind: f.behind, etaText: eta ?? "-", dueText: format.date(f.due))
        }
    }
}
