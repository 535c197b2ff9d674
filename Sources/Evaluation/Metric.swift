import Tensors

/// A classification metric as written in an experiment file (`metrics: [{type: …}]`), computed
/// over a whole evaluation by a streaming accumulator.
public protocol Metric: Codable, Sendable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// The name of the metric's column and dataset (`accuracy`, `top_5_accuracy`).
    var name: String { get }
    /// Whether a larger value is better (reports mark the best value by it).
    var higherIsBetter: Bool { get }
    /// Messages for parameters out of range or not fitting a task with `classCount` classes.
    func problems(classCount: Int) -> [String]
    func makeAccumulator() -> any MetricAccumulator
}

/// Accumulates a metric batch by batch; two accumulators of the same metric merge exactly.
public protocol MetricAccumulator: Sendable {
    mutating func add(logits: Tensor, labels: [Int])
    /// Adds what `other` accumulated (it must come from the same metric).
    mutating func merge(_ other: any MetricAccumulator)
    /// The metric over everything added (`nan` when nothing was).
    var value: Double { get }
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

    var value: Double { count == 0 ? .nan : sum / Double(count) }
}
