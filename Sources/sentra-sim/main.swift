import ArgumentParser
import Foundation
import Logging
import SentraConfig
import SentraCore
import SentraMQTT
import SentraSim
import Synchronization

/// Set by SIGINT/SIGTERM; the simulation stops at the next interval and finishes cleanly.
let stopRequested = Atomic<Bool>(false)

@main
struct SentraSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentra-sim",
        abstract: "Publishes what a sentra's looms and meters would (docs/protocol.md), live or replayed, with faults on demand.",
        discussion: """
            Accelerated (--speed other than 1) it replays the previous local day unless --from/--to say otherwise.
            Fault kinds: \(FaultKind.allCases.map(\.rawValue).joined(separator: ", ")).
            """)

    @Option(help: "The sentra's configuration file.")
    var config = "/etc/sentra/sentra.yaml"

    @Option(help: "Broker HOST:PORT (overrides the configuration).")
    var broker: String?

    @Option(help: "State directory (accepted for symmetry with sentrad; unused).")
    var stateDir: String?

    @Option(help: "Log directory (accepted for symmetry with sentrad; unused).")
    var logDir: String?

    @Option(help: "Event time per wall second: 1 is real time, 3600 an hour a second, 0 as fast as possible.")
    var speed: Double = 1

    @Option(help: "Window start: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] in the sentra's time zone.")
    var from: String?

    @Option(help: "Window end (exclusive; a date alone means the end of that day).")
    var to: String?

    @Option(help: "Seconds of event time between a device's readings.")
    var interval: Int = 10

    @Option(help: "MQTT QoS, 0 or 1.")
    var qos: Int32 = 1

    @Option(help: "Seed: the same seed, configuration and window give a byte-identical stream.")
    var seed: UInt64 = 1

    @Option(help: "Readings per message, as a gateway batches them (JSON arrays).")
    var batch: Int = 1

    @Option(
        name: .customLong("fault"), help: "Inject KIND[@TIME][:DEVICE]; TIME is HH:MM[:SS], YYYY-MM-DDTHH:MM[:SS] or +N[s|m|h]. Repeatable."
    )
    var faultSpecs: [String] = []

    @Option(help: "'random' injects faults at --fault-rate; 'none' (default) only those given by --fault.")
    var faults: String = "none"

    @Option(help: "Random faults per simulated hour across the sentra.")
    var faultRate: Double = 2

    @Option(
        help:
            "Write the ground truth to this file: what a correct daemon counts from the published stream, per day and in all (JSON, the shape of `sentractl report --format json`)."
    )
    var truth: String?

    @Flag(name: .customLong("no-run-s"), help: "Boards send `state` but no `run_s`, as most boards do.")
    var noRunS = false

    @Option(
        name: .customLong("leave-out"),
        help: "A device (id) that publishes nothing, e.g. an off-the-shelf device that can only be replayed in real time. Repeatable.")
    var leaveOut: [String] = []

    @Option(help: "MQTT client id.")
    var clientId: String?

    @Flag(help: "Print `topic<TAB>payload` lines instead of publishing.")
    var stdout = false

    @Flag(help: "No progress lines.")
    var quiet = false

    func validate() throws {
        guard speed >= 0, speed.isFinite else { throw ValidationError("--speed must be 0 or more") }
        guard qos == 0 || qos == 1 else { throw ValidationError("--qos must be 0 or 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard interval >= 1 else { throw ValidationError("--interval must be at least 1 second") }
        guard faults == "random" || faults == "none" else { throw ValidationError("--faults must be 'random' or 'none'") }
        guard faultRate >= 0 else { throw ValidationError("--fault-rate must be 0 or more") }
    }

    func run() throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .warning
            return h
        }
        let logger = Logger(label: "sentra-sim")
        do {
            try simulate(logger: logger)
        } catch let e as SimulationError {
            FileHandle.standardError.write(Data("sentra-sim: \(e)\n".utf8))
            throw ExitCode(1)
        } catch let e as ConfigurationErrors {
            FileHandle.standardError.write(Data("sentra-sim: \(e)\n".utf8))
            throw ExitCode(1)
        } catch let e as ExitCode {
            throw e
        } catch {
            FileHandle.standardError.write(Data("sentra-sim: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func simulate(logger: Logger) throws {
        var cfg = try Configuration.load(path: config)
        try cfg.override(broker: broker, stateDirectory: stateDir, logDirectory: logDir)
        var calendar = cfg.calendar
        let (start, end) = try window(calendar: &calendar)

        var options = SimulationOptions(from: start, to: end)
        options.intervalMillis = Int64(interval) * 1000
        options.seed = seed
        options.batch = batch
        options.faults = try faultSpecs.map { (s: String) throws(SimulationError) in try FaultSpec.parse(s, calendar: calendar) }
        options.randomFaultsPerHour = faults == "random" ? faultRate : 0
        options.collectTruth = truth != nil
        options.sendRunS = !noRunS
        options.leaveOut = Set(leaveOut)
        // Live, the daemon receives each message as it is published.
        options.receivedAsPublished = speed == 1
        if speed != 1 && !stdout {
            try refuseUntimed(cfg.registry, leaving: options.leaveOut)
            // Shelly gen2's status messages would take a receive time far from their event time.
            options.sendsUntimed = false
        }
        var sim = try Simulation(registry: cfg.registry, calendar: calendar, ingest: cfg.ingest, options: options)

        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }

        let progress: Progress? = quiet ? nil : Progress(calendar: calendar)
        let pacer = Pacer(speed: speed, eventStart: start, wallStart: monotonicMillis())
        if stdout {
            let sink = StdoutSink(pacer: pacer, progress: progress)
            try sim.run(into: sink) { stopRequested.load(ordering: .relaxed) }
            sink.flush()
        } else {
            var mqtt = MQTTOptions()
            mqtt.host = cfg.broker.host
            mqtt.port = cfg.broker.port
            mqtt.clientID = clientId ?? "sentra-sim-\(getpid())"
            mqtt.cleanSession = true
            mqtt.keepAliveSeconds = cfg.broker.keepAliveSeconds
            mqtt.username = cfg.broker.username
            mqtt.caFile = cfg.broker.caFile
            mqtt.certFile = cfg.broker.certFile
            mqtt.keyFile = cfg.broker.keyFile
            let sink = try MQTTSink(options: mqtt, qos: qos, logger: logger, pacer: pacer, progress: progress)
            try sim.run(into: sink) { stopRequested.load(ordering: .relaxed) }
            try sink.finish()
        }
        if let truth {
            let data = try sim.truthReport().jsonData()
            try data.write(to: URL(fileURLWithPath: truth))
        }
        if !quiet {
            FileHandle.standardError.write(Data("sentra-sim: published \(sim.messages) messages (\(sim.readings) readings)\n".utf8))
        }
    }

    /// Devices whose readings carry no time take the daemon's receive time: accelerated over
    /// MQTT they would all land at the moment of the replay, so they can only be replayed in
    /// real time (in process, tests replay them in virtual time).
    private func refuseUntimed(_ registry: Registry, leaving left: Set<String>) throws {
        let untimed = registry.devices.filter { d in
            !left.contains(d.id) && (d.mapping.map { m in !m.messages.contains { $0.time != nil } } ?? false)
        }
        guard !untimed.isEmpty else { return }
        let names = untimed.map { "\($0.id) (\($0.profile))" }.joined(separator: ", ")
        throw SimulationError(
            "\(names): \(untimed.count == 1 ? "this device publishes" : "these devices publish") readings without a time, "
                + "which the daemon stamps with its receive time, so they can only be replayed in real time (--speed 1); "
                + "leave them out to accelerate the rest: "
                + untimed.map { "--leave-out \($0.id)" }.joined(separator: " "))
    }

    /// The window in event time: explicit, or real time from now, or (accelerated) the previous local day.
    private func window(calendar: inout LocalCalendar) throws -> (Int64, Int64) {
        func parse(_ s: String, flag: String, endOfDay: Bool) throws -> Int64 {
            guard let ms = parseLocalDateTime(s, calendar: &calendar) else {
                throw SimulationError("\(flag) '\(s)': expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]")
            }
            // A date alone as the end means through the end of that day.
            if endOfDay && s.count == 10 {
                return calendar.startOfDay(LocalCalendar.civilDate(daysSinceEpoch: LocalCalendar.daysSinceEpoch(s)! + 1)) ?? ms + 86_400_000
            }
            return ms
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let realTime = speed == 1
        let start: Int64
        if let from {
            start = try parse(from, flag: "--from", endOfDay: false)
        } else if realTime {
            start = now / 1000 * 1000
        } else {
            let today = calendar.date(atMillis: now)
            let yesterday = LocalCalendar.civilDate(daysSinceEpoch: LocalCalendar.daysSinceEpoch(today)! - 1)
            start = calendar.startOfDay(yesterday)!
        }
        let end: Int64
        if let to {
            end = try parse(to, flag: "--to", endOfDay: true)
        } else if realTime && from == nil {
            // Live until interrupted; a month bounds the plan of random faults.
            end = start + 30 * 86_400_000
        } else {
            end = start + 86_400_000
        }
        guard end > start else { throw SimulationError("--to must be after --from") }
        return (start, end)
    }
}

func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

func pace(_ pacer: Pacer, eventTime: Int64) {
    let d = pacer.delay(eventTime: eventTime, now: monotonicMillis())
    if d > 0 { usleep(useconds_t(min(d, 1000) * 1000)) }
}

/// One line per simulated hour on stderr.
final class Progress {
    var calendar: LocalCalendar
    var total = 0
    init(calendar: LocalCalendar) { self.calendar = calendar }
    func hour(_ start: Int64, messages: Int) {
        total += messages
        let t = calendar.local(atMillis: start * 1000)
        let line = String(format: "sentra-sim: %@ %02d:00  %d messages (%d in all)\n", t.date, t.minuteOfDay / 60, messages, total)
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// `topic<TAB>payload` lines on stdout, written in large blocks.
final class StdoutSink: SimulationSink {
    private var buffer: [UInt8] = []
    private let pacer: Pacer
    private let progress: Progress?

    init(pacer: Pacer, progress: Progress?) {
        self.pacer = pacer
        self.progress = progress
        buffer.reserveCapacity(1 << 20)
    }

    func message(topic: String, payload: UnsafeRawBufferPointer, eventTime: Int64) throws {
        if pacer.speed > 0 {
            flush()
            pace(pacer, eventTime: eventTime)
        }
        buffer.append(contentsOf: topic.utf8)
        buffer.append(UInt8(ascii: "\t"))
        buffer.append(contentsOf: payload)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 20 { flush() }
    }

    func hourCompleted(hourStart: Int64, messages: Int) throws { progress?.hour(hourStart, messages: messages) }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = write(1, p.baseAddress! + off, p.count - off)
                if n <= 0 { break }
                off += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Publishes through `MQTTClient`, keeping at most about a thousand messages unacknowledged.
final class MQTTSink: SimulationSink {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let options: MQTTOptions
    private let qos: Int32
    private let logger: Logger
    private let pacer: Pacer
    private let progress: Progress?
    private var client: MQTTClient?
    private var sinceCheck = 0

    init(options: MQTTOptions, qos: Int32, logger: Logger, pacer: Pacer, progress: Progress?) throws {
        self.options = options
        self.qos = qos
        self.logger = logger
        self.pacer = pacer
        self.progress = progress
        try connect()
    }

    private func connect() throws {
        let connected = ConnectedSignal()
        let c = MQTTClient(
            options: options, logger: logger,
            onEvent: { event in
                if case .connected = event { connected.set() }
            })
        try c.start()
        guard connected.wait(seconds: 30) else {
            c.stop()
            throw Failure(description: "no connection to the broker at \(options.host):\(options.port) within 30 s")
        }
        client = c
    }

    func message(topic: String, payload: UnsafeRawBufferPointer, eventTime: Int64) throws {
        if pacer.speed > 0 { pace(pacer, eventTime: eventTime) }
        guard let client else { throw Failure(description: "not connected") }
        try client.publish(topic: topic, payload: payload, qos: qos)
        sinceCheck += 1
        if sinceCheck >= 200 {
            sinceCheck = 0
            if qos > 0 && !client.waitForPublished(atMost: 1000, timeout: 120) {
                throw Failure(description: "the broker acknowledged nothing for 120 s")
            }
        }
    }

    func brokerDisconnect(at eventTime: Int64) throws {
        try finish()
        try connect()
    }

    func hourCompleted(hourStart: Int64, messages: Int) throws { progress?.hour(hourStart, messages: messages) }

    /// Waits for every acknowledgement, then disconnects.
    func finish() throws {
        guard let client else { return }
        if qos > 0 && !client.waitForPublished(atMost: 0, timeout: 120) {
            throw Failure(description: "\(client.unacknowledged) messages still unacknowledged after 120 s")
        }
        client.stop()
        self.client = nil
    }
}

/// A one-shot flag a callback thread sets and the main thread waits for.
final class ConnectedSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var done = false
    func set() {
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }
    func wait(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while !done { if !condition.wait(until: deadline) { return false } }
        return true
    }
}
