import Spec

/// The area under the ROC curve (Hanley & McNeil 1982), by the trapezoidal rule over the exact
/// curve, ties counting one half.
///
/// - Two classes: class 1 is positive and its softmax probability the score.
/// - More classes: one-vs-rest per class (score `p_c`, positives the samples of class `c`),
///   averaged by `average`: `macro` (default, unweighted) or `weighted` (by class support);
///   classes without positives or without negatives in the evaluation are left out.
///
/// The curves (`fpr`, `tpr`, `threshold`, `class` per point; threshold +∞ at (0, 0)) are stored
/// thinned to at most `curve_points` points per class (default 200, 0 stores none).
public struct AUROC: RankingMetric, Equatable {
    public static let kind = "auroc"
    public static let defaults = ["average": "macro (more than two classes only)", "curve_points": "200"]
    static let area =
        "AUROC: the exact area under the ROC curve (true-positive rate against false-positive rate over every threshold) by trapezoids, tied scores counting ½."
    public static let summary = "Area under the ROC curve; one-vs-rest averaged (macro or weighted) for more than two classes."
    static var value: KeyPath<BinaryRanking, Double> { \.auroc }
    /// `macro` (default) or `weighted`; multi-class only.
    public var average: RankingAverage?
    /// Points per class kept of each stored curve, ≥ 0 (default 200; 0 stores no curve).
    public var curvePoints: Int?

    public init(average: RankingAverage? = nil, curvePoints: Int? = nil) {
        self.average = average
        self.curvePoints = curvePoints
    }

    static func curve(_ ranking: BinaryRanking) -> [(String, [Double])] {
        let (fpr, tpr, thresholds) = ranking.roc
        return [("fpr", fpr), ("tpr", tpr), ("threshold", thresholds)]
    }
}
