/// How well an uncertainty score separates out-of-distribution inputs from in-distribution
/// ones. **The positive class is out-of-distribution**; scores are oriented so that higher
/// means more likely OOD (`UncertaintyScore.detectionScore`).
///
/// - `auroc`: area under the ROC curve (threshold-free; 0.5 is chance);
/// - `aupr`: average precision with OOD as positive (AUPR-Out; chance is the OOD fraction);
/// - `fpr_at_95_tpr`: the fraction of in-distribution samples flagged as OOD at the highest
///   threshold that flags at least 95% of the OOD samples (lower is better).
public struct OutOfDistributionDetection: Sendable, Equatable {
    public var auroc: Double
    public var aupr: Double
    public var falsePositiveRateAt95: Double

    public init(inDistribution: [Double], outOfDistribution: [Double]) {
        let ranking = BinaryRanking(
            scores: inDistribution + outOfDistribution,
            isPositive: inDistribution.map { _ in false } + outOfDistribution.map { _ in true })
        auroc = ranking.auroc
        aupr = ranking.averagePrecision
        falsePositiveRateAt95 = ranking.falsePositiveRate(atTruePositiveRate: 0.95)
    }
}
