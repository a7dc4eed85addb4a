import Foundation
import SentraAlertLog
import SentraCore
import SentraPlugins
import SentraReadModel
import SentraStore
import SentraWire

/// What one scrape reads, all taken before the answer starts: a failure (the database) is
/// then a 500, never an answer cut off halfway.
public struct MetricsScrape: Sendable {
    var status: DaemonStatus.Snapshot
    var live: LiveSnapshot?
    var totals: [DeviceTotal]
    var plugins: [PluginHealth]
    var alertLogSeq: Int64
    var firing: [FiringRuleAlert]
}

extension DaemonView {
    public func scrape() throws -> MetricsScrape {
        let snap = live.snapshot
        return MetricsScrape(
            status: status.snapshot, live: snap, totals: try store.totals(), plugins: plugins?.health ?? [],
            alertLogSeq: alertLog.lastSeq, firing: firing(snap))
    }

    /// `GET /metrics`: the daemon's health and the sentra's production (docs/http.md lists
    /// every family). Production counters come from the state database's totals, so they
    /// survive restarts and never go down. Written a family at a time: the answer of a sentra
    /// of 10,000 looms is megabytes, and is never whole in memory.
    public func writeMetrics(_ m: MetricsScrape, _ write: (String) async throws -> Void) async throws {
        var p = PrometheusText(constantLabels: [("sentra", sentraID ?? "")])
        daemon(&p, m.status)
        commits(&p, m.status)
        plugins(&p, m)
        alertsFiring(&p, m.firing)
        try await write(p.take())
        try await production(&p, m.totals, write)
        if let snap = m.live { try await devices(&p, snap, write) }
    }

    private func daemon(_ p: inout PrometheusText, _ s: DaemonStatus.Snapshot) {
        p.family("sentra_build_info", .gauge, "Sentra's version; always 1.")
        p.sample("sentra_build_info", ["version": version], 1)
        p.family("sentra_start_time_seconds", .gauge, "When the daemon started, seconds since the epoch.")
        p.sample("sentra_start_time_seconds", [:], Double(s.startedAt) / 1000)

        p.family("sentra_readings_accepted_total", .counter, "Readings accepted since the daemon started.")
        p.sample("sentra_readings_accepted_total", [:], Double(s.stats.accepted))
        p.family("sentra_readings_rejected_total", .counter, "Readings rejected since the daemon started, by reason")
        for r in RejectReason.allCases { p.sample("sentra_readings_rejected_total", ["reason": r.name], Double(s.stats[r])) }
        p.family("sentra_cumulative_events_total", .counter, "Counter values not counted as production: glitches and board resets.")
        p.sample("sentra_cumulative_events_total", ["kind": "glitch"], Double(s.stats.glitches))
        p.sample("sentra_cumulative_events_total", ["kind": "reset"], Double(s.stats.resets))
        p.family("sentra_status_messages_total", .counter, "Device online/offline status messages taken.")
        p.sample("sentra_status_messages_total", [:], Double(s.stats.statusMessages))
        p.family(
            "sentra_messages_ignored_total", .counter,
            "Messages of known devices that carried nothing mapped, and Home Assistant discovery messages.")
        p.sample("sentra_messages_ignored_total", [:], Double(s.stats.ignored))

        p.family("sentra_mqtt_connected", .gauge, "1 while connected to the broker.")
        p.sample("sentra_mqtt_connected", [:], s.connected ? 1 : 0)
        p.family("sentra_mqtt_subscribed", .gauge, "1 once the broker confirmed the subscriptions.")
        p.sample("sentra_mqtt_subscribed", [:], s.subscribed ? 1 : 0)
        p.family("sentra_mqtt_reconnects_total", .counter, "Connections to the broker lost and made again.")
        p.sample("sentra_mqtt_reconnects_total", [:], Double(s.reconnects))
        p.family("sentra_queue_depth", .gauge, "Messages received and waiting for the ingest thread.")
        p.sample("sentra_queue_depth", [:], Double(s.queueDepth))
        p.family("sentra_journal_used_bytes", .gauge, "Bytes of the receive journal held for messages not yet committed.")
        p.sample("sentra_journal_used_bytes", [:], Double(s.journalBytes))
        p.family("sentra_journal_capacity_bytes", .gauge, "Size of the receive journal.")
        p.sample("sentra_journal_capacity_bytes", [:], Double(s.journalCapacity))
    }

    private func commits(_ p: inout PrometheusText, _ s: DaemonStatus.Snapshot) {
        p.family("sentra_commit_duration_seconds", .histogram, "Time of one state commit (an fsync'd SQLite transaction).")
        var cumulative = 0
        for (i, bound) in CommitHistogram.bounds.enumerated() {
            cumulative += s.commitHistogram.counts[i]
            p.sample("sentra_commit_duration_seconds_bucket", ["le": PrometheusText.format(bound)], Double(cumulative))
        }
        p.sample("sentra_commit_duration_seconds_bucket", ["le": "+Inf"], Double(s.commitHistogram.count))
        p.sample("sentra_commit_duration_seconds_sum", [:], s.commitHistogram.sum)
        p.sample("sentra_commit_duration_seconds_count", [:], Double(s.commitHistogram.count))
        p.family("sentra_commit_failures_total", .counter, "State commit attempts that failed, counted as they fail (each is retried).")
        p.sample("sentra_commit_failures_total", [:], Double(s.commitFailures))
        p.family("sentra_commit_failing", .gauge, "1 while state commits fail (the alert state_commit_failing fires); 0 otherwise.")
        p.sample("sentra_commit_failing", [:], s.commitFailingSince != nil ? 1 : 0)
        p.family("sentra_alert_log_write_failures_total", .counter, "Alert-log writes that failed (and were retried).")
        p.sample("sentra_alert_log_write_failures_total", [:], Double(s.alertLogFailures))
        p.family("sentra_last_commit_timestamp_seconds", .gauge, "When the last state commit ended, seconds since the epoch.")
        p.sample("sentra_last_commit_timestamp_seconds", [:], Double(s.lastCommitAt) / 1000)
        p.family("sentra_config_reloads_total", .counter, "Configuration reloads (SIGHUP), by result.")
        p.sample("sentra_config_reloads_total", ["result": "success"], Double(s.reloads))
        p.sample("sentra_config_reloads_total", ["result": "failure"], Double(s.reloadFailures))
    }

    private func plugins(_ p: inout PrometheusText, _ m: MetricsScrape) {
        let health = m.plugins
        p.family("sentra_plugin_up", .gauge, "1 while the plugin runs and its last delivery succeeded.")
        for h in health { p.sample("sentra_plugin_up", ["plugin": h.name], h.up ? 1 : 0) }
        p.family("sentra_plugin_failures_total", .counter, "Plugin failures (start, delivery, exit) since the daemon started.")
        for h in health { p.sample("sentra_plugin_failures_total", ["plugin": h.name], Double(h.failures)) }
        p.family("sentra_plugin_events_delivered_total", .counter, "Alert events a plugin acknowledged since the daemon started.")
        for h in health { p.sample("sentra_plugin_events_delivered_total", ["plugin": h.name], Double(h.delivered)) }
        p.family(
            "sentra_plugin_alerts_total", .counter,
            "Alerts a plugin sent of its own since the daemon started: accepted, dropped for the rate limit, or invalid.")
        for h in health {
            for (outcome, n) in [("accepted", h.alertsAccepted), ("dropped", h.alertsDropped), ("invalid", h.alertsInvalid)] {
                p.sample("sentra_plugin_alerts_total", ["plugin": h.name, "outcome": outcome], Double(n))
            }
        }
        p.family("sentra_plugin_acked_seq", .gauge, "The last alert-log seq a plugin has acknowledged.")
        for h in health { if let a = h.ackedSeq { p.sample("sentra_plugin_acked_seq", ["plugin": h.name], Double(a)) } }
        p.family("sentra_alert_log_seq", .gauge, "The seq of the last line in the alert log.")
        p.sample("sentra_alert_log_seq", [:], Double(m.alertLogSeq))
    }

    private func alertsFiring(_ p: inout PrometheusText, _ firing: [FiringRuleAlert]) {
        p.family("sentra_alerts_firing", .gauge, "Alerts firing now, by rule and severity.")
        var firingCounts: [String: [Severity: Int]] = [:]
        for f in firing { firingCounts[f.rule, default: [:]][f.alert.severity, default: 0] += 1 }
        for (rule, bySeverity) in firingCounts.sorted(by: { $0.key < $1.key }) {
            for (sev, n) in bySeverity.sorted(by: { $0.key < $1.key }) {
                p.sample("sentra_alerts_firing", ["rule": rule, "severity": sev.rawValue], Double(n))
            }
        }
    }

    private func production(_ p: inout PrometheusText, _ totals: [DeviceTotal], _ write: (String) async throws -> Void) async throws {
        let families: [(String, String, Metric, DeviceKind, Double)] = [
            ("sentra_pieces_total", "Pieces woven.", .pieces, .loom, 1),
            ("sentra_picks_total", "Picks (weft insertions) woven.", .picks, .loom, 1),
            ("sentra_skeins_total", "Skeins spun or dyed.", .skeins, .loom, 1),
            ("sentra_running_seconds_total", "Seconds a loom ran.", .runMs, .loom, 0.001),
            ("sentra_energy_kwh_total", "Energy in kWh, from meters' kwh counters.", .kwh, .power, 1),
            ("sentra_water_litres_total", "Clean water in litres, from meters' l counters.", .litres, .water, 1),
        ]
        for (name, help, metric, kind, scale) in families {
            p.family(name, .counter, help + " Labels: workshop, craftsman (empty: the workshop's), loom, device.")
            for t in totals where t.kind == kind.rawValue {
                p.sample(
                    name, labels: [("workshop", t.workshop), ("craftsman", t.craftsman), ("loom", t.loom), ("device", t.deviceID)],
                    t[metric] * scale)
            }
            try await write(p.take())
        }
    }

    private func devices(_ p: inout PrometheusText, _ snap: LiveSnapshot, _ write: (String) async throws -> Void) async throws {
        let reg = snap.registry
        func labels(_ i: Int) -> [(key: String, value: String)] {
            let d = reg.devices[i]
            let craftsman = d.craftsman ?? d.loom.flatMap { reg.loom($0) }.flatMap { $0.assignments.isEmpty ? nil : $0.currentCraftsman }
            return [("workshop", d.workshop), ("craftsman", craftsman ?? ""), ("loom", d.loom ?? ""), ("device", d.id)]
        }
        let gauges: [(String, String, Field)] = [
            ("sentra_voltage_volts", "Latest voltage of a power meter.", .v),
            ("sentra_current_amperes", "Latest current of a power meter.", .a),
            ("sentra_power_watts", "Latest power of a power meter.", .w),
            ("sentra_water_flow_litres_per_minute", "Latest flow of a water meter.", .lpm),
            ("sentra_tank_level_percent", "Latest tank level of a water meter, percent full.", .level),
            ("sentra_water_pressure_bar", "Latest pressure of a water meter.", .bar),
        ]
        for (name, help, field) in gauges {
            p.family(name, .gauge, help)
            for i in reg.devices.indices where snap.devices[i].online {
                if let v = snap.devices[i][field] { p.sample(name, labels: labels(i), v) }
            }
            try await write(p.take())
        }
        p.family("sentra_loom_state", .gauge, "1 for a loom board's current state (run, stop or fault), 0 for the others.")
        for i in reg.devices.indices where reg.devices[i].kind == .loom {
            guard let state = snap.devices[i].state, snap.devices[i].online else { continue }
            for s in [LoomState.run, .stop, .fault] {
                p.sample("sentra_loom_state", labels: labels(i) + [("state", s.name)], s == state ? 1 : 0)
            }
        }
        try await write(p.take())
        p.family("sentra_device_up", .gauge, "0 after a device's Last Will said offline, until it is heard again.")
        for i in reg.devices.indices {
            p.sample("sentra_device_up", labels: labels(i) + [("kind", reg.devices[i].kind.rawValue)], snap.devices[i].online ? 1 : 0)
        }
        try await write(p.take())
        p.family("sentra_device_last_seen_timestamp_seconds", .gauge, "Event time of a device's last accepted reading.")
        for i in reg.devices.indices {
            if let t = snap.devices[i].lastHeard {
                p.sample("sentra_device_last_seen_timestamp_seconds", labels: labels(i), Double(t) / 1000)
            }
        }
        try await write(p.take())
    }
}
