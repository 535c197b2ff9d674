import Foundation

/// A batch of regression predictions with their targets, row-major `[N, T]`: the predicted
/// mean, and where the predictor gives one, the predictive variance, split into its aleatoric
/// part (the variance head's `σ²`, averaged over passes or members) and its epistemic part (the
/// variance of the predicted means across passes or members). The predictive variance is their
/// sum, the variance of the mixture of the passes' Gaussians (Lakshminarayanan et al. 2017).
public struct RegressionBatch: Sendable, Equatable {
    public var mean: [Double]
    public var aleatoric: [Double]?
    public var epistemic: [Double]?
    public var targets: [Double]
    /// Targets per sample (T).
    public var targetCount: Int

    public init(mean: [Double], aleatoric: [Double]? = nil, epistemic: [Double]? = nil, targets: [Double], targetCount: Int) {
        precondition(targetCount > 0 && mean.count == targets.count && mean.count % targetCount == 0)
        precondition(aleatoric.map { $0.count == mean.count } ?? true && epistemic.map { $0.count == mean.count } ?? true)
        self.mean = mean
        self.aleatoric = aleatoric
        self.epistemic = epistemic
        self.targets = targets
        self.targetCount = targetCount
    }

    public var count: Int { mean.count / targetCount }

    /// The predictive variance per value, `nil` when the predictor gives none (a point-prediction
    /// model alone).
    public var variance: [Double]? {
        switch (aleatoric, epistemic) {
        case (nil, nil): nil
        case let (a?, nil): a
        case let (nil, e?): e
        case let (a?, e?): zip(a, e).map(+)
        }
    }

    /// Rows `range` of the batch.
    public func slice(_ range: Range<Int>) -> RegressionBatch {
        let values = (range.lowerBound * targetCount)..<(range.upperBound * targetCount)
        return RegressionBatch(
            mean: Array(mean[values]), aleatoric: aleatoric.map { Array($0[values]) },
            epistemic: epistemic.map { Array($0[values]) }, targets: Array(targets[values]), targetCount: targetCount)
    }
}

/// A regression metric that is a mean over every predicted value (`N × T` of them) of one
/// number per value; NaN when a value needs a variance the predictor does not give.
struct ValueMeanAccumulator: MetricAccumulator {
    let perValue: @Sendable (_ mean: Double, _ variance: Double?, _ target: Double) -> Double
    var sum = 0.0
    var count = 0

    init(_ perValue: @escaping @Sendable (_ mean: Double, _ variance: Double?, _ target: Double) -> Double) {
        self.perValue = perValue
    }

    mutating func add(_ batch: RegressionBatch) {
        let variance = batch.variance
        for i in batch.mean.indices { sum += perValue(batch.mean[i], variance?[i], batch.targets[i]) }
        count += batch.mean.count
    }

    mutating func merge(_ other: any MetricAccumulator) {
        guard let other = other as? ValueMeanAccumulator else { preconditionFailure("merging accumulators of different metrics") }
        sum += other.sum
        count += other.count
    }

    var result: MetricResult { MetricResult(scalars: [count == 0 ? .nan : sum / Double(count)]) }
}
