import Spec
import Foundation
import Layers
import Tensors

/// The Square attack, L∞ or L2 (Andriushchenko, Croce, Flammarion & Hein, ECCV 2020): a
/// gradient-free random search that uses only the model's logits, so it is not fooled by
/// masked or obfuscated gradients. A robust accuracy far above Square's signals gradient masking.
///
/// - Loss: the margin `z_y − max_{k≠y} z_k`; a sample is fooled when it is negative.
/// - Start: vertical stripes, each column of each channel shifted by ±ε (random sign).
/// - Step `i` of `queries`: a random square window of side `round(√(p·H·W))` (at least 1, at most
///   H − 1) gets a new random ±ε per channel; the change is kept when the margin decreases.
///   `p` starts at `p_init` and halves at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000
///   of every 10,000 queries (the paper's schedule, rescaled to `queries`).
/// - L2 (`norm: l2`): windows carry the paper's pseudo-Gaussian pattern `η(s)` (two stacked
///   rectangles of opposite sign, each a sum of concentric rings weighted `1/(k+1)²`, unit L2
///   norm, transposed at random). Start: a grid of `⌊H/5⌋`-sided windows, each `η` times a random
///   sign per channel, scaled to norm ε. Query: side `s = max(round(√(p·H·W)), 3)` made odd; the
///   perturbation in a random window `W₁` becomes `η(s)·(±1) + δ_W₁/‖δ_W₁‖` per channel, rescaled
///   to `√(max(ε² − ‖δ‖², 0)/C + ‖δ_{W₁∪W₂}‖²)`, and a second random window `W₂` is zeroed (mass
///   moves between windows); the whole perturbation is then rescaled to norm ε and clipped. The
///   change is kept when the margin decreases or the sample is fooled.
/// - Fooled samples stop querying.
public struct SquareAttack: Attack, Equatable {
    public static let kind = "square"
    public static let defaults = ["norm": "linf", "queries": "1000", "p_init": "0.05 (L∞), 0.3 (L2)"]
    public static let summary = "Square attack, L∞ or L2, gradient-free random search on the margin loss (Andriushchenko et al. 2020)."
    /// The budget in pixel units: in [0, 1] for L∞, in [0, 100] for L2.
    public var epsilon: Float
    /// `linf` (default) or `l2`.
    public var norm: StandardNorm?
    /// Model queries per sample, ≥ 1 (default 1000).
    public var queries: Int?
    /// The initial fraction of pixels changed per query, in (0, 1] (default 0.05 for L∞, 0.3 for
    /// L2: the values AutoAttack uses).
    public var pInit: Float?

    public init(epsilon: Float, norm: StandardNorm? = nil, queries: Int? = nil, pInit: Float? = nil) {
        self.epsilon = epsilon
        self.norm = norm
        self.queries = queries
        self.pInit = pInit
    }

    var threat: AttackNorm { (norm ?? .linf).measure }
    var initialFraction: Float { pInit ?? (threat == .linf ? 0.05 : 0.3) }

    public func problems() -> [String] {
        var found: [String] = []
        if let problem = threat.epsilonProblem(epsilon) { found.append(problem) }
        if let queries, queries < 1 { found.append("queries must be ≥ 1, got \(queries)") }
        if let pInit, !(pInit > 0 && pInit <= 1) { found.append("p_init must be in (0, 1], got \(pInit)") }
        return found
    }

    public var label: String {
        var parts = ["epsilon=\(formatParameter(epsilon))"]
        if threat != .linf { parts.append("norm=\(threat.rawValue)") }
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
        if threat == .l2 { return perturbL2(images: images, labels: labels, model: model, rng: &rng) }
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
            let p = Self.fraction(initial: initialFraction, query: query, of: total)
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

    /// The L2 window pattern `η(s)` of side `s` (row-major, unit L2 norm, not yet transposed).
    static func window(_ s: Int) -> [Float] {
        func rectangle(_ rows: Int, _ columns: Int) -> [Float] {
            var delta = [Float](repeating: 0, count: rows * columns)
            var top = rows / 2, left = columns / 2
            for ring in 0..<max(rows / 2 + 1, columns / 2 + 1) {
                let weight = 1 / Float((ring + 1) * (ring + 1))
                for r in max(top, 0)..<min(top + 2 * ring + 1, rows) {
                    for c in max(left, 0)..<min(left + 2 * ring + 1, columns) { delta[r * columns + c] += weight }
                }
                top -= 1
                left -= 1
            }
            let length = delta.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return delta.map { $0 / max(length, 1e-12) }
        }
        let pattern = rectangle(s / 2, s) + rectangle(s - s / 2, s).map { -$0 }
        let length = pattern.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return pattern.map { $0 / max(length, 1e-12) }
    }

    /// `η(s)` and its transpose: one of them is drawn with probability 1/2 per window.
    static func windowPair(_ s: Int) -> (pattern: [Float], transposed: [Float]) {
        let pattern = window(s)
        return (pattern, (0..<(s * s)).map { i in pattern[(i % s) * s + i / s] })
    }

    /// Writes `clean + ε·δ/‖δ‖`, clipped to [0, 1], into `out` (the L2 attack's candidate for
    /// one sample; `δ`, `clean` and `out` have one image's length).
    static func onSphere(_ delta: [Float], around clean: UnsafeBufferPointer<Float>, epsilon: Float, into out: UnsafeMutableBufferPointer<Float>) {
        var squared: Float = 0
        for v in delta { squared += v * v }
        let length = max(squared.squareRoot(), 1e-12)
        for i in 0..<delta.count { out[i] = clip01(clean[i] + epsilon * delta[i] / length) }
    }

    /// The L2 attack of the type's documentation, per sample.
    func perturbL2(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor {
        let (channels, height, width) = images.imageGeometry
        let size = channels * height * width, plane = height * width
        let total = queries ?? 1000
        func sign(_ rng: inout RandomSource) -> Float { rng.nextUnitFloat() < 0.5 ? -1 : 1 }
        var x = images
        let side = max(height / 5, 1), margin0 = max(0, (height - side * 5) / 2)
        for n in 0..<labels.count {
            var delta = [Float](repeating: 0, count: size)
            var top = margin0
            for _ in 0..<(height / side) {
                var left = margin0
                for _ in 0..<(width / side) {
                    let pattern = Self.window(side)
                    for c in 0..<channels {
                        let s = sign(&rng)
                        for r in 0..<side where top + r < height {
                            for q in 0..<side where left + q < width { delta[c * plane + (top + r) * width + left + q] += s * pattern[r * side + q] }
                        }
                    }
                    left += side
                }
                top += side
            }
            let range = (n * size)..<((n + 1) * size)
            x.scalars.withUnsafeMutableBufferPointer { out in
                images.scalars.withUnsafeBufferPointer { clean in
                    Self.onSphere(
                        delta, around: UnsafeBufferPointer(rebasing: clean[range]), epsilon: epsilon, into: UnsafeMutableBufferPointer(rebasing: out[range]))
                }
            }
        }
        var margin = Self.margins(model.logits(x), labels: labels)
        for query in 1..<max(total, 1) {
            let open = (0..<labels.count).filter { margin[$0] > 0 }
            if open.isEmpty { break }
            let p = Self.fraction(initial: initialFraction, query: query, of: total)
            var s = max(Int((Float(plane) * p).squareRoot().rounded()), 3)
            if s % 2 == 0 { s += 1 }
            s = min(s, max(1, min(height, width) - 1))
            var candidate = x.gathering(rows: open)
            let windows = Self.windowPair(s)
            // The query's random draws first, in the serial order (per sample: the two windows'
            // corners, the pattern's orientation, a sign per channel), so that the samples'
            // arithmetic can run on the job's threads with the same result.
            var corners = [Int](repeating: 0, count: 4 * open.count)
            var transposed = [Bool](repeating: false, count: open.count)
            var signs = [Float](repeating: 0, count: channels * open.count)
            for row in open.indices {
                for k in 0..<4 { corners[4 * row + k] = rng.nextIndex(below: max(1, (k % 2 == 0 ? height : width) - s)) }
                transposed[row] = rng.nextUnitFloat() < 0.5
                for c in 0..<channels { signs[channels * row + c] = sign(&rng) }
            }
            x.scalars.withUnsafeBufferPointer { current in
                images.scalars.withUnsafeBufferPointer { clean in
                    candidate.scalars.withUnsafeMutableBufferPointer { out in
                        Parallel.forEach(open.count, grain: 16) { rows in
                            var delta = [Float](repeating: 0, count: size)
                            var old = [Float](repeating: 0, count: s * s)
                            var updates = [Float](repeating: 0, count: channels * s * s)
                            for row in rows {
                                let n = open[row]
                                for i in 0..<size { delta[i] = current[n * size + i] - clean[n * size + i] }
                                let top = corners[4 * row], left = corners[4 * row + 1], top2 = corners[4 * row + 2], left2 = corners[4 * row + 3]
                                var imageNorm: Float = 0, windowsNorm: Float = 0
                                for v in delta { imageNorm += v * v }
                                // ‖δ‖² over the union of the two windows: the first window, then the second's pixels outside it.
                                for c in 0..<channels {
                                    for r in 0..<s {
                                        for q in 0..<s {
                                            let v = delta[c * plane + (top + r) * width + left + q]
                                            windowsNorm += v * v
                                            let r2 = top2 + r, q2 = left2 + q
                                            if !((top..<(top + s)).contains(r2) && (left..<(left + s)).contains(q2)) {
                                                let v2 = delta[c * plane + r2 * width + q2]
                                                windowsNorm += v2 * v2
                                            }
                                        }
                                    }
                                }
                                let pattern = transposed[row] ? windows.transposed : windows.pattern
                                let target = (max(epsilon * epsilon - imageNorm, 0) / Float(channels) + windowsNorm).squareRoot()
                                for c in 0..<channels {
                                    for r in 0..<s {
                                        for q in 0..<s { old[r * s + q] = delta[c * plane + (top + r) * width + left + q] }
                                    }
                                    var oldNorm: Float = 0
                                    for v in old { oldNorm += v * v }
                                    oldNorm = oldNorm.squareRoot()
                                    let chosen = signs[channels * row + c]
                                    var length: Float = 0
                                    for i in 0..<(s * s) {
                                        let u = pattern[i] * chosen + old[i] / (oldNorm + 1e-12)
                                        updates[c * s * s + i] = u
                                        length += u * u
                                    }
                                    length = length.squareRoot()
                                    for i in 0..<(s * s) { updates[c * s * s + i] = updates[c * s * s + i] / (length + 1e-12) * target }
                                }
                                for c in 0..<channels {
                                    for r in 0..<s {
                                        for q in 0..<s { delta[c * plane + (top2 + r) * width + left2 + q] = 0 }
                                    }
                                }
                                for c in 0..<channels {
                                    for r in 0..<s {
                                        for q in 0..<s { delta[c * plane + (top + r) * width + left + q] = updates[c * s * s + r * s + q] }
                                    }
                                }
                                Self.onSphere(
                                    delta, around: UnsafeBufferPointer(rebasing: clean[(n * size)..<((n + 1) * size)]), epsilon: epsilon,
                                    into: UnsafeMutableBufferPointer(rebasing: out[(row * size)..<((row + 1) * size)]))
                            }
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
