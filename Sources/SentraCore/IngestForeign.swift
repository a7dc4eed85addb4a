/// Messages of off-the-shelf devices (docs/devices.md): read by the device's mapping into a
/// reading of the device protocol, then counted by the same rules as any other.
extension IngestPipeline {
    mutating func ingestForeign(
        _ route: ForeignRoutes.Route, topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, now: Int64, payloadTooLarge: Bool
    ) {
        switch route {
        case .ignored:
            stats.ignored += 1
        case .status(let index):
            if payloadTooLarge { return reject(.tooLarge, topic: topic, device: index) }
            foreignStatus(index, payload: payload, now: now, topic: topic)
        case .message(let index, let reader, let selected):
            if payloadTooLarge { return reject(.tooLarge, topic: topic, device: index) }
            switch foreign.readers[reader].decode(payload, selected: selected, limits: settings.limits, calendar: &calendar) {
            case .reading(let r): accept(r, device: index, now: now, topic: topic)
            case .ignored: stats.ignored += 1
            case .rejected(let reason): reject(reason, topic: topic, device: index)
            }
        }
    }

    /// The status topic's words (`Online`/`Offline`, `true`/`false`, …) as the mapping says.
    private mutating func foreignStatus(_ index: Int, payload: UnsafeRawBufferPointer, now: Int64, topic: UnsafeRawBufferPointer) {
        guard payload.count <= 64, let status = registry.devices[index].mapping?.status else {
            return reject(.badType, topic: topic, device: index)
        }
        let text = String(decoding: payload, as: UTF8.self).trimmingWhitespace()
        if status.online.contains(text) {
            applyStatus(index, online: true, now: now)
        } else if status.offline.contains(text) {
            applyStatus(index, online: false, now: now)
        } else {
            reject(.badType, topic: topic, device: index)
        }
    }

    /// Duplicate and out-of-order per field, for devices whose messages each carry some fields:
    /// a counter value not later than that counter's last (or, without a device time, earlier)
    /// is dropped, and gauges and `state` older than the device's last reading are. Returns why
    /// the reading is rejected when nothing of it remains.
    static func partialOrder(_ r: inout Reading, ts: Int64, deviceTime: Bool, after d: DeviceState) -> RejectReason? {
        var kept = false
        var equal = false
        for f in Field.allCases where f.isCounter && r.has(f) {
            guard let b = d[counter: f] else {
                kept = true
                continue
            }
            let last = max(b.ts, b.pendingTs ?? .min)
            if ts < last || (ts == last && deviceTime) {
                r.clear(f)
                equal = equal || ts == last
            } else {
                kept = true
            }
        }
        let gauges = r.mask & ~counterMask != 0 || r.state != nil
        if gauges {
            if ts < (d.lastTs ?? .min) {
                r.mask &= counterMask
                r.state = nil
            } else {
                kept = true
            }
        }
        if kept { return nil }
        return equal ? .duplicate : .outOfOrder
    }

    /// Bits of the cumulative counters in `Reading.mask`.
    static let counterMask: UInt16 = Field.allCases.filter(\.isCounter).reduce(0) { $0 | 1 << UInt16($1.rawValue) }

    /// Keeps the device clock's offset from the receive time, and tells the observer once when
    /// it is over `skewNoticeMillis`.
    mutating func noteSkew(_ index: Int, ts: Int64, now: Int64) {
        let skew = ts - now
        devices[index].skewMs = skew
        markDirty(index)
        if abs(skew) > Self.skewNoticeMillis && !traits[index].contains(.skewLogged) {
            traits[index].insert(.skewLogged)
            observer?.clockSkew(device: index, millis: skew)
        }
    }
}

/// What a device's mapping switches on in the pipeline (docs/architecture.md, "Off-the-shelf
/// devices"), and whether its clock's skew was logged in this run.
struct DeviceTraits: OptionSet {
    let rawValue: UInt8
    /// Each message carries some fields: duplicate and out-of-order per field.
    static let partial = DeviceTraits(rawValue: 1)
    /// A confirmed counter drop counts from the dropped-to value (Tasmota).
    static let restoresOlderTotal = DeviceTraits(rawValue: 2)
    /// Its messages carry the device's own time: its skew is kept.
    static let sendsTime = DeviceTraits(rawValue: 4)
    static let skewLogged = DeviceTraits(rawValue: 8)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ m: ForeignMapping?) {
        self = []
        guard let m else { return }
        if m.partial { insert(.partial) }
        if m.restoresOlderTotal { insert(.restoresOlderTotal) }
        if m.carriesTime { insert(.sendsTime) }
    }
}
