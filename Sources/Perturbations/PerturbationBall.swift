import Foundation
import Spec
import Tensors

/// The norm an attack's budget is measured in (APGD's `norm` parameter; L1 is APGD's only).
public enum AttackNorm: String, ParameterChoice {
    case linf, l2, l1

    /// The message when a budget lies outside [0, 1] (L∞), [0, 100] (L2) or [0, 10⁶] (L1)
    /// pixel units, else nil.
    func epsilonProblem(_ epsilon: Float) -> String? {
        let limit: Float = self == .linf ? 1 : self == .l2 ? 100 : 1_000_000
        guard !(0...limit).contains(epsilon) else { return nil }
        return "epsilon must be in [0, \(formatParameter(limit))] for \(rawValue) (pixel units, before any normalisation), got \(epsilon)"
    }
}

/// The norms of the attacks that have no L1 version (PGD, FAB, Square, AutoAttack): their
/// `norm` parameter takes `linf` or `l2` only.
public enum StandardNorm: String, ParameterChoice {
    case linf, l2

    /// The same norm as an `AttackNorm`.
    public var measure: AttackNorm { self == .linf ? .linf : .l2 }

    public static var unavailable: [String: String] {
        [
            "l1":
                "L1 is available for apgd only (L1-APGD, with epsilon_schedule: decreasing as in AutoAttack's L1 version); AutoAttack's L1 ensemble also needs FAB-T and Square in L1, which Gauntlet does not have"
        ]
    }
}

/// The set an attack may move each image in: the ε-ball of a norm around the clean image,
/// intersected with the valid pixel range [0, 1]. Batches are `[N, …]`; every operation is per
/// sample.
struct PerturbationBall {
    typealias Norm = AttackNorm

    var norm: Norm
    /// The radius in pixel units.
    var epsilon: Float

    /// `x` moved into the ball around `clean` and into [0, 1]. For L∞ each value is clamped;
    /// for L2 the whole perturbation is scaled down onto the sphere when outside, then clipped
    /// (clipping toward a valid clean image only shortens it); for L1 the Euclidean projection
    /// onto the intersection of the ball and the box (`projectL1`).
    func project(_ x: Tensor, around clean: Tensor) -> Tensor {
        var out = x
        let size = x.count / max(1, x.shape[0])
        var scratch: [Float] = []
        out.scalars.withUnsafeMutableBufferPointer { p in
            clean.scalars.withUnsafeBufferPointer { c in
                for n in 0..<x.shape[0] {
                    let range = (n * size)..<((n + 1) * size)
                    switch norm {
                    case .linf:
                        for i in range { p[i] = clip01(min(c[i] + epsilon, max(c[i] - epsilon, p[i]))) }
                    case .l2:
                        var squared: Float = 0
                        for i in range { squared += (p[i] - c[i]) * (p[i] - c[i]) }
                        let length = squared.squareRoot()
                        let scale = length > epsilon ? epsilon / length : 1
                        for i in range { p[i] = clip01(c[i] + (p[i] - c[i]) * scale) }
                    case .l1:
                        Self.projectL1(
                            UnsafeMutableBufferPointer(rebasing: p[range]), around: UnsafeBufferPointer(rebasing: c[range]), epsilon: epsilon,
                            scratch: &scratch)
                    }
                }
            }
        }
        return out
    }

    /// Moves `point` to the nearest point (Euclidean) of `{u : ‖u − clean‖₁ ≤ ε, 0 ≤ u ≤ 1}`;
    /// `clean` must lie in [0, 1]. With `y = point − clean`, each coordinate's reach toward its
    /// sign is `m_i = min(|y_i|, 1 − clean_i or clean_i)`. When `Σ m_i ≤ ε` the box clip is the
    /// answer; otherwise `u_i = clean_i + sign(y_i)·clip(|y_i| − λ, 0, m_i)` with λ > 0 the root of
    /// the decreasing piecewise-linear `Σ clip(|y_i| − λ, 0, m_i) = ε`, found by walking its
    /// sorted breakpoints (`|y_i| − m_i`, where a coordinate starts to shrink, and `|y_i|`, where
    /// it reaches zero). Coordinates with `m_i = 0` stay at `clean_i`, so the walk costs
    /// O(s log s) in the number `s` of moved coordinates. `scratch` is reused between calls.
    static func projectL1(_ point: UnsafeMutableBufferPointer<Float>, around clean: UnsafeBufferPointer<Float>, epsilon: Float, scratch: inout [Float]) {
        let size = point.count
        if scratch.count < 2 * size { scratch = [Float](repeating: 0, count: 2 * size) }
        var lambda: Double = 0
        scratch.withUnsafeMutableBufferPointer { buffer in
            // The moved coordinates' breakpoints: starts in buffer[0..<moved], ends from buffer[size].
            var total: Double = 0
            var moved = 0
            for i in 0..<size {
                let y = point[i] - clean[i]
                let reach = min(abs(y), y >= 0 ? 1 - clean[i] : clean[i])
                guard reach > 0 else { continue }
                total += Double(reach)
                buffer[moved] = abs(y) - reach
                buffer[size + moved] = abs(y)
                moved += 1
            }
            // Within the ball after the box clip: λ = 0.
            guard total > Double(epsilon) else { return }
            var starts = UnsafeMutableBufferPointer(rebasing: buffer[0..<moved])
            var ends = UnsafeMutableBufferPointer(rebasing: buffer[size..<(size + moved)])
            starts.sort()
            ends.sort()
            // The sum at λ is `value`, falling at `slope` (the coordinates shrinking) until the
            // next breakpoint; every coordinate has reached zero after the last end, so the
            // walk meets ε before running out.
            var value = total, slope: Double = 0
            var s = 0, e = 0
            while e < moved {
                let takeStart = s < moved && starts[s] <= ends[e]
                let next = Double(takeStart ? starts[s] : ends[e])
                let reached = value - slope * (next - lambda)
                if reached <= Double(epsilon), slope > 0 {
                    lambda += (value - Double(epsilon)) / slope
                    return
                }
                value = reached
                lambda = next
                if takeStart {
                    slope += 1
                    s += 1
                } else {
                    slope -= 1
                    e += 1
                }
            }
        }
        let shrink = Float(lambda)
        for i in 0..<size {
            let y = point[i] - clean[i]
            let reach = min(abs(y), y >= 0 ? 1 - clean[i] : clean[i])
            let length = min(max(abs(y) - shrink, 0), reach)
            point[i] = clean[i] + (y >= 0 ? length : -length)
        }
    }

    /// One steepest-ascent step of length `size` along `direction` (a loss gradient): the sign
    /// for L∞, the unit vector for L2, the sign divided by the number of nonzero coordinates for
    /// L1 (an L1 length of `size`). `sign` −1 descends (targeted attacks).
    func step(_ x: Tensor, along direction: Tensor, size: [Float], sign: Float = 1) -> Tensor {
        var out = x
        let count = x.count / max(1, x.shape[0])
        out.scalars.withUnsafeMutableBufferPointer { p in
            direction.scalars.withUnsafeBufferPointer { g in
                for n in 0..<x.shape[0] {
                    let range = (n * count)..<((n + 1) * count)
                    let length = sign * size[n]
                    switch norm {
                    case .linf:
                        for i in range { p[i] += length * (g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0)) }
                    case .l2:
                        var squared: Float = 0
                        for i in range { squared += g[i] * g[i] }
                        let scale = length / max(squared.squareRoot(), 1e-12)
                        for i in range { p[i] += scale * g[i] }
                    case .l1:
                        let nonzero = range.reduce(0) { $0 + (g[$1] != 0 ? 1 : 0) }
                        let scale = length / Float(max(nonzero, 1))
                        for i in range { p[i] += scale * (g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0)) }
                    }
                }
            }
        }
        return out
    }

    /// A random point of the ball around `clean`, within [0, 1]: uniform for L∞ and L2 (then
    /// clipped); for L1 a standard Gaussian step projected onto the ball (L1-APGD's start).
    func randomPoint(around clean: Tensor, rng: inout RandomSource) -> Tensor {
        var out = clean
        let count = clean.count / max(1, clean.shape[0])
        for n in 0..<clean.shape[0] {
            let range = (n * count)..<((n + 1) * count)
            switch norm {
            case .linf:
                for i in range { out.scalars[i] += rng.uniform(-epsilon, epsilon) }
            case .l2:
                // A Gaussian direction, radius ε·u^(1/d): uniform in the d-dimensional ball.
                let direction = range.map { _ in rng.normal() }
                let length = max(direction.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
                let radius = epsilon * Float(pow(Double(rng.nextUnitFloat()), 1 / Double(count)))
                for (offset, i) in range.enumerated() { out.scalars[i] += radius * direction[offset] / length }
            case .l1:
                for i in range { out.scalars[i] += rng.normal() }
            }
        }
        return project(out, around: clean)
    }
}

/// Per-sample cross-entropy and arg-max of a batch of logits `[N, classes]`.
func perSampleLoss(logits: Tensor, labels: [Int]) -> (loss: [Float], predicted: [Int]) {
    let classes = logits.shape[1]
    let logProbabilities = Kernels.logSoftmax(logits)
    let loss = labels.enumerated().map { row, label in -logProbabilities.scalars[row * classes + label] }
    return (loss, logits.argMax(axis: 1))
}

/// Copies sample `n` of `source` into sample `row` (default `n`) of `destination`.
func copySample(_ n: Int, from source: Tensor, into destination: inout Tensor, at row: Int? = nil) {
    let size = source.count / max(1, source.shape[0])
    let target = row ?? n
    destination.scalars.replaceSubrange((target * size)..<((target + 1) * size), with: source.scalars[(n * size)..<((n + 1) * size)])
}
