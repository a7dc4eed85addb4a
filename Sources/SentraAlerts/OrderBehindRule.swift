import SentraCore

/// An open order as `order_behind` sees it: what is left and when it is expected done, from
/// the exact counts (the daemon's `CoopBook`, docs/orders.md).
public struct OrderOutlook: Sendable, Equatable {
    public var order: String
    /// The workshop of the order's first loom: the alert's `workshop` label and the shift it is
    /// judged in.
    public var workshop: String
    public var left: Int
    /// Whether the order is behind: expected after its due date, past it with pieces left, or
    /// with no piece made after a shift hour.
    public var behind: Bool
    /// `{eta}` and `{due}` in the summary, as the daemon writes them (local time).
    public var etaText: String
    public var dueText: String

    public init(
        order: String, workshop: String, left: Int, behind: Bool, etaText: String, dueText: String
    ) {
        self.order = order
        self.workshop = workshop
        self.left = left
        self.behind = behind
        self.etaText = etaText
        self.dueText = dueText
    }
}

/// The open orders, for `order_behind`. Asked on the ingest thread about once a minute; nil
/// when they cannot be read now (nothing changes then).
public protocol OrderOutlookProvider: AnyObject {
    func outlooks(now: Int64) -> [OrderOutlook]?
}

/// `order_behind` (orders): fires, on the daemon's clock and inside its window (`during`), once
/// an open order is behind (`OrderOutlook.behind`); resolves as soon as it is no longer behind
/// (at any hour), or when the order is closed or removed. `started` is when it was first seen
/// behind, also outside the window; the value is the pieces left.
struct OrderBehindRule: Sendable, Equatable {
    var window: RuleWindow

    func evaluate(
        _ o: OrderOutlook, now: Int64, workshop w: Int, calendar: inout RuleCalendar, slot: inout AlertSlotState
    ) -> SlotVerdict {
        guard o.behind else {
            slot.onset = nil
            return slot.firing == nil ? .none : .resolve(at: now, value: Double(o.left))
        }
        guard slot.firing == nil else { return .none }
        let onset = slot.onset ?? now
        slot.onset = onset
        guard calendar.isOpen(window, workshop: w, at: now) else { return .none }
        return .fire(at: now, started: onset, value: Double(o.left), limit: nil)
    }
}

extension AlertEngine {
    /// How often open orders are looked at, on the daemon's clock.
    static let orderCheckMillis: Int64 = 60_000

    /// The registry index of an order's slots' subject, made (with a slot per `order_behind`
    /// rule) the first time the order is seen.
    @discardableResult
    func ensureOrder(_ id: String, workshop: String) -> Int {
        if let oi = orderIndex[id] { return oi }
        let oi = orderIDs.count
        orderIDs.append(id)
        orderWorkshop.append(workshop)
        orderIndex[id] = oi
        for (ri, e) in evaluators.enumerated() where e.isAboutOrders {
            slots.append(Slot(rule: ri, subject: oi, state: AlertSlotState()))
            if handedOut.count == slots.count - 1 { handedOut.append(AlertSlotState()) }
            orderSlots.append(slots.count - 1)
        }
        return oi
    }

    /// Asks the provider for the open orders (at most once a minute) and evaluates every
    /// `order_behind` slot; an order no longer open resolves its alert.
    func evaluateOrders() {
        guard hasOrderRules, let provider = orderOutlooks else { return }
        if let last = lastOrderCheck, wallNow - last < Self.orderCheckMillis { return }
        lastOrderCheck = wallNow
        guard let outlooks = provider.outlooks(now: wallNow) else { return }
        var open = Set<Int>()
        var byOrder: [Int: OrderOutlook] = [:]
        for o in outlooks {
            let oi = ensureOrder(o.order, workshop: o.workshop)
            orderWorkshop[oi] = o.workshop
            open.insert(oi)
            byOrder[oi] = o
        }
        for si in orderSlots {
            guard case .orderBehind(let rule) = evaluators[slots[si].rule] else { continue }
            let oi = slots[si].subject
            guard let o = byOrder[oi] else {
                slots[si].state.onset = nil
                if slots[si].state.firing != nil { carryOut(.resolve(at: wallNow, value: nil, note: .orderClosed), slot: si) }
                continue
            }
            orderText[oi] = (o.etaText, o.dueText)
            let w = registry.workshopIndex(o.workshop) ?? -1
            carryOut(rule.evaluate(o, now: wallNow, workshop: w, calendar: &calendar, slot: &slots[si].state), slot: si)
        }
    }
}
