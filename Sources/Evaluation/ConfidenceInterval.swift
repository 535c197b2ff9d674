import Foundation
import Tensors

/// Confidence intervals on evaluation metrics.
///
/// - Accuracy: the exact binomial (Clopper–Pearson 1934) interval of `k` correct out of `n`:
///   lower `B⁻¹(α/2; k, n − k + 1)` (0 when k = 0), upper `B⁻¹(1 − α/2; k + 1, n − k)` (1 when
///   k = n), with `B⁻¹` the quantile of the Beta distribution and `α = 1 − level`.
/// - Every other column: the seeded percentile bootstrap (Efron 1979): `resamples` resamplings
///   of the N test samples with replacement, the metric recomputed on each; the interval is the
///   `α/2` and `1 − α/2` empirical quantiles (order statistics at ⌊α/2·B⌋ and ⌈(1 − α/2)·B⌉ − 1).
///   A resample where the column is undefined (NaN) is left out.
public enum ConfidenceInterval {
    public static func clopperPearson(successes k: Int, trials n: Int, level: Double) -> (low: Double, high: Double) {
        guard n > 0 else { return (.nan, .nan) }
        let alpha = 1 - level
        let low = k == 0 ? 0 : betaQuantile(alpha / 2, a: Double(k), b: Double(n - k + 1))
        let high = k == n ? 1 : betaQuantile(1 - alpha / 2, a: Double(k + 1), b: Double(n - k))
        return (low, high)
    }

    /// Percentile-bootstrap intervals of every scalar column of `metrics` over logits `[N, K]`:
    /// one `(low, high)` per column, in the metrics' column order.
    public static func bootstrap(
        logits: Tensor, labels: [Int], metrics: [any Metric], resamples: Int, level: Double,
        rng: inout RandomSource
    ) -> [(low: Double, high: Double)] {
        let n = labels.count
        let columns = metrics.reduce(0) { $0 + $1.columns.count }
        guard n > 0, resamples > 0 else { return Array(repeating: (.nan, .nan), count: columns) }
        var samples = Array(repeating: [Double](), count: columns)
        for _ in 0..<resamples {
            let rows = (0..<n).map { _ in rng.nextIndex(below: n) }
            let results = ClassificationEvaluation.score(
                logits: logits.gathering(rows: rows), labels: rows.map { labels[$0] },
                metrics: metrics, batchSize: n
            ).metrics
            for (column, value) in results.flatMap(\.scalars).enumerated() where !value.isNaN { samples[column].append(value) }
        }
        let alpha = 1 - level
        return samples.map { values in
            guard !values.isEmpty else { return (.nan, .nan) }
            let sorted = values.sorted()
            let low = min(sorted.count - 1, Int((alpha / 2 * Double(sorted.count)).rounded(.down)))
            let high = max(0, min(sorted.count - 1, Int(((1 - alpha / 2) * Double(sorted.count)).rounded(.up)) - 1))
            return (sorted[low], sorted[high])
        }
    }

    /// The `p`-quantile of Beta(a, b), by bisection on the regularised incomplete beta function
    /// (to 1e-12).
    public static func betaQuantile(_ p: Double, a: Double, b: Double) -> Double {
        var low = 0.0, high = 1.0
        for _ in 0..<100 {
            let middle = (low + high) / 2
            if regularizedIncompleteBeta(middle, a: a, b: b) < p { low = middle } else { high = middle }
            if high - low < 1e-12 { break }
        }
        return (low + high) / 2
    }

    /// `I_x(a, b)`, the CDF of Beta(a, b) at x, by its continued fraction (modified Lentz),
    /// using the symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` where the fraction converges faster.
    public static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let logFront = logPowers - logBeta
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var fraction = d
        for m in 1...500 {
            let m = Double(m)
            // Even step.
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            fraction *= d * c
            // Odd step.
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            fraction *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logFront) * fraction / a
    }
}
