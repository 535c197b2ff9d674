import Spec
import Foundation
import Layers
import Tensors

/// The Square attack, L∞ (Andriushchenko, Croce, Flammarion & Hein, ECCV 2020): a
/// gradient-free random search that uses only the model's logits, so it is not fooled by
/// masked or obfuscated gradients. A robust accuracy far above Square's signals gradient masking.
///
/// - Loss: the margin `z_y − max_{k≠y} z_k`; a sample is fooled when it is negative.
/// - Start: vertical stripes, each column of each channel shifted by ±ε (random sign).
/// - Step `i` of `queries`: a random square window of side `round(√(p·H·W))` (at least 1, at most
///   H − 1) gets a new random ±ε per channel; the change is kept when the margin decreases.
///   `p` starts at `p_init` and halves at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000
///   of every 10,000 queries (the paper's schedule, rescaled to `queries`).
/// - Fooled samples stop querying.
public struct SquareAttack: Attack, Equatable {
    public static let kind = "square"
    public static let defaults = ["queries": "1000", "p_init": "0.05"]
    public static let summary = "Square attack, L∞, gradient-free random search on the margin loss (Andriushchenko et al. 2020)."
    /// The L∞ budget in [0, 1] pixel units.
    public var epsilon: Float
    /// Model queries per sample, ≥ 1 (default 1000).
    public var queries: Int?
    /// The initial fraction of pixels changed per query, in (0, 1] (default 0.05).
    public var pInit: Float?

    public init(epsilon: Float, queries: Int? = nil, pInit: Float? = nil) {
        self.epsilon = epsilon
        self.queries = queries
        self.pInit = pInit
    }

    public func problems() -> [String] {
        var found: [String] = []
        if !(0...1).contains(epsilon) { found.append("epsilon must be in [0, 1] (pixel units, before any normalisation), got \(epsilon)") }
        if let queries, queries < 1 { found.append("queries must be ≥ 1, got \(queries)") }
        if let pInit, !(pInit > 0 && pInit <= 1) { found.append("p_init must be in (0, 1], got \(pInit)") }
        return found
    }

    public var label: String {
        var parts = ["epsilon=\(formatParameter(epsilon))"]
        if let queries { parts.append("queries=\(queries)") }
        if let pInit { parts.append("p_init=\(formatParameter(pInit))") }
        return "\(Self.kind)(\(parts.joined(separator: ",")))"
    }

    public var budget: Float? { epsilon }
    public var forwardPasses: Double { Double((queries ?? 1000) + 1) }

    /// The fraction of pixels changed at query `i` of `total`.
    static func fraction(initial: Float, query i: Int, of total: Int) -> Float {
        let scaled = Int(Double(i) / Double(total) * 10000)
        let halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter { scaled > $0 }.count
        return initial / Float(1 << halvings)
    }

    /// The margin `z_y − max_{k≠y} z_k` of each row.
    static func margins(_ logits: Tensor, labels: [Int]) -> [Float] {
        let classes = logits.shape[1]
        return labels.enumerated().map { row, label in
            let z = logits.scalars[(row * classes)..<((row + 1) * classes)]
            var other = -Float.infinity
            for (k, value) in zip(0..., z) where k != label { other = max(other, value) }
            return z[row * classes + label] - other
        }
    }

    public func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor {
        let (channels, height, width) = images.imageGeometry
        let size = channels * height * width
        let total = queries ?? 1000
        // Stripes: one sign per (image, channel, column).
        var x = images
        for n in 0..<labels.count {
            for c in 0..<channels {
                for column in 0..<width {
                    let shift: Float = rng.nextUnitFloat() < 0.5 ? -epsilon : epsilon
                    for row in 0..<height {
                        let i = n * size + (c * height + row) * width + column
                        x.scalars[i] = clip01(images.scalars[i] + shift)
                    }
                }
            }
        }
        var margin = Self.margins(model.logits(x), labels: labels)
        for query in 1..<max(total, 1) {
            let open = (0..<labels.count).filter { margin[$0] > 0 }
            if open.isEmpty { break }
            let p = Self.fraction(initial: pInit ?? 0.05, query: query, of: total)
            let side = min(max(Int((Float(height * width) * p).squareRoot().rounded()), 1), max(1, min(height, width) - 1))
            var candidate = x.gathering(rows: open)
            for (row, n) in open.enumerated() {
                let top = rng.nextIndex(below: height - side + 1), left = rng.nextIndex(below: width - side + 1)
                for c in 0..<channels {
                    let shift: Float = rng.nextUnitFloat() < 0.5 ? -epsilon : epsilon
                    for y in top..<(top + side) {
                        for column in left..<(left + side) {
                            let offset = (c * height + y) * width + column
                            candidate.scalars[row * size + offset] = clip01(images.scalars[n * size + offset] + shift)
                        }
                    }
                }
            }
            let newMargin = Self.margins(model.logits(candidate), labels: open.map { labels[$0] })
            for (row, n) in open.enumerated() where newMargin[row] < margin[n] {
                margin[n] = newMargin[row]
                copySample(row, from: candidate, into: &x, at: n)
            }
        }
        return x
    }
}
