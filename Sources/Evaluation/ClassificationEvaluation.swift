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

/// Runs a model in inference mode over a dataset, batch by batch, with an optional
/// transformation of each batch (a corruption or an attack) before the forward pass.
public enum ClassificationEvaluation {
    /// Accuracy, mean cross-entropy and predictions (`summary`), and the value of every metric.
    public struct Result: Sendable {
        public var summary: ClassificationAccumulator
        public var metrics: [Double]
        /// Every sample's logits `[N, classes]`, when asked for.
        public var logits: Tensor?
        /// The first inputs as the model saw them (after `transform`), when asked for.
        public var examples: Tensor?
    }

    public static func evaluate(
        model: Sequential, images: Tensor, labels: [Int], batchSize: Int, metrics: [any Metric] = [],
        keepLogits: Bool = false, keepExamples: Int = 0, transform: ((Tensor, [Int]) -> Tensor)? = nil
    ) -> Result {
        var summary = ClassificationAccumulator()
        var accumulators = metrics.map { $0.makeAccumulator() }
        var logitRows: [Float] = []
        var exampleRows: [Float] = []
        let exampleCount = min(keepExamples, labels.count)
        for start in stride(from: 0, to: labels.count, by: batchSize) {
            let range = start..<min(start + batchSize, labels.count)
            let batchLabels = Array(labels[range])
            var batch = images.slice(range)
            if let transform { batch = transform(batch, batchLabels) }
            if start < exampleCount { exampleRows += batch.slice(0..<min(batch.shape[0], exampleCount - start)).scalars }
            let logits = model.logits(batch)
            if keepLogits { logitRows += logits.scalars }
            summary.add(logits: logits, labels: batchLabels)
            for index in accumulators.indices { accumulators[index].add(logits: logits, labels: batchLabels) }
        }
        let classes = logitRows.count / max(1, labels.count)
        return Result(
            summary: summary, metrics: accumulators.map(\.value),
            logits: keepLogits ? Tensor(shape: [labels.count, classes], scalars: logitRows) : nil,
            examples: exampleCount > 0 ? Tensor(shape: [exampleCount] + Array(images.shape.dropFirst()), scalars: exampleRows) : nil)
    }
}
