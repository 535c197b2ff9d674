import Spec

/// Threshold tuning for two-class tasks: the threshold `t` on the probability of class 1
/// (predict class 1 when `p₁ ≥ t`) that maximises `criterion`, and the criterion there. `f1`
/// (default) maximises F1 of class 1; `youden` maximises Youden's J = TPR − FPR (Youden 1950).
/// Candidate thresholds are the distinct scores; of equal maxima the highest threshold wins.
///
/// Columns: `threshold_<criterion>`, the threshold tuned on the validation split (the runner
/// tunes it per predictor and calibration method, setting `tunedThreshold`); `<criterion>_at_threshold`,
/// the criterion of this evaluation's samples at that threshold (an honest estimate of a tuned
/// decision rule); and `<criterion>_oracle`, the best the criterion gets at any threshold on
/// these samples (in-sample, optimistic). Without a tuned threshold the first two are the
/// in-sample optimum as well.
public struct BestThreshold: Metric, Equatable {
    public static let kind = "best_threshold"
    public static let defaults = ["criterion": "f1"]
    public static let summary = "Two-class threshold on p(class 1) maximising F1 or Youden's J on the validation split, and the value it reaches."
    public var definition: String {
        let criterion = usesYouden ? "Youden's J = TPR − FPR" : "F1"
        return
            "Best threshold (two classes, class 1 positive): the threshold on p_1 maximising \(criterion) on the validation split's outputs of the same predictor and calibration; the evaluation reports that threshold, the criterion of its own samples at it, and the best criterion any threshold reaches on its samples (in-sample, optimistic)."
    }
    /// What the threshold maximises.
    public enum Criterion: String, ParameterChoice { case f1, youden }

    /// `f1` (default) or `youden`.
    public var criterion: Criterion?
    /// The threshold tuned on the validation split (set by the runner, not written in files).
    public var tunedThreshold: Double?

    public init(criterion: Criterion? = nil, tunedThreshold: Double? = nil) {
        self.criterion = criterion
        self.tunedThreshold = tunedThreshold
    }

    private enum CodingKeys: String, CodingKey { case criterion }

    var usesYouden: Bool { criterion == .youden }
    var criterionName: String { usesYouden ? "youden_j" : "f1" }
    public var name: String { usesYouden ? "threshold_youden" : "threshold_f1" }

    public var columns: [MetricColumn] {
        [
            MetricColumn(name, higherIsBetter: true), MetricColumn("\(criterionName)_at_threshold", higherIsBetter: true),
            MetricColumn("\(criterionName)_oracle", higherIsBetter: true),
        ]
    }

    public func problems(classCount: Int) -> [String] {
        var found: [String] = []
        if classCount != 2 { found.append("best_threshold needs a two-class task; this dataset has \(classCount) classes") }
        return found
    }

    /// The threshold maximising the criterion on `samples` (the validation split's outputs).
    public func tune(on samples: ProbabilityTable) -> Double {
        let ranking = BinaryRanking(scores: samples.column(1), isPositive: samples.labels.map { $0 == 1 })
        return (usesYouden ? ranking.bestYouden : ranking.bestF1).threshold
    }

    public func makeAccumulator() -> any MetricAccumulator {
        let youden = usesYouden, tuned = tunedThreshold
        return SampleAccumulator { samples in
            guard samples.count > 0 else { return MetricResult(scalars: [.nan, .nan, .nan]) }
            let ranking = BinaryRanking(scores: samples.column(1), isPositive: samples.labels.map { $0 == 1 })
            let best = youden ? ranking.bestYouden : ranking.bestF1
            guard let tuned else { return MetricResult(scalars: [best.threshold, best.value, best.value]) }
            let at = ranking.criteria(at: tuned)
            return MetricResult(scalars: [tuned, youden ? at.youden : at.f1, best.value])
        }
    }
}

extension BestThreshold: TunedOnValidation {
    public func tuned(on samples: ProbabilityTable) -> any Metric {
        var tuned = self
        tuned.tunedThreshold = tune(on: samples)
        return tuned
    }
}
