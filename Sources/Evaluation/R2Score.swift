import Spec
import Layers

/// The coefficient of determination, `R² = 1 − Σ(y − μ)² / Σ(y − ȳ)²` per target, averaged
/// uniformly over targets (scikit-learn's `r2_score`, including its convention for a constant
/// target: 1 when predicted exactly, else 0). 1 is perfect, 0 is the mean's skill; higher is better.
public struct R2Score: Metric, Equatable {
    public static let kind = "r2"
    public static let summary = "Regression: coefficient of determination of the predicted mean, averaged over targets (higher is better, 1 is perfect)."
    public var definition: String {
        "R²: per target 1 − SSE/SST (SST about the target's mean on the evaluated samples), averaged over targets; a constant target scores 1 when predicted exactly, else 0 (scikit-learn's convention); higher is better."
    }
    public static var task: TaskKind { .regression }
    public init() {}
    public var name: String { "r2" }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator { Accumulator() }

    /// Per target: count, sum and sum of squares of the targets, and the squared errors; the
    /// total sum of squares is `Σy² − (Σy)²/n`, exact in Double for target scales in use.
    struct Accumulator: MetricAccumulator {
        var count = 0
        var sum: [Double] = [], sumOfSquares: [Double] = [], squaredError: [Double] = []

        mutating func add(_ batch: RegressionBatch) {
            let t = batch.targetCount
            if sum.isEmpty {
                (sum, sumOfSquares, squaredError) = ([Double](repeating: 0, count: t), [Double](repeating: 0, count: t), [Double](repeating: 0, count: t))
            }
            for i in batch.mean.indices {
                let y = batch.targets[i], e = y - batch.mean[i]
                sum[i % t] += y
                sumOfSquares[i % t] += y * y
                squaredError[i % t] += e * e
            }
            count += batch.count
        }

        mutating func merge(_ other: any MetricAccumulator) {
            guard let other = other as? Accumulator else { preconditionFailure("merging accumulators of different metrics") }
            if sum.isEmpty { self = other; return }
            if other.sum.isEmpty { return }
            count += other.count
            for t in sum.indices {
                sum[t] += other.sum[t]
                sumOfSquares[t] += other.sumOfSquares[t]
                squaredError[t] += other.squaredError[t]
            }
        }

        var result: MetricResult {
            guard count > 0 else { return MetricResult(scalars: [.nan]) }
            let n = Double(count)
            let perTarget = sum.indices.map { t -> Double in
                let total = max(0, sumOfSquares[t] - sum[t] * sum[t] / n)
                if total == 0 { return squaredError[t] == 0 ? 1 : 0 }
                return 1 - squaredError[t] / total
            }
            return MetricResult(scalars: [perTarget.reduce(0, +) / Double(perTarget.count)])
        }
    }
}
