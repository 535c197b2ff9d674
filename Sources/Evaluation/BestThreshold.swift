/// Threshold tuning for two-class tasks: the threshold `t` on the probability of class 1
/// (predict class 1 when `p₁ ≥ t`) that maximises `criterion` over the evaluation's samples,
/// and the criterion there. `f1` (default) maximises F1 of class 1; `youden` maximises Youden's
/// J = TPR − FPR (Youden 1950). Candidate thresholds are the distinct scores; of equal maxima
/// the highest threshold wins. The optimum is in-sample: it says how well a tuned threshold can
/// do on these samples, not how a threshold tuned elsewhere transfers.
public struct BestThreshold: Metric, Equatable {
    public static let kind = "best_threshold"
    public static let summary = "Two-class threshold on p(class 1) maximising F1 or Youden's J, and the value reached."
    /// `f1` (default) or `youden`.
    public var criterion: String?

    public init(criterion: String? = nil) { self.criterion = criterion }

    var usesYouden: Bool { criterion == "youden" }
    public var name: String { usesYouden ? "threshold_youden" : "threshold_f1" }

    public var columns: [MetricColumn] {
        [MetricColumn(name, higherIsBetter: true), MetricColumn(usesYouden ? "youden_j" : "f1_at_threshold", higherIsBetter: true)]
    }

    public func problems(classCount: Int) -> [String] {
        var found: [String] = []
        if let criterion, !["f1", "youden"].contains(criterion) { found.append("criterion must be f1 or youden, got '\(criterion)'") }
        if classCount != 2 { found.append("best_threshold needs a two-class task; this dataset has \(classCount) classes") }
        return found
    }

    public func makeAccumulator() -> any MetricAccumulator {
        let youden = usesYouden
        return SampleAccumulator { samples in
            guard samples.count > 0 else { return MetricResult(scalars: [.nan, .nan]) }
            let ranking = BinaryRanking(scores: samples.column(1), isPositive: samples.labels.map { $0 == 1 })
            let best = youden ? ranking.bestYouden : ranking.bestF1
            return MetricResult(scalars: [best.threshold, best.value])
        }
    }
}
