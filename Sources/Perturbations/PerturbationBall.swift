import Foundation
import Spec
import Tensors

/// The norm an attack's budget is measured in.
public enum AttackNorm: String, ParameterChoice {
    case linf, l2

    /// The message when a budget lies outside [0, 1] (L∞) or [0, 100] (L2) pixel units, else nil.
    func epsilonProblem(_ epsilon: Float) -> String? {
        let limit: Float = self == .linf ? 1 : 100
        guard !(0...limit).contains(epsilon) else { return nil }
        return "epsilon must be in [0, \(formatParameter(limit))] for \(rawValue) (pixel units, before any normalisation), got \(epsilon)"
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
    /// (clipping toward a valid clean image only shortens it).
    func project(_ x: Tensor, around clean: Tensor) -> Tensor {
        var out = x
        let size = x.count / max(1, x.shape[0])
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
                    }
                }
            }
        }
        return out
    }

    /// One steepest-ascent step of length `size` along `direction` (a loss gradient): the sign
    /// for L∞, the unit vector for L2. `sign` −1 descends (targeted attacks).
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
                    }
                }
            }
        }
        return out
    }

    /// A uniformly random point of the ball around `clean` (then clipped to [0, 1]).
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
