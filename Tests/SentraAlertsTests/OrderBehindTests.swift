import Foundation
import SentraCore
import SentraTestSupport
import SentraWire
import Testing

@testable import SentraAlerts

/// Open orders as a test sets them; counts how often the engine asks.
final class FakeOrders: OrderOutlookProvider {
    var open: [OrderOutlook] = []
    var asked = 0
    var unreadable = false
    func outlooks(now: Int64) -> [OrderOutlook]? {
        asked += 1
        return unreadable ? nil : open
    }
}

@Suite struct OrderBehindTests {
    static let rule = RuleSpec(
        name: "order_behind", severity: .warning, scope: RuleScope(), window: .shift, condition: .orderBehind,
        summary: "Order {order} at {workshop}: {value} left, done {eta}, due {due}")

    static func outlook(_ id: String, behind: Bool, left: Int = 40) -> OrderOutlook {
        OrderOutlook(
            order: id, workshop: "ws-a", left: left, behind: behind, etaText: "2026-11-27 10:00",
            dueText: "2026-11-26")
    }

    final class Run {
        var events: [AlertEvent] = []
        let orders = FakeOrders()
        var engine: AlertEngine!
        init(start: Int64) {
            engine = AlertEngine(
                registry: testRegistry(), rules: [OrderBehindTests.rule], calendar: LocalCalendar(timeZone: jakarta), startedAt: start,
                orderOutlooks: orders
            ) { [unowned self] in self.events.append($0) }
        }
        var lines: [String] { events.map { "\($0.status.rawValue) \($0.labels["order"] ?? "-")" } }
    }

    @Test func firesOnlyDuringShiftAndResolvesWhenNoLongerBehind() {
        let t0 = at("2026-11-24T06:00:00")  // a Tuesday, before the 07:00 shift
        let r = Run(start: t0)
        r.orders.open = [Self.outlook("o-1", behind: true)]
        r.engine.tick(now: t0)
        #expect(r.events.isEmpty)  // behind, but outside the shift
        r.engine.tick(now: t0 + minute(61))
        #expect(r.lines == ["firing o-1"])
        let fired = r.events[0]
        #expect(fired.started == t0)  // first seen behind, before the shift
        #expect(fired.ts == t0 + minute(61))
        #expect(fired.labels == ["workshop": "ws-a", "order": "o-1"])
        #expect(fired.value == 40)
        #expect(fired.summary == "Order o-1 at ws-a: 40 left, done 2026-11-27 10:00, due 2026-11-26")
        r.engine.tick(now: t0 + minute(62))
        #expect(r.lines == ["firing o-1"])  // still behind: no second line

        r.orders.open = [Self.outlook("o-1", behind: false, left: 12)]
        r.engine.tick(now: t0 + minute(63))
        #expect(r.lines == ["firing o-1", "resolved o-1"])
        #expect(r.events[1].id == fired.id && r.events[1].value == 12)
    }

    @Test func asksForOrdersAtMostOnceAMinute() {
        let t0 = at("2026-11-24T08:00:00")
        let r = Run(start: t0)
        for s in stride(from: 0, to: 120, by: 1) { r.engine.tick(now: t0 + second(s)) }
        #expect(r.orders.asked == 2)
    }

    @Test func aClosedOrderResolvesSayingSoAndUnreadableOrdersChangeNothing() {
        let t0 = at("2026-11-24T08:00:00")
        let r = Run(start: t0)
        r.orders.open = [Self.outlook("o-1", behind: true), Self.outlook("o-2", behind: true)]
        r.engine.tick(now: t0)
        #expect(Set(r.lines) == ["firing o-1", "firing o-2"])
        r.orders.unreadable = true
        r.engine.tick(now: t0 + minute(1))
        #expect(r.events.count == 2)
        r.orders.unreadable = false
        r.orders.open = [Self.outlook("o-2", behind: true)]
        r.engine.tick(now: t0 + minute(2))
        #expect(r.lines.count == 3 && r.lines[2] == "resolved o-1")
        #expect(r.events[2].summary.contains("order closed"))
    }

    @Test func aRestartKeepsTheFiringAlertWithoutASecondLine() throws {
        let t0 = at("2026-11-24T08:00:00")
        let r = Run(start: t0)
        r.orders.open = [Self.outlook("o-7", behind: true)]
        r.engine.tick(now: t0)
        #expect(r.lines == ["firing o-7"])
        let saved = try JSONEncoder().encode(r.engine.snapshot())

        let r2 = Run(start: t0 + minute(5))
        r2.engine.restore(try JSONDecoder().decode([AlertStateRecord].self, from: saved))
        #expect(r2.events.isEmpty)  // the order's slot is made from the record, not resolved as unknown
        r2.orders.open = [Self.outlook("o-7", behind: true)]
        r2.engine.tick(now: t0 + minute(5))
        #expect(r2.events.isEmpty)
        r2.orders.open = []
        r2.engine.tick(now: t0 + minute(6))
        #expect(r2.lines == ["resolved o-7"])
        #expect(r2.events[0].id == r.events[0].id && r2.events[0].started == t0)
    }
}
