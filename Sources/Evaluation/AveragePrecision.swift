import Spec

/// Average precision (the step-wise area under the precision-recall curve, without
/// interpolation: `Σ_k (R_k − R_{k−1}) · P_k`; scikit-learn's `average_precision_score`).
///
/// Class 1 is positive for two classes; otherwise one-vs-rest per class, averaged `macro`
/// (default) or `weighted` by support, over the classes with at least one positive and one
/// negative. Curves (`precision`, `recall`, `threshold`, `class`) are stored thinned to at most
/// `curve_points` points per class (default 200, 0 stores none).
public struct AveragePrecision: RankingMetric, Equatable {
    public static let kind = "average_precision"
    public static let defaults = ["average": "macro (more than two classes only)", "curve_points": "200"]
    static let area = "Average precision: Σ_k (R_k − R_{k−1}) P_k over the thresholds in decreasing order (step-wise, no interpolation)."
    public static let summary = "Area under the precision-recall curve (step-wise); one-vs-rest averaged for more than two classes."
    static var value: KeyPath<BinaryRanking, Double> { \.averagePrecision }
    /// `macro` (default) or `weighted`; multi-class only.
    public var average: RankingAverage?
    /// Points per class kept of each stored curve, ≥ 0 (default 200; 0 stores no curve).
    public var curvePoints: Int?

    public init(average: RankingAverage? = nil, curvePoints: Int? = nil) {
        self.average = average
        self.curvePoints = curvePoints
    }

    static func curve(_ ranking: BinaryRanking) -> [(String, [Double])] {
        let (precision, recall, thresholds) = ranking.precisionRecall
        return [("precision", precision), ("recall", recall), ("threshold", thresholds)]
    }
}
