import Layers
import Tensors

/// Streaming accuracy and mean cross-entropy over batches; accumulators merge by addition.
///
/// - accuracy = (number of samples whose arg-max logit equals the label) / (number of samples);
///   ties go to the lowest class index.
/// - loss = mean over samples of `−log softmax(z)[y]` (natural log).
public struct ClassificationAccumulator: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var correct = 0
    public private(set) var lossSum = 0.0
    /// The predicted class of every sample, in the order seen.
    public private(set) var predictions: [Int] = []

    public init() {}

    public mutating func add(logits: Tensor, labels: [Int]) {
        let predicted = logits.argMax(axis: 1)
        let logProbabilities = Kernels.logSoftmax(logits)
        let classes = logits.shape[1]
        for (row, label) in labels.enumerated() {
            if predicted[row] == label { correct += 1 }
            lossSum -= Double(logProbabilities.scalars[row * classes + label])
        }
        count += labels.count
        predictions += predicted
    }

    public mutating func merge(_ other: ClassificationAccumulator) {
        count += other.count
        correct += other.correct
        lossSum += other.lossSum
        predictions += other.predictions
    }

    public var accuracy: Double { count == 0 ? .nan : Double(correct) / Double(count) }
    public var meanLoss: Double { count == 0 ? .nan : lossSum / Double(count) }
}

/// Runs predictors over a dataset, batch by batch, with an optional transformation of each
/// batch (a corruption or an attack) before the forward passes, and computes metrics from
/// their outputs.
public enum ClassificationEvaluation {
    /// Accuracy, mean cross-entropy and predictions (`summary`), and the value of every metric.
    public struct Result: Sendable {
        public var summary: ClassificationAccumulator
        public var metrics: [MetricResult]
        /// Every sample's logits `[N, classes]`, when asked for.
        public var logits: Tensor?
        /// The first inputs as the model saw them (after `transform`), when asked for.
        public var examples: Tensor?
    }

    /// What one predictor produced over a whole dataset.
    public struct Output {
        /// Scores whose softmax is the predictive distribution, `[N, classes]`.
        public var logits: Tensor
        /// Every `UncertaintyScore` of every sample, `[score][sample]` (empty unless asked for).
        public var scores: [[Double]]
        /// Per layer of `Predictor.recordedLayers`, the mean activation variance across passes.
        public var layerVariance: [Double]
    }

    /// The outputs of every predictor on the same (transformed) batches, and the first
    /// `keepExamples` transformed inputs. `rng` drives the stochastic predictors; the per-sample
    /// uncertainty scores are computed only `withScores`.
    public static func predict(
        _ predictors: [Predictor], images: Tensor, count: Int, batchSize: Int, keepExamples: Int = 0, rng: RandomSource,
        withScores: Bool = false, transform: ((Tensor, Range<Int>) -> Tensor)? = nil
    ) -> (outputs: [Output], examples: Tensor?) {
        var rng = rng
        var logits = predictors.map { _ in [Float]() }
        var scores = predictors.map { _ in withScores ? UncertaintyScore.allCases.map { _ in [Double]() } : [] }
        var variance = predictors.map { $0.recordedLayers.map { _ in 0.0 } }
        var classes = 0
        let examples = forEachBatch(of: images, count: count, batchSize: batchSize, keepExamples: keepExamples, transform: transform) { batch, _ in
            for (index, predictor) in predictors.enumerated() {
                let output = predictor.predict(batch, rng: &rng, withScores: withScores)
                classes = output.logits.shape[1]
                logits[index] += output.logits.scalars
                for s in output.scores.indices { scores[index][s] += output.scores[s] }
                for l in output.layerVariance.indices { variance[index][l] += output.layerVariance[l] }
            }
        }
        let outputs = predictors.indices.map { index in
            Output(
                logits: Tensor(shape: [count, classes], scalars: logits[index]), scores: scores[index],
                layerVariance: variance[index].map { $0 / Double(max(1, count)) })
        }
        return (outputs, examples)
    }

    /// Calls `body` with every batch of `batchSize` rows of `images` (transformed by `transform`)
    /// and its row range, in order; returns the first `keepExamples` transformed rows.
    static func forEachBatch(
        of images: Tensor, count: Int, batchSize: Int, keepExamples: Int,
        transform: ((Tensor, Range<Int>) -> Tensor)?, _ body: (Tensor, Range<Int>) -> Void
    ) -> Tensor? {
        var exampleRows: [Float] = []
        let exampleCount = min(keepExamples, count)
        for start in stride(from: 0, to: count, by: batchSize) {
            let range = start..<min(start + batchSize, count)
            var batch = images.slice(range)
            if let transform { batch = transform(batch, range) }
            if start < exampleCount { exampleRows += batch.slice(0..<min(batch.shape[0], exampleCount - start)).scalars }
            body(batch, range)
        }
        return exampleCount > 0 ? Tensor(shape: [exampleCount] + Array(images.shape.dropFirst()), scalars: exampleRows) : nil
    }

    /// Accuracy, loss, predictions and every metric of logits `[N, classes]`, fed to the
    /// accumulators in batches of `batchSize`.
    public static func score(logits: Tensor, labels: [Int], metrics: [any Metric], batchSize: Int = 1000) -> (
        summary: ClassificationAccumulator, metrics: [MetricResult]
    ) {
        var summary = ClassificationAccumulator()
        var accumulators = metrics.map { $0.makeAccumulator() }
        for start in stride(from: 0, to: labels.count, by: max(1, batchSize)) {
            let range = start..<min(start + batchSize, labels.count)
            let batch = logits.slice(range), batchLabels = Array(labels[range])
            summary.add(logits: batch, labels: batchLabels)
            for index in accumulators.indices { accumulators[index].add(logits: batch, labels: batchLabels) }
        }
        return (summary, accumulators.map(\.result))
    }

    /// The model in inference mode over a dataset: accuracy, loss, metrics, and optionally the
    /// logits and the first transformed inputs.
    public static func evaluate(
        model: Sequential, images: Tensor, labels: [Int], batchSize: Int, metrics: [any Metric] = [],
        keepLogits: Bool = false, keepExamples: Int = 0, transform: ((Tensor, [Int]) -> Tensor)? = nil
    ) -> Result {
        let (outputs, examples) = predict(
            [.model(model)], images: images, count: labels.count, batchSize: batchSize,
            keepExamples: keepExamples, rng: RandomSource(seed: 0),
            transform: transform.map { transform in { batch, range in transform(batch, Array(labels[range])) } })
        let logits = outputs[0].logits
        let (summary, results) = score(logits: logits, labels: labels, metrics: metrics, batchSize: batchSize)
        return Result(summary: summary, metrics: results, logits: keepLogits ? logits : nil, examples: examples)
    }
}
