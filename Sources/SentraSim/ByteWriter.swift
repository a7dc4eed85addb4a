/// Appends JSON text to a reused byte buffer: integers and fixed-point decimals rendered by
/// hand, so a reading costs no `String` and no `Double` formatting (and the text is the
/// same on every platform, which the seed's byte-identical promise needs).
public struct ByteWriter: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always) public mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always) public mutating func append(byte b: UInt8) { bytes.append(b) }

    public mutating func append<C: Collection>(bytes other: C) where C.Element == UInt8 { bytes.append(contentsOf: other) }

    /// A decimal integer.
    @inline(__always) public mutating func append(int v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(v.magnitude)
    }

    /// `units / 10^decimals`, always with exactly `decimals` digits after the point.
    @inline(__always) public mutating func append(fixed units: Int64, decimals: Int) {
        if units < 0 { bytes.append(UInt8(ascii: "-")) }
        let m = units.magnitude
        var p: UInt64 = 1
        for _ in 0..<decimals { p *= 10 }
        appendDigits(m / p)
        guard decimals > 0 else { return }
        bytes.append(UInt8(ascii: "."))
        var frac = m % p
        var digits = InlineArray<19, UInt8>(repeating: UInt8(ascii: "0"))
        var i = decimals - 1
        while i >= 0 {
            digits[i] = UInt8(ascii: "0") + UInt8(frac % 10)
            frac /= 10
            i -= 1
        }
        for j in 0..<decimals { bytes.append(digits[j]) }
    }

    /// `x` rounded to `decimals` places.
    @inline(__always) public mutating func append(rounded x: Double, decimals: Int) {
        append(fixed: ByteWriter.units(x, decimals: decimals), decimals: decimals)
    }

    @inline(__always) public static func units(_ x: Double, decimals: Int) -> Int64 {
        var p = 1.0
        for _ in 0..<decimals { p *= 10 }
        return Int64((x * p).rounded())
    }

    @inline(__always) private mutating func appendDigits(_ v0: UInt64) {
        var v = v0
        var tmp = InlineArray<20, UInt8>(repeating: 0)
        var n = 0
        repeat {
            tmp[n] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            n += 1
        } while v > 0
        while n > 0 {
            n -= 1
            bytes.append(tmp[n])
        }
    }
}
