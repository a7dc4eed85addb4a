import Testing

@testable import SentraCoop

/// The largest remainder split: shares add up to the order exactly, and follow capacity.
@Suite struct SplitTests {
    @Test func aSmallCaseEqualsTheHandComputedSplit() {
        // 10 pieces by capacities 5, 3, 2 (sum 10): exactly 5, 3, 2.
        #expect(Split.largestRemainder(10, weights: [5, 3, 2]) == [5, 3, 2])
        // 7 pieces by 1, 1, 1: 2.333 each → 2, 2, 2 and the one left to the first (ties: earlier).
        #expect(Split.largestRemainder(7, weights: [1, 1, 1]) == [3, 2, 2])
        // 100 by 24, 16, 8: 50, 33.33, 16.67 → 50, 33, 16 and the one left to the largest remainder (.67).
        #expect(Split.largestRemainder(100, weights: [24, 16, 8]) == [50, 33, 17])
    }

    @Test func zeroHistoryGivesEqualShares() {
        #expect(Split.largestRemainder(9, weights: [0, 0, 0]) == [3, 3, 3])
        #expect(Split.largestRemainder(10, weights: [0, 0, 0]) == [4, 3, 3])
    }

    @Test func oneCraftsmanGetsAll() {
        #expect(Split.largestRemainder(37, weights: [12.5]) == [37])
        #expect(Split.largestRemainder(37, weights: [0]) == [37])
    }

    @Test func wantedSmallerThanTheCraftsmen() {
        // 2 pieces among 5 equal: the first two get one each.
        #expect(Split.largestRemainder(2, weights: [1, 1, 1, 1, 1]) == [1, 1, 0, 0, 0])
        // 1 piece, the largest capacity gets it.
        #expect(Split.largestRemainder(1, weights: [1, 3, 2]) == [0, 1, 0])
    }

    @Test func sharesAddUpToTheOrderForManyCases() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 1...12, using: &rng)
            let total = Int.random(in: 1...1_000_000, using: &rng)
            let weights = (0..<n).map { _ in
                Bool.random(using: &rng) ? 0 : Double.random(in: 0...40, using: &rng).rounded(.down) / 4
            }
            let shares = Split.largestRemainder(total, weights: weights)
            #expect(shares.reduce(0, +) == total, "total \(total) weights \(weights)")
            #expect(shares.allSatisfy { $0 >= 0 })
            // Nobody is more than one piece from his exact share (when some capacity exists).
            let sum = weights.reduce(0, +)
            if sum > 0 {
                for (s, w) in zip(shares, weights) { #expect(abs(Double(s) - Double(total) * w / sum) < 1.0000001) }
            }
        }
    }

    @Test func capacityTiesGoToTheEarlierCraftsman() {
        #expect(Split.largestRemainder(5, weights: [2, 2]) == [3, 2])
        #expect(Split.largestRemainder(5, weights: [1, 2, 2]) == [1, 2, 2])
        #expect(Split.largestRemainder(4, weights: [1, 2, 2]) == [1, 2, 1])
    }
}
