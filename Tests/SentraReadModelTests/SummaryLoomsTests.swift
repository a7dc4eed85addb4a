import SentraReadModel
import SentraWire
import Testing

/// Which looms `/api/v1/sentra?view=summary` lists (docs/http.md): those not running, the
/// most urgent first, never more than the limit, in the configuration's order.
@Suite struct SummaryLoomsTests {
    func loom(_ i: Int, _ state: LoomStateName, online: Bool = true, heard: Bool = true) -> SentraAnswer.Loom {
        SentraAnswer.Loom(
            id: "loom-\(i)", workshop: "ws-\(i % 7)", craftsman: nil, device: "loom-\(i)", state: state, since: nil, online: online,
            lastHeard: heard ? "2026-12-05T08:00:00+07:00" : nil)
    }

    @Test func offShiftTheListStaysWithinTheLimitAndKeepsFaultsAndStopsFirst() {
        // 1,000 looms: 600 running, 5 faulted, 20 stopped, 300 offline, 75 never heard.
        var looms: [SentraAnswer.Loom] = []
        for i in 0..<1_000 {
            switch i % 40 {
            case 0..<24: looms.append(loom(i, .run))
            case 24 where i < 200: looms.append(loom(i, .fault))
            case 25 where i < 800: looms.append(loom(i, .stop))
            case 24, 25, 26..<37: looms.append(loom(i, .unknown, online: false))
            default: looms.append(loom(i, .unknown, online: false, heard: false))
            }
        }
        let faults = looms.filter { $0.online && $0.state == .fault }.map(\.id)
        let stops = looms.filter { $0.online && $0.state == .stop }.map(\.id)
        #expect(faults.count == 5 && stops.count == 20)

        let listed = DaemonView.exceptions(looms)
        #expect(listed.count == DaemonView.summaryLoomLimit)
        #expect(!listed.contains { $0.isRunning })
        let ids = Set(listed.map(\.id))
        #expect(faults.allSatisfy(ids.contains) && stops.allSatisfy(ids.contains))
        // The rest are offline looms that were heard, before any never heard.
        #expect(listed.filter { !$0.online }.allSatisfy { $0.lastHeard != nil })
        // In the configuration's order.
        let order = listed.map { Int($0.id.dropFirst(5))! }
        #expect(order == order.sorted())
    }

    @Test func aFewLoomsNotRunningAreAllListed() {
        let looms = [loom(1, .run), loom(2, .stop), loom(3, .run), loom(4, .unknown, online: false, heard: false)]
        #expect(DaemonView.exceptions(looms).map(\.id) == ["loom-2", "loom-4"])
    }
}
