import Foundation
import Layers
import Tensors

/// Runs predictors over a regression dataset, batch by batch, with an optional transformation
/// of each batch (a corruption) before the forward passes, and computes regression metrics.
public enum RegressionEvaluation {
    /// The per-sample uncertainty scores of regression, each the mean over the sample's targets.
    public enum Score: String, CaseIterable, Sendable {
        /// The variance head's `σ²` (mean over passes); NaN without a variance head.
        case aleatoricVariance = "aleatoric_variance"
        /// The variance of the predicted means across MC-dropout passes or ensemble members; NaN
        /// for a single model.
        case epistemicVariance = "epistemic_variance"
        /// Their sum, the predictive variance; NaN when neither is given.
        case totalVariance = "total_variance"
    }

    /// What one predictor produced over a whole dataset.
    public struct Output: Sendable {
        /// The predictions with the dataset's targets.
        public var batch: RegressionBatch
        /// Per layer of `Predictor.recordedLayers`, the mean activation variance across passes.
        public var layerVariance: [Double]

        /// Every `Score` of every sample, `[score][sample]`.
        public var scores: [[Double]] {
            let t = batch.targetCount
            return [batch.aleatoric, batch.epistemic, batch.variance].map { values in
                (0..<batch.count).map { r in values.map { $0[(r * t)..<((r + 1) * t)].reduce(0, +) / Double(t) } ?? .nan }
            }
        }
    }

    /// The outputs of every predictor on the same (transformed) batches of `inputs`, with
    /// `targets` `[N, T]`, and the first `keepExamples` transformed inputs. `loss` tells whether
    /// the model's outputs carry a log-variance half.
    public static func predict(
        _ predictors: [Predictor], inputs: Tensor, targets: Tensor, loss: Loss, batchSize: Int, keepExamples: Int = 0,
        rng: RandomSource, transform: ((Tensor, Range<Int>) -> Tensor)? = nil
    ) -> (outputs: [Output], examples: Tensor?) {
        var rng = rng
        let count = targets.shape[0], targetCount = targets.shape[1]
        var batches = predictors.map { _ in [RegressionBatch]() }
        var variance = predictors.map { $0.recordedLayers.map { _ in 0.0 } }
        let examples = ClassificationEvaluation.forEachBatch(
            of: inputs, count: count, batchSize: batchSize, keepExamples: keepExamples,
            transform: transform
        ) { batch, range in
            for (index, predictor) in predictors.enumerated() {
                var (predicted, layerVariance) = predictor.predictRegression(batch, targets: targetCount, loss: loss, rng: &rng)
                predicted.targets = targets.slice(range).scalars.map(Double.init)
                batches[index].append(predicted)
                for l in layerVariance.indices { variance[index][l] += layerVariance[l] }
            }
        }
        let outputs = predictors.indices.map { index in
            Output(batch: concatenated(batches[index], targetCount: targetCount), layerVariance: variance[index].map { $0 / Double(max(1, count)) })
        }
        return (outputs, examples)
    }

    /// Every metric over `batch`, fed to the accumulators in slices of `batchSize` samples.
    public static func score(_ batch: RegressionBatch, metrics: [any Metric], batchSize: Int = 1000) -> [MetricResult] {
        var accumulators = metrics.map { $0.makeAccumulator() }
        for start in stride(from: 0, to: batch.count, by: max(1, batchSize)) {
            let slice = batch.slice(start..<min(start + batchSize, batch.count))
            for index in accumulators.indices { accumulators[index].add(slice) }
        }
        return accumulators.map(\.result)
    }

    /// The training objective's value on `batch` (mean squared error, or Gaussian NLL under the
    /// variance head's aleatoric variance), the number a learning curve compares with training.
    public static func loss(_ batch: RegressionBatch, _ loss: Loss) -> Double {
        let metric: any Metric = loss == .gaussianNLL ? GaussianNLL() : MeanSquaredError()
        var pointwise = batch
        pointwise.epistemic = nil
        return score(pointwise, metrics: [metric])[0].scalars[0]
    }

    static func concatenated(_ parts: [RegressionBatch], targetCount: Int) -> RegressionBatch {
        func joined(_ values: [[Double]?]) -> [Double]? { values.contains { $0 == nil } ? nil : values.flatMap { $0! } }
        return RegressionBatch(
            mean: parts.flatMap(\.mean), aleatoric: joined(parts.map(\.aleatoric)),
            epistemic: joined(parts.map(\.epistemic)), targets: parts.flatMap(\.targets), targetCount: targetCount)
    }
}
