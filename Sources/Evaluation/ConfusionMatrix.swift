import Spec
import Tensors

/// The confusion matrix: `counts[t][p]` is the number of samples of true class `t` whose
/// arg-max logit is class `p` (ties to the lowest index). Stored as the array `counts`
/// `[classes, classes]`, rows true, columns predicted (scikit-learn's orientation); no scalar.
public struct ConfusionMatrix: Metric, Equatable {
    public static let kind = "confusion_matrix"
    public static let summary = "Counts of (true class, predicted class) pairs, rows true and columns predicted; stored as an array."
    public var definition: String {
        "Confusion matrix: counts of (true class, predicted class) pairs, rows true and columns predicted (predicted = arg-max, ties to the lowest class)."
    }
    public init() {}
    public var name: String { "confusion_matrix" }
    public var columns: [MetricColumn] { [] }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator {
        ConfusionAccumulator { counts in MetricResult(scalars: [], arrays: [counts.array]) }
    }
}

/// Confusion counts, the sufficient statistics of accuracy, precision, recall and F1.
public struct ConfusionCounts: Sendable, Equatable {
    public private(set) var classes = 0
    /// Row-major `[true, predicted]`.
    public private(set) var counts: [Int] = []

    public init() {}

    public mutating func add(logits: Tensor, labels: [Int]) {
        if classes == 0 { classes = logits.shape[1]; counts = Array(repeating: 0, count: classes * classes) }
        for (predicted, label) in zip(logits.argMax(axis: 1), labels) { counts[label * classes + predicted] += 1 }
    }

    public mutating func merge(_ other: ConfusionCounts) {
        if other.classes == 0 { return }
        if classes == 0 { self = other; return }
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    public subscript(truth: Int, predicted: Int) -> Int { counts[truth * classes + predicted] }

    var array: MetricArray { MetricArray("counts", shape: [classes, classes], values: counts.map(Double.init)) }

    /// True positives, false positives and false negatives of class `c` (one-vs-rest).
    func outcomes(of c: Int) -> (tp: Int, fp: Int, fn: Int) {
        let tp = self[c, c]
        let predicted = (0..<classes).reduce(0) { $0 + self[$1, c] }
        let actual = (0..<classes).reduce(0) { $0 + self[c, $1] }
        return (tp, predicted - tp, actual - tp)
    }

    /// Whether class `c` occurs among the labels or the predictions (scikit-learn averages over
    /// those classes only).
    func occurs(_ c: Int) -> Bool {
        let o = outcomes(of: c)
        return o.tp + o.fp + o.fn > 0
    }

    /// Samples of true class `c`.
    func support(_ c: Int) -> Int { (0..<classes).reduce(0) { $0 + self[c, $1] } }
}

struct ConfusionAccumulator: MetricAccumulator {
    let compute: @Sendable (ConfusionCounts) -> MetricResult
    var counts = ConfusionCounts()

    init(_ compute: @escaping @Sendable (ConfusionCounts) -> MetricResult) { self.compute = compute }

    mutating func add(logits: Tensor, labels: [Int]) { counts.add(logits: logits, labels: labels) }

    mutating func merge(_ other: any MetricAccumulator) {
        guard let other = other as? ConfusionAccumulator else { preconditionFailure("merging accumulators of different metrics") }
        counts.merge(other.counts)
    }

    var result: MetricResult { compute(counts) }
}
