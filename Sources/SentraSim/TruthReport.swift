import Foundation

// MARK: The truth as JSON

/// One craftsman's production in a period: the shape of `sentractl report --format json`.
public struct CraftsmanTotals: Codable, Sendable, Equatable {
    public var craftsman: String
    public var pieces: Int64
    public var picks: Int64
    public var runSeconds: Int64
    public var kwh: Double
    public var waterL: Double

    enum CodingKeys: String, CodingKey {
        case craftsman, pieces, picks, kwh
        case runSeconds = "run_seconds"
        case waterL = "water_l"
    }
}

/// A workshop's meter readings that no craftsman's running looms could carry.
public struct UnattributedTotals: Codable, Sendable, Equatable {
    public var workshop: String
    public var kwh: Double
    public var waterL: Double

    enum CodingKeys: String, CodingKey {
        case workshop, kwh
        case waterL = "water_l"
    }
}

/// A workshop in a period, as `sentractl report --by workshop --format json` prints it:
/// its looms' production and running time, all its meters, and its supply's quality.
public struct WorkshopTotals: Codable, Sendable, Equatable {
    public var workshop: String
    public var pieces: Int64
    public var picks: Int64
    public var runSeconds: Int64
    /// Every meter of the workshop, whoever it is bound to.
    public var kwh: Double
    public var waterL: Double
    public var voltageOutOfBandSeconds: Int64
    public var noPowerSeconds: Int64

    enum CodingKeys: String, CodingKey {
        case workshop, pieces, picks, kwh
        case runSeconds = "run_seconds"
        case waterL = "water_l"
        case voltageOutOfBandSeconds = "voltage_out_of_band_seconds"
        case noPowerSeconds = "no_power_seconds"
    }
}

/// A loom in a period, as `sentractl report --by loom --format json` prints it.
public struct LoomTotals: Codable, Sendable, Equatable {
    public var loom: String
    /// The craftsman the loom is assigned to at the end of the period.
    public var craftsman: String
    public var pieces: Int64
    public var picks: Int64
    public var runSeconds: Int64
    public var stopSeconds: Int64
    public var faultSeconds: Int64
    /// Readings saying `stop` or `fault` right after one saying `run`.
    public var stoppages: Int64

    enum CodingKeys: String, CodingKey {
        case loom, craftsman, pieces, picks, stoppages
        case runSeconds = "run_seconds"
        case stopSeconds = "stop_seconds"
        case faultSeconds = "fault_seconds"
    }
}

/// A day's (or the window's) report: `craftsmen` and `unattributed` as `sentractl report
/// --format json` prints them, with `workshops` and `looms` as `--by workshop` and `--by loom` do.
public struct PeriodReport: Codable, Sendable, Equatable {
    public var craftsmen: [CraftsmanTotals]
    public var unattributed: [UnattributedTotals]
    public var workshops: [WorkshopTotals]
    public var looms: [LoomTotals]
}

/// The window in which an alert-worthy fault was injected.
public struct FaultWindow: Codable, Sendable, Equatable {
    /// The alert rule (docs/alerts.md) that should fire.
    public var rule: String
    public var kind: String
    public var workshop: String
    public var device: String
    /// RFC 3339 with the sentra's offset.
    public var start: String
    public var end: String
    public var startMs: Int64
    public var endMs: Int64

    enum CodingKeys: String, CodingKey {
        case rule, kind, workshop, device, start, end
        case startMs = "start_ms"
        case endMs = "end_ms"
    }
}

/// Every fault injected, alert-worthy or not.
public struct InjectedFault: Codable, Sendable, Equatable {
    public var kind: String
    public var workshop: String?
    public var device: String?
    public var at: String
    public var atMs: Int64

    enum CodingKeys: String, CodingKey {
        case kind, workshop, device, at
        case atMs = "at_ms"
    }
}

/// What a correct implementation of the device protocol (docs/protocol.md) counts from the stream the simulator
/// published, computed from what the simulator sent and the faults it injected.
public struct TruthReport: Codable, Sendable, Equatable {
    public var sentra: String
    public var timeZone: String
    public var from: String
    public var to: String
    public var seed: UInt64
    /// Whether the loom boards sent `run_s` (else running time comes from `state`).
    public var sendsRunS: Bool
    /// MQTT messages published (readings, batches, status and garbage).
    public var messages: Int
    /// Reading objects inside them (a batch holds several).
    public var readings: Int
    public var days: [String: PeriodReport]
    public var total: PeriodReport
    public var faults: [FaultWindow]
    public var injected: [InjectedFault]

    enum CodingKeys: String, CodingKey {
        case sentra, from, to, seed, messages, readings, days, total, faults, injected
        case timeZone = "time_zone"
        case sendsRunS = "sends_run_s"
    }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}
