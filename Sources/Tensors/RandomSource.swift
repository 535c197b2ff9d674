import Foundation

/// The only source of randomness in Gauntlet: xoshiro256** seeded through SplitMix64.
///
/// Generators are values passed `inout`; a trial derives one generator per purpose from its
/// seed with `derived(_:)`, so adding a random draw in one place never shifts another's stream.
/// Nothing here depends on Swift's per-process `Hasher`.
/// Source: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2021).
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    /// The seed this generator started from (recorded with results).
    public let seed: UInt64

    /// A generator whose stream is fully determined by `seed`.
    public init(seed: UInt64) {
        self.seed = seed
        var mixer = seed
        state = (Self.splitMix(&mixer), Self.splitMix(&mixer), Self.splitMix(&mixer), Self.splitMix(&mixer))
    }

    /// A generator for a named purpose (`"init"`, `"shuffle"`, …), independent of this one's stream.
    public func derived(_ purpose: String) -> RandomSource {
        RandomSource(seed: Self.deriveSeed(seed, purpose))
    }

    /// The seed for a named purpose: FNV-1a of the purpose's UTF-8 bytes mixed with `seed`.
    public static func deriveSeed(_ seed: UInt64, _ purpose: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in purpose.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        var mixer = seed ^ hash
        return splitMix(&mixer)
    }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9e37_79b9_7f4a_7c15
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A dropout mask of `count` elements: 0 with probability `p`, else `keep`. One word of this
    /// generator is drawn per mask, whatever its size: the key of a SplitMix64 stream whose
    /// output j decides elements 2j and 2j + 1 (`dropoutMaskElement`). So any part of a mask can be made
    /// alone (`elements:`), a vector of elements at a time with Gauntlet's kernels.
    public mutating func dropoutMask(count: Int, p: Float, keep: Float) -> [Float] {
        dropoutMask(count: count, p: p, keep: keep, elements: 0..<count)
    }

    /// The elements `range` of `dropoutMask(count:p:keep:)`, leaving the generator where
    /// drawing the whole mask leaves it (one word further).
    public mutating func dropoutMask(count: Int, p: Float, keep: Float, elements range: Range<Int>) -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "dropoutMask: elements \(range) of \(count)")
        let key = next()
        return [Float](unsafeUninitializedCapacity: range.count) { mask, initialized in
            if let kernels = MicroKernels.active, let out = mask.baseAddress {
                kernels.dropoutMask(key: key, elements: range, p: p, keep: keep, into: out)
            } else {
                for i in range { mask[i - range.lowerBound] = Self.dropoutMaskElement(key: key, index: i, p: p, keep: keep) }
            }
            initialized = range.count
        }
    }

    /// `x` (of `range.count` elements) times the elements `range` of the mask that
    /// `dropoutMask(count:p:keep:elements:)` makes, and that mask; the generator moves as for
    /// the mask alone. One pass over memory with Gauntlet's kernels.
    public mutating func dropout(_ x: Tensor, count: Int, p: Float, keep: Float, elements range: Range<Int>) -> (output: Tensor, mask: Tensor) {
        precondition(x.count == range.count, "dropout: \(x.count) elements for mask elements \(range)")
        guard let kernels = MicroKernels.active, !range.isEmpty else {
            let mask = dropoutMask(count: count, p: p, keep: keep, elements: range)
            return (Tensor(shape: x.shape, scalars: zip(x.scalars, mask).map { $0 * $1 }), Tensor(shape: x.shape, scalars: mask))
        }
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "dropout: elements \(range) of \(count)")
        let key = next()
        var mask = [Float](unsafeUninitializedCapacity: range.count) { _, initialized in initialized = range.count }
        let output = [Float](unsafeUninitializedCapacity: range.count) { out, initialized in
            x.scalars.withUnsafeBufferPointer { input in
                mask.withUnsafeMutableBufferPointer { m in
                    kernels.dropout(
                        key: key, elements: range, p: p, keep: keep, input: input.baseAddress!,
                        output: out.baseAddress!, mask: m.baseAddress!)
                }
            }
            initialized = range.count
        }
        return (Tensor(shape: x.shape, scalars: output), Tensor(shape: x.shape, scalars: mask))
    }

    /// Element `index` of the dropout mask with `key`: 0 when its 24 bits, as a fraction of
    /// 2²⁴, are below `p`; else `keep`. Elements 2j and 2j + 1 share SplitMix64's output j from
    /// `key`: the first takes its bits 40–63, the second its bits 16–39.
    public static func dropoutMaskElement(key: UInt64, index: Int, p: Float, keep: Float) -> Float {
        var z = key &+ (UInt64(index >> 1) &+ 1) &* 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        let bits = index & 1 == 0 ? z >> 40 : (z >> 16) & 0xff_ffff
        return Float(bits) * (1.0 / 16_777_216.0) < p ? 0 : keep
    }

    /// A uniform Float in `[low, high)`.
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * nextUnitFloat()
    }

    /// A standard normal sample (Box–Muller on two uniform doubles).
    public mutating func normal() -> Float {
        let first = next()
        return Self.boxMuller(first, next())
    }

    /// `count` standard normal samples: the same values, in the same order, as `count` calls of
    /// `normal()`. Block by block (2¹⁶ samples, so the scratch stays at 1 MiB), the generator's
    /// words are drawn in order on this thread and the transform (a logarithm, a square root and
    /// a cosine each) is split over the job's threads.
    public mutating func normals(count: Int) -> [Float] {
        let block = 1 << 16
        var words = [UInt64](repeating: 0, count: 2 * min(count, block))
        return [Float](unsafeUninitializedCapacity: count) { samples, initialized in
            let out = samples.baseAddress!
            for start in stride(from: 0, to: count, by: block) {
                let size = min(block, count - start)
                for i in 0..<2 * size { words[i] = next() }
                words.withUnsafeBufferPointer { w in
                    // Each part writes its own range of the block's samples.
                    Parallel.forEach(size, grain: 1 << 12) { range in
                        for i in range { out[start + i] = Self.boxMuller(w[2 * i], w[2 * i + 1]) }
                    }
                }
            }
            initialized = count
        }
    }

    /// Box–Muller on two words: `√(−2 ln u₁) · cos(2π u₂)`, `u₁` in (0, 1], `u₂` in [0, 1).
    @inline(__always)
    static func boxMuller(_ first: UInt64, _ second: UInt64) -> Float {
        let u1 = (Double(first >> 11) + 1) * (1.0 / 9_007_199_254_740_993.0)  // (0, 1]
        let u2 = Double(second >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// A uniform integer in `0..<bound`.
    public mutating func nextIndex(below bound: Int) -> Int {
        Int(next(upperBound: UInt64(bound)))
    }

    /// A uniformly random permutation of `0..<count` (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count < 2 { return order }
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, nextIndex(below: i + 1))
        }
        return order
    }
}

extension Tensor {
    /// A tensor of independent uniform samples in `[low, high)`.
    public static func uniform(shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomSource) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.scalars[i] = rng.uniform(low, high) }
        return t
    }

    /// A tensor of independent normal samples with the given mean and standard deviation.
    public static func normal(shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomSource) -> Tensor {
        Tensor(shape: shape, scalars: rng.normals(count: shape.reduce(1, *)).map { mean + std * $0 })
    }
}
