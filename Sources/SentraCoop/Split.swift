/// Sharing a whole number of pieces in proportion.
public enum Split {
    /// `total` split in proportion to `weights` by the largest remainder method: each gets the
    /// whole part of his exact share, and the pieces left over go one each to the largest
    /// fractional parts (ties: the earlier one). The result adds up to `total` exactly. With no
    /// positive weight the shares are equal (the same rule). Negative weights count as 0.
    public static func largestRemainder(_ total: Int, weights: [Double]) -> [Int] {
        guard !weights.isEmpty, total > 0 else { return weights.map { _ in 0 } }
        var w = weights.map { $0.isFinite && $0 > 0 ? $0 : 0 }
        var sum = w.reduce(0, +)
        if sum <= 0 {
            w = weights.map { _ in 1 }
            sum = Double(w.count)
        }
        let exact = w.map { Double(total) * $0 / sum }
        var shares = exact.map { Int($0.rounded(.down)) }
        var leftOver = total - shares.reduce(0, +)
        // Floating point may leave a whole part one short or over; the remainders settle it.
        let order = exact.indices.sorted { a, b in
            let ra = exact[a] - Double(shares[a])
            let rb = exact[b] - Double(shares[b])
            return ra != rb ? ra > rb : a < b
        }
        var i = 0
        while leftOver > 0 {
            shares[order[i % order.count]] += 1
            leftOver -= 1
            i += 1
        }
        while leftOver < 0 {
            let j = order.reversed().first { shares[$0] > 0 } ?? 0
            shares[j] -= 1
            leftOver += 1
        }
        return shares
    }

    /// The median of `xs`; the mean of the two middle values for an even count; nil for none.
    public static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
