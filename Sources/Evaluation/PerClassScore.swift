import Spec

/// How per-class scores become one number (scikit-learn's `average=`).
///
/// - `macro`: the unweighted mean over the classes that occur among the labels or the
///   predictions;
/// - `weighted`: the mean over the same classes weighted by their number of true samples;
/// - `micro`: the score of the pooled counts `ΣTP, ΣFP, ΣFN` (for single-label classification
///   micro precision, recall and F1 all equal accuracy).
public enum ClassAverage: String, ParameterChoice {
    case macro, micro, weighted
}

/// Precision, recall and F1 of one class from its one-vs-rest counts. A score whose
/// denominator is 0 is 0 (scikit-learn's `zero_division=0`).
enum PerClassScore: String, Sendable {
    case precision, recall, f1

    var title: String {
        switch self {
        case .precision: "Precision"
        case .recall: "Recall"
        case .f1: "F1"
        }
    }

    /// The one-vs-rest formula, for definitions.
    var formula: String {
        switch self {
        case .precision: "TP/(TP + FP)"
        case .recall: "TP/(TP + FN)"
        case .f1: "2TP/(2TP + FP + FN)"
        }
    }

    func value(tp: Int, fp: Int, fn: Int) -> Double {
        let (numerator, denominator): (Int, Int)
        switch self {
        case .precision: (numerator, denominator) = (tp, tp + fp)
        case .recall: (numerator, denominator) = (tp, tp + fn)
        case .f1: (numerator, denominator) = (2 * tp, 2 * tp + fp + fn)
        }
        return denominator == 0 ? 0 : Double(numerator) / Double(denominator)
    }

    /// The averaged score (a scalar) and the score of every class (the array `per_class`,
    /// `[classes]`, 0 for classes absent from labels and predictions).
    func result(_ counts: ConfusionCounts, average: ClassAverage) -> MetricResult {
        guard counts.classes > 0 else { return MetricResult(scalars: [.nan]) }
        let classes = 0..<counts.classes
        let perClass = classes.map { c in counts.outcomes(of: c) }.map { value(tp: $0.tp, fp: $0.fp, fn: $0.fn) }
        let present = classes.filter(counts.occurs)
        let averaged: Double
        switch average {
        case .macro:
            averaged = present.reduce(0) { $0 + perClass[$1] } / Double(max(1, present.count))
        case .weighted:
            let total = present.reduce(0) { $0 + counts.support($1) }
            averaged = total == 0 ? 0 : present.reduce(0) { $0 + perClass[$1] * Double(counts.support($1)) } / Double(total)
        case .micro:
            let pooled = classes.map(counts.outcomes).reduce((0, 0, 0)) { ($0.0 + $1.tp, $0.1 + $1.fp, $0.2 + $1.fn) }
            averaged = value(tp: pooled.0, fp: pooled.1, fn: pooled.2)
        }
        return MetricResult(scalars: [averaged], arrays: [MetricArray("per_class", shape: [counts.classes], values: perClass)])
    }
}

/// The shared shape of the precision, recall and F1 kinds.
protocol PerClassMetric: Metric {
    static var score: PerClassScore { get }
    var average: ClassAverage? { get }
}

extension PerClassMetric {
    var averaging: ClassAverage { average ?? .macro }
    public var name: String { "\(Self.kind)_\(averaging.rawValue)" }
    public var definition: String {
        let averaged =
            switch averaging {
            case .macro: "the unweighted mean over the classes present among labels or predictions"
            case .micro: "computed from the counts pooled over classes"
            case .weighted: "the mean over the classes present weighted by their number of true samples"
            }
        return
            "\(Self.score.title) (\(averaging.rawValue)): \(Self.score.formula), one-vs-rest per class, a zero denominator giving 0; \(averaged) (scikit-learn's convention)."
    }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator {
        let average = averaging
        return ConfusionAccumulator { Self.score.result($0, average: average) }
    }
}
