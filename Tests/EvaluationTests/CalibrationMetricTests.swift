import Evaluation
import Foundation
import Tensors
import Testing

/// Logits whose softmax is exactly `probabilities` (up to Float rounding): their logarithms.
func logits(probabilities rows: [[Double]]) -> Tensor {
    Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0.map { Float(log($0)) } })
}

func evaluate(_ metric: any Metric, _ logits: Tensor, _ labels: [Int]) -> MetricResult {
    var accumulator = metric.makeAccumulator()
    accumulator.add(logits: logits, labels: labels)
    return accumulator.result
}

@Suite struct CalibrationMetricTests {
    @Test func equalWidthBinsPutConfidenceOneInTheLastBin() {
        #expect(ReliabilityBins.equalWidthIndex(1.0, bins: 15) == 14)
        #expect(ReliabilityBins.equalWidthIndex(0.0, bins: 15) == 0)
        #expect(ReliabilityBins.equalWidthIndex(0.5, bins: 2) == 1)  // bins are [k/B, (k+1)/B)
        #expect(ReliabilityBins.equalWidthIndex(0.4999, bins: 2) == 0)
        // A sample of confidence 1.0 that is right: no calibration error, counted in bin 14.
        let result = evaluate(ExpectedCalibrationError(), logits(probabilities: [[1, 1e-30]]), [0])
        #expect(result.scalars[0] < 1e-6)
        let counts = result.arrays.first { $0.name == "bin_count" }!.values
        #expect(counts[14] == 1 && counts.reduce(0, +) == 1)
    }

    @Test func eceAndMceInClosedForm() {
        // Confidences 0.62 (right), 0.83 (wrong), 0.94 (right), 0.71 (right), away from bin edges.
        let rows: [[Double]] = [[0.62, 0.38], [0.17, 0.83], [0.94, 0.06], [0.29, 0.71]]
        let labels = [0, 0, 0, 1]
        let z = logits(probabilities: rows)
        // Two bins: all in [0.5, 1]: accuracy 3/4, mean confidence 0.775 → ECE 0.025.
        #expect(abs(evaluate(ExpectedCalibrationError(bins: 2), z, labels).scalars[0] - 0.025) < 1e-6)
        // Ten bins: one sample each in bins 6, 7, 8, 9 with gaps 0.38, 0.29, 0.83, 0.06 →
        // ECE = 1.56 / 4 = 0.39, MCE = 0.83.
        #expect(abs(evaluate(ExpectedCalibrationError(bins: 10), z, labels).scalars[0] - 0.39) < 1e-6)
        #expect(abs(evaluate(MaximumCalibrationError(bins: 10), z, labels).scalars[0] - 0.83) < 1e-6)
        // Equal mass, two bins: 0.62, 0.71 (both right) | 0.83 (wrong), 0.94 (right): gaps
        // |1 − 0.665| = 0.335 and |0.5 − 0.885| = 0.385 → ECE 0.36, MCE 0.385.
        let mass = evaluate(ExpectedCalibrationError(bins: 2, binning: .equalMass), z, labels)
        #expect(abs(mass.scalars[0] - 0.36) < 1e-6)
        #expect(abs(evaluate(MaximumCalibrationError(bins: 2, binning: .equalMass), z, labels).scalars[0] - 0.385) < 1e-6)
        #expect(mass.arrays.first { $0.name == "bin_lower" }!.values.map { ($0 * 1e6).rounded() / 1e6 } == [0.62, 0.83])
        #expect(ExpectedCalibrationError(bins: 2, binning: .equalMass).name == "ece_equal_mass_2_bins")
    }

    @Test func equalMassBinsSplitLikeArraySplit() {
        // Seven samples in three bins: sizes 3, 2, 2.
        let bins = ReliabilityBins(equalMass: 3, confidence: [0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.6], correct: Array(repeating: 1, count: 7))
        #expect(bins.count == [3, 2, 2])
        #expect(bins.lower == [0.1, 0.5, 0.7] && bins.upper == [0.3, 0.6, 0.9])
    }

    @Test func classwiseECEInClosedForm() {
        // Two classes, one bin: class 0 mean p = (0.6 + 0.2)/2 = 0.4, frequency 1/2 → 0.1; class 1
        // mean p 0.6, frequency 1/2 → 0.1. Classwise ECE = 0.1.
        let result = evaluate(ClasswiseCalibrationError(bins: 1), logits(probabilities: [[0.6, 0.4], [0.2, 0.8]]), [0, 1])
        #expect(abs(result.scalars[0] - 0.1) < 1e-6)
        #expect(ClasswiseCalibrationError().name == "classwise_ece")
    }

    @Test func brierScoreInClosedForm() {
        // (0.6−1)² + 0.4² = 0.32 and 0.2² + (0.8−1)² = 0.08 → mean 0.2.
        #expect(abs(evaluate(BrierScore(), logits(probabilities: [[0.6, 0.4], [0.2, 0.8]]), [0, 1]).scalars[0] - 0.2) < 1e-6)
    }

    @Test func perClassScoresUseZeroForUndefinedRatios() {
        // Class 2 is never predicted and never a label: left out of the macro average.
        // Class 1 is predicted once (wrongly) and never a label: precision 0, recall 0 (no positives).
        let l = Tensor(shape: [3, 3], scalars: [5, 0, 0, 0, 5, 0, 5, 0, 0])
        let labels = [0, 0, 0]
        let precision = evaluate(Precision(), l, labels)
        #expect(precision.arrays[0].values == [1, 0, 0])
        #expect(abs(precision.scalars[0] - 0.5) < 1e-12)  // (1 + 0) / 2 classes present
        #expect(abs(evaluate(Recall(average: .micro), l, labels).scalars[0] - 2.0 / 3) < 1e-12)
    }

    @Test func rankingInClosedForm() {
        // Scores 0.9 (+), 0.8 (−), 0.7 (+), 0.6 (−): pairs (+,−) ranked right 3 of 4 → AUROC 0.75.
        // AP = 1/2 · 1 + 1/2 · 2/3 = 5/6.
        let ranking = BinaryRanking(scores: [0.9, 0.8, 0.7, 0.6], isPositive: [true, false, true, false])
        #expect(abs(ranking.auroc - 0.75) < 1e-12)
        #expect(abs(ranking.averagePrecision - 5.0 / 6) < 1e-12)
        // Best F1: threshold 0.7 → TP 2, FP 1, FN 0 → 4/5. Youden: at 0.9 J = 0.5, at 0.7 J = 0.5 → the higher threshold.
        #expect(ranking.bestF1.threshold == 0.7 && abs(ranking.bestF1.value - 0.8) < 1e-12)
        #expect(ranking.bestYouden.threshold == 0.9 && abs(ranking.bestYouden.value - 0.5) < 1e-12)
        // All tied: the ROC is the diagonal, AUROC 1/2.
        #expect(abs(BinaryRanking(scores: [1, 1, 1, 1], isPositive: [true, false, true, false]).auroc - 0.5) < 1e-12)
        // To catch 95% of 20 positives scored 0…19, 19 of them, the threshold must be ≤ 1: all ten
        // negatives (10.5…19.5) are above it → FPR 1. Positives 100…119 are separated → FPR 0.
        let positives = Array(repeating: true, count: 20) + Array(repeating: false, count: 10)
        let negatives = (0..<10).map { 10.5 + Double($0) }
        let overlapping = BinaryRanking(scores: (0..<20).map(Double.init) + negatives, isPositive: positives)
        #expect(overlapping.falsePositiveRate(atTruePositiveRate: 0.95) == 1)
        let separated = BinaryRanking(scores: (0..<20).map { 100 + Double($0) } + negatives, isPositive: positives)
        #expect(separated.falsePositiveRate(atTruePositiveRate: 0.95) == 0 && separated.auroc == 1)
        #expect(BinaryRanking(scores: [0.1, 0.2], isPositive: [true, true]).auroc.isNaN)
    }

    @Test func thresholdNeedsTwoClasses() {
        #expect(BestThreshold().problems(classCount: 10) == ["best_threshold needs a two-class task; this dataset has 10 classes"])
        #expect(BestThreshold(criterion: .youden).columns.map(\.name) == ["threshold_youden", "youden_j_at_threshold", "youden_j_oracle"])
        #expect(AUROC(average: .weighted).problems(classCount: 2).count == 1)
    }

    @Test func aThresholdTunedElsewhereIsScoredAtThatThreshold() {
        // Scores 0.9 (+), 0.8 (−), 0.7 (+), 0.4 (−), 0.2 (+): in-sample best F1 is at 0.2
        // (TP 3, FP 2: F1 = 6/8); at 0.7: TP 2, FP 1, FN 1 → F1 = 4/6, J = 2/3 − 1/2.
        let ranking = BinaryRanking(scores: [0.9, 0.8, 0.7, 0.4, 0.2], isPositive: [true, false, true, false, true])
        #expect(ranking.bestF1.threshold == 0.2 && ranking.bestF1.value == 0.75)
        let at = ranking.criteria(at: 0.7)
        #expect(abs(at.f1 - 4.0 / 6) < 1e-12 && abs(at.youden - (2.0 / 3 - 0.5)) < 1e-12)
        // A threshold between stored scores counts the scores above it (0.9, 0.8: TP 1, FP 1,
        // FN 2 → F1 2/5); above every score, nothing.
        #expect(abs(ranking.criteria(at: 0.75).f1 - 2.0 / 5) < 1e-12 && ranking.criteria(at: 0.95).f1 == 0)
        // The metric: tuned threshold, the criterion there, and the in-sample optimum.
        let probabilities = [0.9, 0.8, 0.7, 0.4, 0.2].flatMap { [1 - $0, $0] }
        let samples = ProbabilityTable(probabilities: probabilities, labels: [1, 0, 1, 0, 1], classes: 2)
        #expect(BestThreshold().tune(on: samples) == 0.2)
        let logits = Tensor(shape: [5, 2], scalars: probabilities.map { Float(log($0)) })
        // (0.65 rather than 0.7: probabilities come back through log and softmax in Float.)
        let tuned = evaluate(BestThreshold(tunedThreshold: 0.65), logits, [1, 0, 1, 0, 1]).scalars
        #expect(tuned[0] == 0.65 && abs(tuned[1] - 4.0 / 6) < 1e-6 && abs(tuned[2] - 0.75) < 1e-6)
        let untuned = evaluate(BestThreshold(), logits, [1, 0, 1, 0, 1]).scalars
        #expect(abs(untuned[1] - 0.75) < 1e-6 && untuned[1] == untuned[2])
    }

    @Test func curvesAreThinnedWithBothEnds() {
        var rng = RandomSource(seed: 3)
        let l = Tensor.normal(shape: [500, 2], using: &rng)
        let labels = (0..<500).map { $0 % 2 }
        let full = evaluate(AUROC(curvePoints: 100_000), l, labels)
        let thin = evaluate(AUROC(curvePoints: 10), l, labels)
        #expect(thin.scalars == full.scalars)  // the area comes from the full curve
        let fpr = thin.arrays.first { $0.name == "fpr" }!.values
        #expect(fpr.count == 10 && fpr.first == 0 && fpr.last == 1)
        #expect(evaluate(AUROC(curvePoints: 0), l, labels).arrays.isEmpty)
    }
}
