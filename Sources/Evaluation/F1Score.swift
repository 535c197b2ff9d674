import Spec

/// F1 `2TP / (2TP + FP + FN)` (the harmonic mean of precision and recall) per class
/// (one-vs-rest), averaged by `average` (default macro); the per-class values are stored as the
/// array `per_class`. Named `f1_<average>`.
public struct F1Score: PerClassMetric, Equatable {
    public static let kind = "f1"
    public static let defaults = ["average": "macro"]
    public static let summary = "Harmonic mean of precision and recall, per class and averaged (macro, micro or weighted)."
    static let score = PerClassScore.f1
    /// `macro` (default), `micro` or `weighted`.
    public var average: ClassAverage?

    public init(average: ClassAverage? = nil) { self.average = average }
}
