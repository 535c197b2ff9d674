/// Average precision (the step-wise area under the precision-recall curve, without
/// interpolation: `Σ_k (R_k − R_{k−1}) · P_k`; scikit-learn's `average_precision_score`).
///
/// Class 1 is positive for two classes; otherwise one-vs-rest per class, averaged `macro`
/// (default) or `weighted` by support, over the classes with at least one positive and one
/// negative. Curves (`precision`, `recall`, `threshold`, `class`) are stored thinned to at most
/// `curve_points` points per class (default 200, 0 stores none).
public struct AveragePrecision: Metric, Equatable {
    public static let kind = "average_precision"
    public static let summary = "Area under the precision-recall curve (step-wise); one-vs-rest averaged for more than two classes."
    /// `macro` (default) or `weighted`; multi-class only.
    public var average: String?
    /// Points per class kept of each stored curve, ≥ 0 (default 200; 0 stores no curve).
    public var curvePoints: Int?

    public init(average: String? = nil, curvePoints: Int? = nil) {
        self.average = average
        self.curvePoints = curvePoints
    }

    public var name: String { average == "weighted" ? "average_precision_weighted" : "average_precision" }

    public func problems(classCount: Int) -> [String] {
        rankingProblems(average: average, curvePoints: curvePoints, classCount: classCount)
    }

    public func makeAccumulator() -> any MetricAccumulator {
        let weighted = average == "weighted", points = curvePoints ?? 200
        return SampleAccumulator { samples in
            oneVersusRest(samples, weighted: weighted, value: \.averagePrecision) { ranking, c in
                let (precision, recall, thresholds) = ranking.precisionRecall
                let kept = thinned(precision.count, limit: points)
                return [("precision", kept.map { precision[$0] }), ("recall", kept.map { recall[$0] }),
                        ("threshold", kept.map { thresholds[$0] }), ("class", kept.map { _ in Double(c) })]
            }
        }
    }
}
