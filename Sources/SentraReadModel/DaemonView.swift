import Foundation
import SentraAlertLog
import SentraAlerts
import SentraCore
import SentraLocale
import SentraPlugins
import SentraStore
import SentraWire

/// Everything the HTTP face reads, and only reads: the daemon's status, the ingest thread's
/// published snapshot, the state database, the alert log and the plugin host.
public struct DaemonView: Sendable {
    public var name: String
    /// `sentra.id`: the `sentra` label on every metric (nil: none).
    public var sentraID: String?
    public var version: String
    public var status: DaemonStatus
    public var live: LiveState
    public var store: ProductionStore
    public var alertLog: AlertLog
    public var plugins: PluginHost?
    /// How many past working days make a craftsman's usual (as `production_low` uses).
    public var usualDays: Int
    /// The sentra's language (`sentra.language`): pages that name none of their own use it.
    public var language: Language = .en
    /// `products:` and `pay:`: what the orders and pay sheets need.
    public var pay = PaySettings()
    public var clock: @Sendable () -> Int64

    public init(
        name: String, version: String, status: DaemonStatus, live: LiveState, store: ProductionStore,
        alertLog: AlertLog, plugins: PluginHost?, usualDays: Int = 14,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.name = name
        self.version = version
        self.status = status
        self.live = live
        self.store = store
        self.alertLog = alertLog
        self.plugins = plugins
        self.usualDays = usualDays
        self.clock = clock
    }

    /// The sentra's time zone: the alert log's, which a reload changes with the configuration.
    public var timeZone: TimeZone { alertLog.timeZone }

    public var calendar: LocalCalendar { LocalCalendar(timeZone: timeZone) }

    /// `ms` in RFC 3339 with the sentra's offset, as the API shows times.
    public func rfc3339(_ ms: Int64) -> String { RFC3339.format(ms, timeZone: timeZone) }

    /// `ms` in RFC 3339 with the sentra's offset; nil for nil.
    public func rfc3339(_ ms: Int64?) -> String? { ms.map { RFC3339.format($0, timeZone: timeZone) } }

    /// Every firing alert: the rule engine's, the plugin host's and the daemon's own.
    public func firing(_ snapshot: LiveSnapshot?) -> [FiringRuleAlert] {
        var out = snapshot?.firing ?? []
        if let e = status.snapshot.commitAlert {
            out.append(
                FiringRuleAlert(
                    rule: e.rule,
                    alert: FiringAlert(
                        id: e.id, labels: e.labels, started: e.started, value: e.value, summary: e.summary, severity: e.severity)))
        }
        for h in plugins?.health ?? [] {
            if let e = h.failing {
                out.append(
                    FiringRuleAlert(
                        rule: e.rule,
                        alert: FiringAlert(
                            id: e.id, labels: e.labels, started: e.started, value: e.value, summary: e.summary, severity: e.severity)))
            }
        }
        return out
    }
}
