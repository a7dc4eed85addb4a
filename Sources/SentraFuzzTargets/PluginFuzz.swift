import Foundation
import Logging
import SentraCore
import SentraWire

/// What an external plugin writes on its stdout, read the way the plugin host reads it
/// (Sources/SentraPlugins/ExternalPlugin.swift, `handle`): each line trimmed, decoded as a
/// `PluginMessage`, and acted on; a plugin's own alert becomes an alert-log event, which
/// must be written as a line the log reads back.
enum PluginFuzz {
    static let now: Int64 = 1_764_000_000_000
    static let timeZone = TimeZone(identifier: "Asia/Jakarta") ?? .gmt

    static func fuzzOne(_ data: UnsafeRawBufferPointer) {
        for line in lines(of: data) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, let message = try? WireJSON.decode(PluginMessage.self, from: trimmed) else { continue }
            switch message {
            case .hello(let hello): _ = hello.protocol ?? 0
            case .ack(let ack): _ = ack.seq
            case .nack(let nack): _ = nack.error ?? "refused"
            case .log(let log): _ = log.level.flatMap(Logger.Level.init(rawValue:)) ?? .info
            case .alert(let alert):
                guard let event = alert.event(plugin: "fuzz", now: now) else { continue }
                AlertLogFuzz.roundTrip(event)
            case .event, .unknown: _ = message.type
            }
        }
    }
}
