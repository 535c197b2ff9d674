/// Element-wise transcendental functions over 8 floats at once, for the activations and
/// softmaxes of graph models. They use plain IEEE additions, multiplications, divisions and
/// bit operations only (no fused multiply-add, no libm), so they give the same bits on every CPU
/// and kernel family; the compiler keeps them in vector registers.
public enum VectorMath {
    public typealias Vector = SIMD8<Float>

    /// `eˣ`, within 2 ulp of the exact value for x in [−87.3, 88.3] (subnormal down to −87.5, 0
    /// below it, +∞ above 88.37), NaN for NaN. `x = n·ln 2 + r` with n = round(x·log₂e) and
    /// ln 2 in two parts (Cody & Waite), `eʳ` by its Taylor polynomial of degree 7
    /// (|r| ≤ ln 2 / 2, truncation below 6e-9), times 2ⁿ built in the exponent bits.
    @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        var clamped = x.replacing(with: -87.5, where: x .< -87.5)
        clamped.replace(with: 88.5, where: clamped .> 88.5)
        // 1.5·2²³ added and taken away rounds to the nearest integer; its low bits hold n.
        let magic = Vector(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = (clamped - n * 0.693_145_752) - n * 1.428_606_77e-6
        var p = Vector(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return (p * unsafeBitCast(exponent, to: Vector.self)).replacing(with: 0, where: x .< -87.5)
    }

    /// The standard normal CDF `Φ(x) = ½·erfc(−x/√2)`, within 4e-7 absolute. erfc by the
    /// Chebyshev fit of Press et al., *Numerical Recipes* (2nd ed., §6.2, `erfcc`, fractional
    /// error below 1.2e-7): `erfc(u) = t·exp(−u² + P(t))`, `t = 1/(1 + u/2)` for u ≥ 0; for
    /// x < 0, `Φ(x) = ½·erfc(|x|/√2)` directly, so the tail keeps its relative accuracy.
    @inline(__always)
    public static func normalCDF(_ x: Vector) -> Vector {
        let u = x.replacing(with: -x, where: x .< 0) * 0.707_106_781
        let t = 1 / (1 + 0.5 * u)
        var p = Vector(repeating: 0.170_872_77)
        p = p * t - 0.822_152_23
        p = p * t + 1.488_515_87
        p = p * t - 1.135_203_98
        p = p * t + 0.278_868_07
        p = p * t - 0.186_288_06
        p = p * t + 0.096_784_18
        p = p * t + 0.374_091_96
        p = p * t + 1.000_023_68
        p = p * t - 1.265_512_23
        let halfTail = 0.5 * t * exp(p - u * u)
        return halfTail.replacing(with: 1 - halfTail, where: x .>= 0)
    }

    /// `output[i] = body(input[i])` for `count` elements, 8 at a time (as the two-input `map`).
    @inline(__always)
    public static func map(
        _ count: Int, _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, _ body: (Vector) -> Vector
    ) {
        map(count, input, input, into: output) { x, _ in body(x) }
    }

    /// `output[i] = body(a[i], b[i])` for `count` elements, 8 at a time; the last partial
    /// vectors are read through zero-padded copies and only their `count % 8` results are
    /// written. `output` may be `a` or `b`.
    @inline(__always)
    public static func map(
        _ count: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        _ body: (Vector, Vector) -> Vector
    ) {
        let whole = count - count % 8
        var i = 0
        while i < whole {
            let y = body(UnsafeRawPointer(a + i).loadUnaligned(as: Vector.self), UnsafeRawPointer(b + i).loadUnaligned(as: Vector.self))
            UnsafeMutableRawPointer(output + i).storeBytes(of: y, as: Vector.self)
            i += 8
        }
        guard whole < count else { return }
        var lastA = Vector(), lastB = Vector()
        for j in whole..<count {
            lastA[j - whole] = a[j]
            lastB[j - whole] = b[j]
        }
        let y = body(lastA, lastB)
        for j in whole..<count { output[j] = y[j - whole] }
    }
}
