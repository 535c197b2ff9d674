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
public struct AUROC: Metric, Equatable {
    public static let kind = "auroc"
    public static let summary = "Area under the ROC curve; one-vs-rest averaged (macro or weighted) for more than two classes."
    /// `macro` (default) or `weighted`; multi-class only.
    public var average: String?
    /// Points per class kept of each stored curve, ≥ 0 (default 200; 0 stores no curve).
    public var curvePoints: Int?

    public init(average: String? = nil, curvePoints: Int? = nil) {
        self.average = average
        self.curvePoints = curvePoints
    }

    public var name: String { average == "weighted" ? "auroc_weighted" : "auroc" }

    public func problems(classCount: Int) -> [String] {
        rankingProblems(average: average, curvePoints: curvePoints, classCount: classCount)
    }

    public func makeAccumulator() -> any MetricAccumulator {
        let weighted = average == "weighted", points = curvePoints ?? 200
        return SampleAccumulator { samples in
            oneVersusRest(samples, weighted: weighted, value: \.auroc) { ranking, c in
                let (fpr, tpr, thresholds) = ranking.roc
                let kept = thinned(fpr.count, limit: points)
                return [("fpr", kept.map { fpr[$0] }), ("tpr", kept.map { tpr[$0] }),
                        ("threshold", kept.map { thresholds[$0] }), ("class", kept.map { _ in Double(c) })]
            }
        }
    }
}

func rankingProblems(average: String?, curvePoints: Int?, classCount: Int) -> [String] {
    var found: [String] = []
    if let average, !["macro", "weighted"].contains(average) { found.append("average must be macro or weighted, got '\(average)'") }
    if average != nil, classCount == 2 { found.append("average applies to more than two classes; a two-class task has one positive class (class 1)") }
    if let curvePoints, curvePoints < 0 || curvePoints == 1 { found.append("curve_points must be 0 (no curve) or ≥ 2, got \(curvePoints)") }
    return found
}

/// A ranking metric over the samples: binary (class 1 positive) for two classes, else the
/// one-vs-rest average over the classes where it is defined, with each class's curve arrays.
func oneVersusRest(_ samples: ProbabilityTable, weighted: Bool, value: KeyPath<BinaryRanking, Double>,
                   curve: (BinaryRanking, Int) -> [(String, [Double])]) -> MetricResult {
    guard samples.count > 0 else { return MetricResult(scalars: [.nan]) }
    let classes = samples.classes == 2 ? [1] : Array(0..<samples.classes)
    var sum = 0.0, weights = 0.0
    var arrays: [(String, [Double])] = []
    for c in classes {
        let ranking = BinaryRanking(scores: samples.column(c), isPositive: samples.labels.map { $0 == c })
        guard ranking.isDefined else { continue }
        let weight = weighted ? Double(ranking.positives) : 1
        sum += weight * ranking[keyPath: value]
        weights += weight
        let points = curve(ranking, c)
        if arrays.isEmpty { arrays = points.map { ($0.0, []) } }
        for index in points.indices { arrays[index].1 += points[index].1 }
    }
    let stored = arrays.first.map { !$0.1.isEmpty } ?? false
    return MetricResult(scalars: [weights == 0 ? .nan : sum / weights],
                        arrays: stored ? arrays.map { MetricArray(curve: $0.0, values: $0.1) } : [])
}
