import SentraCore
import SentraWire

/// Every sentra's alert events as one stream, each line once (docs/region.md). A bridge
/// delivers QoS 1 at least once, so a line may come twice; a line that never came shows as a
/// gap in its sentra's `seq`, which increases by one with every line a sentra writes.
///
/// Per sentra it keeps the highest seq seen, the seqs missing below it (a late line fills
/// its gap), and a fingerprint of the recent lines, so that a seq seen again with other
/// content is told apart from a repeat: that sentra's log was started afresh (its state
/// wiped), and it is followed from there. Memory is bounded per sentra.
public struct RegionStream: Sendable {
    public enum Output: Sendable, Equatable {
        /// A line to show: the event as it came, its sentra, and whether it fills a gap.
        case line(sentra: String, event: AlertEvent, text: String, late: Bool)
        /// `count` lines of `sentra` missing, seq `from` through `to`.
        case gap(sentra: String, from: Int64, to: Int64)
        /// `sentra`'s seq went back from `from` to `to` with new content: its log started afresh.
        case restarted(sentra: String, from: Int64, to: Int64)
        /// A message on an events topic that is not an alert event.
        case invalid(topic: String, reason: String)
    }

    /// Seqs remembered per sentra, for repeats and for gaps (at most about 200 KiB a sentra).
    public static let window: Int64 = 4_096
    /// Sentras followed at most: whatever the topics say, memory stays bounded.
    public static let maxSentras = 1_024

    struct Track: Sendable {
        var highest: Int64
        var missing: Set<Int64> = []
        var fingerprints: [Int64: UInt64] = [:]
    }

    private var tracks: [String: Track] = [:]
    public private(set) var duplicates = 0
    public private(set) var delivered = 0

    public init() {}

    /// The sentras heard from, with the highest seq of each.
    public var highest: [String: Int64] { tracks.mapValues(\.highest) }

    /// One message from the regional broker. `topicSentra`: the sentra id its topic names
    /// (which the regional broker's ACL vouches for); it wins over the event's own field.
    public mutating func take(topic: String, topicSentra: String?, payload: some StringProtocol) -> [Output] {
        guard let event = AlertEvent.parse(line: payload) else {
            return [.invalid(topic: topic, reason: "not an alert event")]
        }
        guard let sentra = topicSentra ?? Self.sentraField(payload) else {
            return [.invalid(topic: topic, reason: "names no sentra")]
        }
        let text = payload.hasSuffix("\n") ? String(payload.dropLast()) : String(payload)
        // seq 0 is no line of the log (`sentractl plugins test`'s sample): shown, not followed.
        guard event.seq > 0 else { return [.line(sentra: sentra, event: event, text: text, late: false)] }
        let fp = Self.fingerprint(event)
        guard var t = tracks[sentra] else {
            guard tracks.count < Self.maxSentras else {
                return [.invalid(topic: topic, reason: "more than \(Self.maxSentras) sentras: \(sentra) is not followed")]
            }
            tracks[sentra] = Track(highest: event.seq, fingerprints: [event.seq: fp])
            delivered += 1
            return [.line(sentra: sentra, event: event, text: text, late: false)]
        }
        var out: [Output] = []
        var late = false
        let s = event.seq
        if s > t.highest {
            if s > t.highest + 1 {
                out.append(.gap(sentra: sentra, from: t.highest + 1, to: s - 1))
                for m in max(t.highest + 1, s - Self.window)..<s { t.missing.insert(m) }
            }
            t.highest = s
            t.missing = t.missing.filter { $0 > s - Self.window }
        } else if t.missing.remove(s) != nil {
            late = true
        } else if let seen = t.fingerprints[s], seen == fp {
            duplicates += 1
            return []
        } else if t.fingerprints[s] != nil || s < t.highest - Self.window {
            // The same seq with other content, or far below: a log begun again.
            out.append(.restarted(sentra: sentra, from: t.highest, to: s))
            t = Track(highest: s)
        } else {
            // Below the highest, not missing, not remembered: a repeat older than memory.
            duplicates += 1
            return []
        }
        t.fingerprints[s] = fp
        if t.fingerprints.count > Int(Self.window) * 2 { t.fingerprints = t.fingerprints.filter { $0.key > t.highest - Self.window } }
        tracks[sentra] = t
        delivered += 1
        out.append(.line(sentra: sentra, event: event, text: text, late: late))
        return out
    }

    /// The event's top-level `sentra` field, when it has one.
    static func sentraField(_ payload: some StringProtocol) -> String? {
        (try? WireJSON.decode(SentraField.self, from: payload))?.sentra.flatMap { DeviceTopic.isValidID($0.utf8) ? $0 : nil }
    }

    struct SentraField: Decodable { var sentra: String? }

    /// What tells two lines of one seq apart: FNV-1a over id, status and time.
    static func fingerprint(_ e: AlertEvent) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in "\(e.id)|\(e.status.rawValue)|\(e.ts)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
