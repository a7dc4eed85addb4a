import Testing

@testable import SentraSim
@testable import SentraStore

/// The report against the simulator's truth, per craftsman and the workshops' unattributed
/// meters: counts exactly, energy and water to 1e-6 (the meters' resolution is far coarser).
func expectCraftsmenMatch(_ report: ProductionReport, _ truth: PeriodReport) throws {
    for t in truth.craftsmen {
        let r = try #require(report.craftsmen.first { $0.craftsman == t.craftsman })
        #expect(Int64(r.pieces) == t.pieces, "\(t.craftsman) pieces \(r.pieces) vs \(t.pieces)")
        #expect(Int64(r.picks) == t.picks, "\(t.craftsman) picks \(r.picks) vs \(t.picks)")
        #expect(Int64(r.runSeconds) == t.runSeconds, "\(t.craftsman) run_seconds \(r.runSeconds) vs \(t.runSeconds)")
        #expect(abs(r.kwh - t.kwh) < 1e-6, "\(t.craftsman) kwh \(r.kwh) vs \(t.kwh)")
        #expect(abs(r.waterL - t.waterL) < 1e-6, "\(t.craftsman) water \(r.waterL) vs \(t.waterL)")
    }
    for t in truth.unattributed {
        let r = report.unattributed.first { $0.workshop == t.workshop }
        #expect(abs((r?.kwh ?? 0) - t.kwh) < 1e-6, "\(t.workshop) unattributed kwh \(r?.kwh ?? 0) vs \(t.kwh)")
        #expect(abs((r?.waterL ?? 0) - t.waterL) < 1e-6, "\(t.workshop) unattributed water \(r?.waterL ?? 0) vs \(t.waterL)")
    }
}
