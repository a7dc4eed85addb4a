#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The simulator's own seeded generator (xoshiro256**, seeded through SplitMix64), so a seed
/// gives the same stream on every platform and Swift version; the standard library's
/// generators promise neither.
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm)
        s1 = splitMix(&sm)
        s2 = splitMix(&sm)
        s3 = splitMix(&sm)
    }

    /// An independent stream derived from this seed and a label (per device, per fault).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: (seed ^ (stream &* 0xD1B5_4A32_D192_ED03)) &+ 0x632B_E59B_D9B4_E019)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let x = s1 &* 5
        let result = ((x << 7) | (x >> 57)) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in `[0, 1)`.
    @inline(__always)
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in `[lo, hi)`.
    @inline(__always)
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// Uniform integer in `[lo, hi]`.
    @inline(__always)
    public mutating func int(_ lo: Int, _ hi: Int) -> Int {
        precondition(hi >= lo)
        return lo + Int(next() % UInt64(hi - lo + 1))
    }

    @inline(__always)
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Standard normal (Box–Muller, one value per call).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 0x1.0p-53)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Exponential with the given mean.
    public mutating func exponential(mean: Double) -> Double { -mean * log(max(1 - unit(), 0x1.0p-53)) }

    /// Log-normal whose median is `median` and whose log has standard deviation `sigma`.
    public mutating func logNormal(median: Double, sigma: Double) -> Double { median * exp(sigma * normal()) }
}
