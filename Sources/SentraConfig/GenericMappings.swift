import SentraCore
import Yams

/// `mappings:` generic mappings for devices no built-in profile reads: topic patterns, values
/// by JSON path or as the plain payload, scales, state words, the device's time and its status
/// topic (docs/configuration.md, "Off-the-shelf devices").
extension Reader {
    mutating func mappings(_ entry: Entry?) -> [String: ForeignMapping] {
        guard let entry, let top = entry.value.mapping else {
            if let v = entry?.value, v.mapping == nil { error(v, "mappings", "expected a mapping of names to mappings") }
            return [:]
        }
        var out: [String: ForeignMapping] = [:]
        for (k, v) in top {
            guard let name = k.string else { continue }
            let p = "mappings.\(name)"
            if !DeviceTopic.isValidID(name) || name == "native" || ForeignProfiles.names.contains(name) {
                error(k, p, "'\(name)' cannot name a mapping (an id of a-z 0-9 _ -, not a built-in profile's name)")
                continue
            }
            if let m = mapping(v, p, allowed: ["messages", "status", "partial", "restores_older_total"]) {
                out[name] = genericMapping(m, v, p, name: name)
            }
        }
        return out
    }

    private mutating func genericMapping(_ m: [String: Entry], _ node: Node, _ p: String, name: String) -> ForeignMapping {
        var messages: [ForeignMessage] = []
        for (i, n) in sequence(m["messages"], "\(p).messages").enumerated() {
            if let message = message(n, "\(p).messages[\(i)]") { messages.append(message) }
        }
        if messages.isEmpty { error(m["messages"]?.value ?? node, "\(p).messages", "missing (required): at least one message") }
        var status: ForeignStatus?
        if let s = m["status"], let sm = mapping(s.value, "\(p).status", allowed: ["topic", "online", "offline"]) {
            let topic = pattern(sm["topic"], "\(p).status.topic", in: s.value, allowField: false)
            let online = words(sm["online"], "\(p).status.online", in: s.value)
            let offline = words(sm["offline"], "\(p).status.offline", in: s.value)
            if let topic { status = ForeignStatus(topic: topic, online: online, offline: offline) }
        }
        return ForeignMapping(
            profile: name, deviceTopic: "", messages: messages, status: status, partial: bool(m["partial"], "\(p).partial") ?? false,
            restoresOlderTotal: bool(m["restores_older_total"], "\(p).restores_older_total") ?? false)
    }

    private mutating func message(_ n: Node, _ p: String) -> ForeignMessage? {
        guard let m = mapping(n, p, allowed: ["topic", "format", "when", "time", "values"]) else { return nil }
        guard let topic = pattern(m["topic"], "\(p).topic", in: n, allowField: true) else { return nil }
        let formatName = string(m["format"], "\(p).format") ?? "json"
        guard let format = ForeignMessage.Format(rawValue: formatName) else {
            error(m["format"]?.value, "\(p).format", "expected json or plain")
            return nil
        }
        var condition: (path: JSONPath, equals: String)?
        if let w = m["when"], let wm = mapping(w.value, "\(p).when", allowed: ["path", "equals"]) {
            if let path = jsonPath(wm["path"], "\(p).when.path", in: w.value),
                let eq = string(wm["equals"], "\(p).when.equals", required: true, in: w.value)
            {
                condition = (path, eq)
            }
        }
        var time: ForeignTime?
        if let t = m["time"], let tm = mapping(t.value, "\(p).time", allowed: ["path", "format"]) {
            let f = string(tm["format"], "\(p).time.format") ?? "unix_ms"
            let format = ForeignTime.Format(rawValue: f)
            if format == nil { error(tm["format"]?.value, "\(p).time.format", "expected unix_ms, unix_s or iso8601") }
            if let path = jsonPath(tm["path"], "\(p).time.path", in: t.value), let format { time = ForeignTime(path: path, format: format) }
        }
        if format == .plain && (condition != nil || time != nil) {
            error(m["format"]?.value, "\(p).format", "a plain payload has no paths: when and time need format json")
        }
        let values = self.values(m["values"], "\(p).values", in: n, format: format, fieldTopic: topic.levels.contains(.field))
        return ForeignMessage(topic: topic, format: format, values: values, time: time, condition: condition)
    }

    // Long: one branch per way a value can be written (short path, path, plain, {field} level),
    // each reporting its own mistakes by key.
    private mutating func values(
        _ e: Entry?, _ p: String, in parent: Node, format: ForeignMessage.Format, fieldTopic: Bool
    ) -> [ForeignValue] {
        guard let e else {
            error(parent, p, "missing (required): which fields the message carries")
            return []
        }
        let allowed = Field.allCases.map(\.wireName) + ["state"]
        guard let m = mapping(e.value, p, allowed: allowed) else { return [] }
        var out: [ForeignValue] = []
        for (name, entry) in m.sorted(by: { $0.key < $1.key }) {
            let vp = "\(p).\(name)"
            var path = JSONPath()
            var topicField: String?
            var target: ForeignValue.Target
            var vm: [String: Entry] = [:]
            if entry.value.scalar != nil {
                guard format == .json, let jp = jsonPath(entry, vp, in: e.value) else {
                    if format == .plain { error(entry.value, vp, "a plain value is written { } or { scale: … }, not a path") }
                    continue
                }
                path = jp
            } else {
                guard let m = mapping(entry.value, vp, allowed: ["path", "scale", "pulses_per_unit", "topic_field", "map"]) else {
                    continue
                }
                vm = m
                if format == .json {
                    guard let jp = jsonPath(m["path"], "\(vp).path", in: entry.value) else {
                        if m["path"] == nil { error(entry.value, "\(vp).path", "missing (required) for a json message") }
                        continue
                    }
                    path = jp
                } else if m["path"] != nil {
                    error(m["path"]?.key, "\(vp).path", "a plain payload has no paths")
                }
                if fieldTopic {
                    topicField = deviceTopic(m["topic_field"], "\(vp).topic_field") ?? name
                } else if m["topic_field"] != nil {
                    error(m["topic_field"]?.key, "\(vp).topic_field", "only for a topic with a {field} level")
                }
            }
            if name == "state" {
                var words = ForeignValue.onOffStates
                if let mp = vm["map"] { words = stateWords(mp, "\(vp).map") }
                target = .state(words)
            } else {
                guard let f = Field(wireName: name) else { continue }
                if vm["map"] != nil { error(vm["map"]?.key, "\(vp).map", "only state maps words") }
                target = .field(f, scale: scale(vm, vp))
            }
            out.append(ForeignValue(path: path, topicField: topicField, target: target))
        }
        if format == .plain && !fieldTopic && out.count > 1 {
            error(e.value, p, "a plain message carries one value; use a {field} level in the topic for several")
        }
        return out
    }

    private mutating func stateWords(_ e: Entry, _ p: String) -> [String: LoomState] {
        guard let m = e.value.mapping else {
            error(e.value, p, "expected a mapping of words to run, stop or fault")
            return [:]
        }
        var out: [String: LoomState] = [:]
        for (k, v) in m {
            guard let word = k.scalar?.string, let s = v.scalar.flatMap({ LoomState(name: $0.string) }) else {
                error(v, "\(p).\(k.scalar?.string ?? "?")", "expected run, stop or fault")
                continue
            }
            out[word] = s
        }
        return out
    }

    private mutating func pattern(_ e: Entry?, _ p: String, in parent: Node, allowField: Bool) -> TopicPattern? {
        guard let text = string(e, p, required: true, in: parent) else { return nil }
        guard text.utf8.count <= 256, let t = TopicPattern(text), t.levels.contains(.device) else {
            error(e?.value, p, "'\(text)' is not a topic pattern: levels of text, +, {device} (required) or {field}; no # or empty levels")
            return nil
        }
        if t.levels.filter({ $0 == .device }).count > 1 || t.levels.filter({ $0 == .field }).count > 1 {
            error(e?.value, p, "{device} and {field} may each appear once")
            return nil
        }
        if !allowField && t.levels.contains(.field) {
            error(e?.value, p, "a status topic has no {field} level")
            return nil
        }
        return t
    }

    private mutating func jsonPath(_ e: Entry?, _ p: String, in parent: Node) -> JSONPath? {
        guard let text = string(e, p, required: true, in: parent) else { return nil }
        guard text.utf8.count <= 256, let path = JSONPath(parsing: text), path.steps.count <= 16 else {
            error(e?.value, p, "'\(text)' is not a JSON path (like ENERGY.Total, a[0].b or params[\"switch:0\"].apower)")
            return nil
        }
        return path
    }

    private mutating func words(_ e: Entry?, _ p: String, in parent: Node) -> [String] {
        guard let e else {
            error(parent, p, "missing (required)")
            return []
        }
        if let s = e.value.scalar?.string { return [s] }
        return sequence(e, p).compactMap { n in
            guard let s = n.scalar?.string else {
                error(n, p, "expected words")
                return nil
            }
            return s
        }
    }
}
