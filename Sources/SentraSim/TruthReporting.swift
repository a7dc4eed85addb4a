import Foundation
import SentraCore

// MARK: The truth's reports

extension GroundTruth {
    /// A period's shares of the workshop meters, in meter units: per craftsman what his running
    /// looms carried, per workshop what no running loom did.
    struct MeterShares {
        var kwh: [Double]
        var litres: [Double]
        var unattributedKwh: [Double]
        var unattributedLitres: [Double]

        init(craftsmen: Int, workshops: Int) {
            kwh = Array(repeating: 0.0, count: craftsmen)
            litres = kwh
            unattributedKwh = Array(repeating: 0.0, count: workshops)
            unattributedLitres = unattributedKwh
        }

        mutating func add(_ o: MeterShares) {
            for c in kwh.indices {
                kwh[c] += o.kwh[c]
                litres[c] += o.litres[c]
            }
            for w in unattributedKwh.indices {
                unattributedKwh[w] += o.unattributedKwh[w]
                unattributedLitres[w] += o.unattributedLitres[w]
            }
        }
    }

    /// Splits the workshop meters hour by hour and renders every day of `[from, to)` (and
    /// any other day with readings) and their total.
    mutating func report(from: Int64, to: Int64) -> (days: [String: PeriodReport], total: PeriodReport) {
        var t = from
        while t < to {
            let h = hour(at: t)
            t = hours.hours[h].end
        }
        let shares = meterShares()
        var total = DaySums(
            craftsmen: Array(repeating: CraftsmanSums(), count: craftsmen), looms: Array(repeating: LoomSums(), count: looms),
            workshops: Array(repeating: WorkshopSums(), count: workshops))
        var totalShares = MeterShares(craftsmen: craftsmen, workshops: workshops)
        var out: [String: PeriodReport] = [:]
        var end = to
        for day in (0..<hours.days.count).sorted(by: { hours.days[$0].date < hours.days[$1].date }) {
            let s = days[day]
            out[hours.days[day].date] = render(s, shares[day], end: min(hours.days[day].end, to))
            end = max(end, min(hours.days[day].end, to))
            total.add(s)
            totalShares.add(shares[day])
        }
        return (out, render(total, totalShares, end: end))
    }

    /// Each day's shares of the workshop meters: an hour's meter units go to the workshop's
    /// craftsmen in proportion to their running time in it, or stay with the workshop.
    private func meterShares() -> [MeterShares] {
        var shares = Array(repeating: MeterShares(craftsmen: craftsmen, workshops: workshops), count: hours.days.count)
        // Hours in time order, craftsmen in index order: the same floating-point sums every run.
        for h in hours.hours.indices.sorted(by: { hours.hours[$0].start < hours.hours[$1].start }) {
            let split = splits[h]
            let day = hours.hours[h].day
            for w in 0..<workshops where split.sharedKwh[w] != 0 || split.sharedLitres[w] != 0 {
                var runs: [(craftsman: Int, ms: Int64)] = []
                for c in 0..<craftsmen {
                    if let ms = split.running[w * craftsmen + c], ms > 0 { runs.append((c, ms)) }
                }
                let total = runs.reduce(Int64(0)) { $0 + $1.ms }
                if total > 0 {
                    for (c, ms) in runs {
                        shares[day].kwh[c] += split.sharedKwh[w] * Double(ms) / Double(total)
                        shares[day].litres[c] += split.sharedLitres[w] * Double(ms) / Double(total)
                    }
                } else {
                    shares[day].unattributedKwh[w] += split.sharedKwh[w]
                    shares[day].unattributedLitres[w] += split.sharedLitres[w]
                }
            }
        }
        return shares
    }

    /// Whole seconds from summed milliseconds, rounded half up as the report does.
    private static func seconds(_ ms: Int64) -> Int64 { (ms + 500) / 1000 }
    private static func kwh(_ units: Double) -> Double { units / 1000 }
    private static func litres(_ units: Double) -> Double { units / 10 }

    private func render(_ s: DaySums, _ shares: MeterShares, end: Int64) -> PeriodReport {
        PeriodReport(
            craftsmen: registry.craftsmen.enumerated().map { i, c in
                let x = s.craftsmen[i]
                return CraftsmanTotals(
                    craftsman: c.id, pieces: x.pieces, picks: x.picks, runSeconds: Self.seconds(x.runMs),
                    kwh: Self.kwh(x.kwhUnits + shares.kwh[i]), waterL: Self.litres(x.litreUnits + shares.litres[i]))
            },
            unattributed: registry.workshops.enumerated().map { i, w in
                UnattributedTotals(
                    workshop: w.id, kwh: Self.kwh(shares.unattributedKwh[i]),
                    waterL: Self.litres(shares.unattributedLitres[i]))
            },
            workshops: registry.workshops.enumerated().map { i, w in
                let x = s.workshops[i]
                return WorkshopTotals(
                    workshop: w.id, pieces: x.pieces, picks: x.picks, runSeconds: Self.seconds(x.runMs), kwh: Self.kwh(x.kwhUnits),
                    waterL: Self.litres(x.litreUnits), voltageOutOfBandSeconds: Self.seconds(x.voltageOutMs),
                    noPowerSeconds: Self.seconds(x.noPowerMs))
            },
            looms: registry.looms.enumerated().map { i, l in
                let x = s.looms[i]
                var who = loomAssignments[i].first?.craftsman ?? ""
                for a in loomAssignments[i].dropFirst() where a.since < end { who = a.craftsman }
                return LoomTotals(
                    loom: l.id, craftsman: who, pieces: x.pieces, picks: x.picks, runSeconds: Self.seconds(x.runMs),
                    stopSeconds: Self.seconds(x.stopMs), faultSeconds: Self.seconds(x.faultMs), stoppages: x.stoppages)
            })
    }
}

extension GroundTruth.DaySums {
    /// Adds another period's sums, field by field.
    mutating func add(_ s: Self) {
        for c in craftsmen.indices {
            craftsmen[c].pieces += s.craftsmen[c].pieces
            craftsmen[c].picks += s.craftsmen[c].picks
            craftsmen[c].runMs += s.craftsmen[c].runMs
            craftsmen[c].kwhUnits += s.craftsmen[c].kwhUnits
            craftsmen[c].litreUnits += s.craftsmen[c].litreUnits
        }
        for l in looms.indices {
            looms[l].pieces += s.looms[l].pieces
            looms[l].picks += s.looms[l].picks
            looms[l].runMs += s.looms[l].runMs
            looms[l].stopMs += s.looms[l].stopMs
            looms[l].faultMs += s.looms[l].faultMs
            looms[l].stoppages += s.looms[l].stoppages
        }
        for w in workshops.indices {
            workshops[w].pieces += s.workshops[w].pieces
            workshops[w].picks += s.workshops[w].picks
            workshops[w].runMs += s.workshops[w].runMs
            workshops[w].kwhUnits += s.workshops[w].kwhUnits
            workshops[w].litreUnits += s.workshops[w].litreUnits
            workshops[w].voltageOutMs += s.workshops[w].voltageOutMs
            workshops[w].noPowerMs += s.workshops[w].noPowerMs
        }
    }
}
