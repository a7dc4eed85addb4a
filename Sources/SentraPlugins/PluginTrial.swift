import Foundation
import Logging
import SentraCore
import Synchronization
import SentraWire
import SentraAlertLog

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One delivery to one plugin, outside the daemon, for `sentractl plugins test`: the same
/// handshake, event, timeouts and ack handling as `PluginHost`, but with no alert log, no
/// cursor and no retries, and with a transcript of everything said.
public struct PluginTrial: Sendable {
    /// One line of the conversation.
    public struct Line: Sendable, Equatable {
        public enum Direction: Sendable, Equatable {
            /// What the daemon side wrote to the plugin's stdin.
            case toPlugin
            /// A line of the plugin's stdout (protocol messages, or garbage).
            case fromPlugin
            /// A line of the plugin's stderr.
            case stderr
        }
        public var direction: Direction
        public var text: String
    }

    public enum Outcome: Sendable, Equatable {
        /// The plugin acknowledged the event (a sink returned).
        case acknowledged
        /// The plugin refused or failed it: a nack, a failed handshake, garbage, a timeout, an
        /// exit, a program that does not exist, a sink that threw.
        case refused(String)
        /// This side failed (the program could not be spawned).
        case internalFailure(String)
    }

    public var outcome: Outcome
    /// In order; empty for an in-process sink.
    public var transcript: [Line]
    /// True for an in-process sink (`builtin: journald`), false for an external program.
    public var inProcess: Bool

    /// Delivers `event` to the plugin `spec` once and reports what happened.
    ///
    /// - `pluginDirectory`: where `builtin: <name>` finds a shipped external plugin
    ///   (as `PluginHost.Settings.pluginDirectory`).
    /// - `stateDirectory`: told to the plugin; give a scratch directory, so a trial leaves no
    ///   state (e.g. the alertmanager plugin's firing set) behind for the daemon's instance.
    /// - A plugin is stopped (EOF, then SIGTERM, then SIGKILL after `stopGrace`) before this returns.
    public static func run(
        spec: PluginSpec, event: AlertEvent, timeZone: TimeZone, sentraName: String, sentraID: String? = nil,
        stateDirectory: String, pluginDirectory: String, sinks: SinkRegistry = .standard, handshakeTimeout: Duration = .seconds(15),
        stopGrace: Duration = .seconds(2),
        logger: Logger = Logger(label: "sentra.plugins.trial", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async -> PluginTrial {
        signal(SIGPIPE, SIG_IGN)
        if let b = spec.builtin, let f = sinks.factory(b) {
            do {
                let sink = try f(SinkContext(spec: spec, stateDirectory: stateDirectory, timeZone: timeZone, logger: logger))
                try await PluginHost.deliver(event, to: sink, spec: spec)
                return PluginTrial(outcome: .acknowledged, transcript: [], inProcess: true)
            } catch {
                return PluginTrial(outcome: .refused("\(error)"), transcript: [], inProcess: true)
            }
        }
        guard let cmd = PluginHost.command(for: spec, pluginDirectory: pluginDirectory) else {
            return PluginTrial(outcome: .refused("plugin \(spec.name): neither a command nor a builtin"), transcript: [], inProcess: false)
        }
        let lines = Transcript()
        let record: @Sendable (Line) -> Void = { l in lines.value.withLock { $0.append(l) } }
        let p: ExternalPlugin
        do {
            p = try ExternalPlugin(
                spec: spec, command: cmd, environment: PluginHost.environment(spec, stateDirectory: stateDirectory),
                logger: logger, onAlert: { _ in }, onExit: {},
                onLine: { isErr, text in record(Line(direction: isErr ? .stderr : .fromPlugin, text: text)) },
                onSend: { text in record(Line(direction: .toPlugin, text: text)) })
        } catch let e as PluginError {
            return PluginTrial(
                outcome: e.isInternal ? .internalFailure(e.description) : .refused(e.description), transcript: [], inProcess: false)
        } catch {
            return PluginTrial(outcome: .internalFailure("\(error)"), transcript: [], inProcess: false)
        }
        var outcome = Outcome.acknowledged
        do {
            try await PluginHost.handshake(
                p, spec: spec,
                context: .init(
                    sentraName: sentraName, sentraID: sentraID, timeZone: timeZone, stateDirectory: stateDirectory,
                    timeout: max(handshakeTimeout, .milliseconds(spec.timeoutMillis))))
            try await PluginHost.deliver(event, line: event.jsonLine(timeZone: timeZone), sentra: sentraID, to: p, spec: spec)
        } catch {
            outcome = .refused("\(error)")
        }
        await p.stop(grace: stopGrace)
        // The reader threads end at EOF, once the program is gone; wait briefly for the last lines.
        let deadline = ContinuousClock.now + .seconds(1)
        while p.isAlive && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return PluginTrial(outcome: outcome, transcript: lines.value.withLock { $0 }, inProcess: false)
    }
}

private final class Transcript: Sendable {
    let value = Mutex<[PluginTrial.Line]>([])
}
