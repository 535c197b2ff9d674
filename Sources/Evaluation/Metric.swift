import Spec
import Layers
import Tensors

/// A classification metric as written in an experiment file (`metrics: [{type: …}]`), computed
/// over a whole evaluation by a streaming accumulator.
///
/// A metric reads the logits of each sample; predictive distributions that are not logits (MC
/// dropout's mean softmax, a calibrator's output) reach it as log-probabilities, whose softmax
/// is the distribution itself.
public protocol Metric: SpecKind, Codable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// The task the metric measures (default classification): a regression metric reads
    /// `RegressionBatch`es, a classification metric logits and labels.
    static var task: TaskKind { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// The exact definition with this instance's parameters (binning rule, averaging, which class
    /// is positive), as the report's methods section prints it and cell files store it.
    var definition: String { get }
    /// The metric's name in results (`accuracy`, `top_5_accuracy`, `f1_macro`): unique among the
    /// experiment's metrics; it names the metric's arrays (`/metric_arrays/<name>/…`).
    var name: String { get }
    /// The scalar columns the metric writes, in order (by default one: `name`). A metric that only
    /// writes arrays (the confusion matrix) has none.
    var columns: [MetricColumn] { get }
    /// Messages for parameters out of range or not fitting a task with `classCount` classes.
    func problems(classCount: Int) -> [String]
    func makeAccumulator() -> any MetricAccumulator
}

extension Metric {
    public static var task: TaskKind { .classification }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: true)] }
}

/// One scalar a metric writes, with the direction reports use to mark the best value.
public struct MetricColumn: Sendable, Equatable {
    public var name: String
    /// Whether larger values are better (ignored when `ideal` is set).
    public var higherIsBetter: Bool
    /// The best value when it is neither the largest nor the smallest (an interval's coverage
    /// is best at its nominal level): the closest value is best.
    public var ideal: Double?

    public init(_ name: String, higherIsBetter: Bool, ideal: Double? = nil) {
        self.name = name
        self.higherIsBetter = higherIsBetter
        self.ideal = ideal
    }
}

/// What a metric computed over one evaluation: one value per column, and arrays for reports
/// (per-class scores, reliability bins, curves).
public struct MetricResult: Sendable, Equatable {
    public var scalars: [Double]
    public var arrays: [MetricArray]

    public init(scalars: [Double], arrays: [MetricArray] = []) {
        self.scalars = scalars
        self.arrays = arrays
    }
}

/// An array a metric writes for one evaluation. Fixed arrays have the same shape in every
/// evaluation of a cell and are stored stacked `[E, shape…]`; curves are 1-D and of varying
/// length, stored concatenated with offsets.
public struct MetricArray: Sendable, Equatable {
    public enum Layout: Sendable, Equatable { case fixed([Int]), curve }
    public var name: String
    public var layout: Layout
    public var values: [Double]

    public init(_ name: String, shape: [Int], values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "array '\(name)' of shape \(shape) has \(values.count) values")
        self.name = name
        self.layout = .fixed(shape)
        self.values = values
    }

    public init(curve name: String, values: [Double]) {
        self.name = name
        self.layout = .curve
        self.values = values
    }
}

/// Accumulates a metric batch by batch; two accumulators of the same metric merge exactly.
public protocol MetricAccumulator: Sendable {
    /// Adds a classification batch (classification metrics only).
    mutating func add(logits: Tensor, labels: [Int])
    /// Adds a regression batch (regression metrics only).
    mutating func add(_ batch: RegressionBatch)
    /// Adds what `other` accumulated (it must come from the same metric).
    mutating func merge(_ other: any MetricAccumulator)
    /// The metric over everything added (`nan` scalars when nothing was).
    var result: MetricResult { get }
}

extension MetricAccumulator {
    // A metric only sees batches of its own task: the catalog rejects a metric that does not
    // fit the dataset's task before any run.
    public mutating func add(logits: Tensor, labels: [Int]) { preconditionFailure("a regression metric was given logits") }
    public mutating func add(_ batch: RegressionBatch) { preconditionFailure("a classification metric was given a regression batch") }

    /// The first scalar of the result (`nan` when the metric has none).
    public var value: Double { result.scalars.first ?? .nan }
}

/// A metric that is a mean of one number per sample: the accumulator keeps a sum and a count.
struct MeanAccumulator: MetricAccumulator {
    let perSample: @Sendable (_ logits: Tensor, _ labels: [Int]) -> Double
    var sum = 0.0
    var count = 0

    init(_ perSample: @escaping @Sendable (_ logits: Tensor, _ labels: [Int]) -> Double) {
        self.perSample = perSample
    }

    mutating func add(logits: Tensor, labels: [Int]) {
        sum += perSample(logits, labels)
        count += labels.count
    }

    mutating func merge(_ other: any MetricAccumulator) {
        guard let other = other as? MeanAccumulator else { preconditionFailure("merging accumulators of different metrics") }
        sum += other.sum
        count += other.count
    }

    var result: MetricResult { MetricResult(scalars: [count == 0 ? .nan : sum / Double(count)]) }
}

/// A metric that needs every sample at once (ranking metrics, equal-mass bins): the
/// accumulator keeps each sample's probabilities and label, and `compute` runs at the end.
/// Memory is `N × classes` floats; merging concatenates, so order within the data is kept.
struct SampleAccumulator: MetricAccumulator {
    let compute: @Sendable (_ samples: ProbabilityTable) -> MetricResult
    var samples = ProbabilityTable()

    init(_ compute: @escaping @Sendable (_ samples: ProbabilityTable) -> MetricResult) {
        self.compute = compute
    }

    mutating func add(logits: Tensor, labels: [Int]) { samples.append(logits: logits, labels: labels) }

    mutating func merge(_ other: any MetricAccumulator) {
        guard let other = other as? SampleAccumulator else { preconditionFailure("merging accumulators of different metrics") }
        samples.append(other.samples)
    }

    var result: MetricResult { compute(samples) }
}

/// Softmax probabilities `[count, classes]` (row-major, Double) with their labels.
public struct ProbabilityTable: Sendable, Equatable {
    public private(set) var probabilities: [Double] = []
    public private(set) var labels: [Int] = []
    public private(set) var classes = 0

    public init() {}

    public init(probabilities: [Double], labels: [Int], classes: Int) {
        precondition(probabilities.count == labels.count * classes)
        self.probabilities = probabilities
        self.labels = labels
        self.classes = classes
    }

    public var count: Int { labels.count }

    public mutating func append(logits: Tensor, labels: [Int]) {
        classes = logits.shape[1]
        probabilities += Kernels.softmax(logits).scalars.map(Double.init)
        self.labels += labels
    }

    public mutating func append(_ other: ProbabilityTable) {
        if other.count == 0 { return }
        classes = other.classes
        probabilities += other.probabilities
        labels += other.labels
    }

    public func row(_ index: Int) -> ArraySlice<Double> { probabilities[index * classes..<(index + 1) * classes] }

    /// The probability of `class` for every sample.
    public func column(_ c: Int) -> [Double] { (0..<count).map { probabilities[$0 * classes + c] } }

    /// The arg-max class per sample (ties to the lowest index) and its probability (the confidence).
    public func topLabel() -> (predicted: [Int], confidence: [Double]) {
        var predicted = [Int](repeating: 0, count: count), confidence = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var best = 0
            for c in 1..<classes where probabilities[i * classes + c] > probabilities[i * classes + best] { best = c }
            predicted[i] = best
            confidence[i] = probabilities[i * classes + best]
        }
        return (predicted, confidence)
    }
}
