import Spec

/// Precision `TP / (TP + FP)` per class (one-vs-rest), averaged by `average` (default macro);
/// the per-class values are stored as the array `per_class`. Named `precision_<average>`.
public struct Precision: PerClassMetric, Equatable {
    public static let kind = "precision"
    public static let defaults = ["average": "macro"]
    public static let summary = "Fraction of the samples predicted as a class that belong to it, per class and averaged (macro, micro or weighted)."
    static let score = PerClassScore.precision
    /// `macro` (default), `micro` or `weighted`.
    public var average: ClassAverage?

    public init(average: ClassAverage? = nil) { self.average = average }
}
