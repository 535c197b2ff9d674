import Spec

/// Recall `TP / (TP + FN)` per class (one-vs-rest), averaged by `average` (default macro); the
/// per-class values are stored as the array `per_class`. Named `recall_<average>`.
public struct Recall: PerClassMetric, Equatable {
    public static let kind = "recall"
    public static let defaults = ["average": "macro"]
    public static let summary = "Fraction of the samples of a class predicted as it, per class and averaged (macro, micro or weighted)."
    static let score = PerClassScore.recall
    /// `macro` (default), `micro` or `weighted`.
    public var average: ClassAverage?

    public init(average: ClassAverage? = nil) { self.average = average }
}
