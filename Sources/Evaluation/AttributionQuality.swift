import Foundation
import Layers
import Tensors

/// Measures of how faithful and how meaningful attribution maps are.
public enum AttributionQuality {
    /// Deletion and insertion curves (Petsiuk, Das & Saenko 2018, "RISE"): pixels (all channels
    /// of a position) are ranked by their attribution summed over channels, highest first. The
    /// deletion curve sets the top `k/steps` fraction of positions to `baseline` in the image;
    /// the insertion curve starts from the all-`baseline` image and restores them; both record the
    /// target's softmax probability at k = 0…steps. AUC is the trapezoidal area over the fraction
    /// in [0, 1]: a faithful map gives a low deletion AUC and a high insertion AUC.
    public struct Curves: Sendable {
        /// `[N][steps + 1]` probabilities.
        public var deletion: [[Double]]
        public var insertion: [[Double]]
        public var deletionAUC: [Double] { deletion.map(AttributionQuality.area) }
        public var insertionAUC: [Double] { insertion.map(AttributionQuality.area) }
    }

    public static func curves(_ model: Sequential, inputs: Tensor, targets: [Int], maps: Tensor, steps: Int, baseline: Float = 0) -> Curves {
        precondition(inputs.rank == 4 && maps.rank == 4 && maps.shape[0] == inputs.shape[0] && maps.shape[2...] == inputs.shape[2...])
        let (n, c, h, w) = (inputs.shape[0], inputs.shape[1], inputs.shape[2], inputs.shape[3])
        let positions = h * w, size = c * positions, mapChannels = maps.shape[1]
        var deleted: [Float] = [], inserted: [Float] = []
        deleted.reserveCapacity(n * (steps + 1) * size)
        inserted.reserveCapacity(n * (steps + 1) * size)
        for s in 0..<n {
            let image = Array(inputs.scalars[(s * size)..<((s + 1) * size)])
            let score = (0..<positions).map { p in (0..<mapChannels).reduce(Float(0)) { $0 + maps.scalars[(s * mapChannels + $1) * positions + p] } }
            let order = (0..<positions).sorted { score[$0] > score[$1] || (score[$0] == score[$1] && $0 < $1) }
            var removing = image, adding = [Float](repeating: baseline, count: size)
            var done = 0
            for k in 0...steps {
                let upTo = Int((Double(k) / Double(steps) * Double(positions)).rounded())
                while done < upTo {
                    let p = order[done]
                    for ch in 0..<c {
                        removing[ch * positions + p] = baseline
                        adding[ch * positions + p] = image[ch * positions + p]
                    }
                    done += 1
                }
                deleted += removing
                inserted += adding
            }
        }
        let rows = n * (steps + 1)
        let curveTargets = targets.flatMap { Array(repeating: $0, count: steps + 1) }
        func probabilities(_ values: [Float]) -> [[Double]] {
            let p = GradientChunks.targetLogits(model, inputs: Tensor(shape: [rows, c, h, w], scalars: values), targets: curveTargets, probabilities: true)
            return (0..<n).map { Array(p[($0 * (steps + 1))..<(($0 + 1) * (steps + 1))]) }
        }
        return Curves(deletion: probabilities(deleted), insertion: probabilities(inserted))
    }

    /// Trapezoidal area under a curve sampled at equal steps over [0, 1].
    public static func area(_ curve: [Double]) -> Double {
        guard curve.count > 1 else { return curve.first ?? .nan }
        let inner = curve.dropFirst().dropLast().reduce(0, +)
        return (inner + (curve.first! + curve.last!) / 2) / Double(curve.count - 1)
    }

    /// Spearman's rank correlation of two equally long lists (Pearson correlation of their
    /// ranks, ties sharing their mean rank); NaN when either is constant.
    public static func rankCorrelation(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        let ra = ranks(a), rb = ranks(b)
        let n = Double(a.count)
        let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var covariance = 0.0, va = 0.0, vb = 0.0
        for i in ra.indices {
            covariance += (ra[i] - ma) * (rb[i] - mb)
            va += (ra[i] - ma) * (ra[i] - ma)
            vb += (rb[i] - mb) * (rb[i] - mb)
        }
        return va > 0 && vb > 0 ? covariance / (va * vb).squareRoot() : .nan
    }

    /// 1-based ranks, ties averaged.
    static func ranks(_ values: [Float]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let mean = Double(start + end) / 2 + 1
            for k in start...end { result[order[k]] = mean }
            start = end + 1
        }
        return result
    }

    /// The model-randomisation sanity check (Adebayo et al. 2018): per sample, the rank
    /// correlation of the absolute maps of the trained model and of the same architecture with
    /// freshly initialised weights. A method that explains the model, not the image, scores low.
    public static func randomizationCorrelation(trained: Tensor, randomized: Tensor) -> [Double] {
        precondition(trained.shape == randomized.shape)
        let n = trained.shape[0], size = trained.count / max(1, n)
        return (0..<n).map { s in
            let range = (s * size)..<((s + 1) * size)
            return rankCorrelation(trained.scalars[range].map(abs), randomized.scalars[range].map(abs))
        }
    }

    /// Max-sensitivity (Yeh et al. 2019), normalised: per sample, the largest
    /// `‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂` over `perturbations` draws of `δ` uniform in the L∞ ball of
    /// `radius` (the perturbed image clipped to [0, 1]), for the same target. Lower is steadier.
    public static func sensitivity(
        _ method: any AttributionMethod, model: Sequential, inputs: Tensor, targets: [Int], maps: Tensor,
        perturbations: Int, radius: Float, rng: inout RandomSource
    ) -> [Double] {
        let n = inputs.shape[0], mapSize = maps.count / max(1, n)
        var noisy = repeatingRows(inputs, perturbations)
        for i in 0..<noisy.count { noisy.scalars[i] = min(1, max(0, noisy.scalars[i] + rng.uniform(-radius, radius))) }
        let perturbed = method.attribute(model, inputs: noisy, targets: targets.flatMap { Array(repeating: $0, count: perturbations) }, rng: &rng).maps
        return (0..<n).map { s in
            let reference = maps.scalars[(s * mapSize)..<((s + 1) * mapSize)]
            let norm = reference.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            var worst = 0.0
            for j in 0..<perturbations {
                let base = (s * perturbations + j) * mapSize
                var difference = 0.0
                for (i, value) in reference.enumerated() {
                    let d = Double(perturbed.scalars[base + i]) - Double(value)
                    difference += d * d
                }
                worst = max(worst, difference.squareRoot())
            }
            return norm > 0 ? worst / norm : .nan
        }
    }

    /// The display normalisation of a map: the 99th percentile of its absolute values (maps are
    /// shown as `map / scale` clipped to [−1, 1], Captum's 1% outlier rule); 0 for an all-zero map.
    public static func displayScale(_ maps: Tensor) -> [Double] {
        let n = maps.shape[0], size = maps.count / max(1, n)
        return (0..<n).map { s in
            let sorted = maps.scalars[(s * size)..<((s + 1) * size)].map { abs(Double($0)) }.sorted()
            return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((0.99 * Double(sorted.count - 1)).rounded()))]
        }
    }
}
