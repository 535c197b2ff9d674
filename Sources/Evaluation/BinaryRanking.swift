/// The confusion counts of a score-based binary decision at every distinct threshold: a
/// sample is called positive when its score is ≥ the threshold. The basis of ROC and
/// precision-recall curves, AUROC, average precision and threshold tuning.
///
/// Thresholds are the distinct scores in decreasing order; `tp[k]` and `fp[k]` count the
/// positives and negatives scoring ≥ `thresholds[k]`. Ties share one threshold, so tied scores
/// move the curve diagonally (scikit-learn's convention).
public struct BinaryRanking: Sendable {
    public private(set) var thresholds: [Double] = []
    public private(set) var tp: [Int] = []
    public private(set) var fp: [Int] = []
    public let positives: Int
    public let negatives: Int

    public init(scores: [Double], isPositive: [Bool]) {
        precondition(scores.count == isPositive.count)
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        positives = isPositive.filter { $0 }.count
        negatives = isPositive.count - positives
        var truePositives = 0, falsePositives = 0
        for (rank, index) in order.enumerated() {
            if isPositive[index] { truePositives += 1 } else { falsePositives += 1 }
            let last = rank + 1 == order.count || scores[order[rank + 1]] != scores[index]
            if last {
                thresholds.append(scores[index])
                tp.append(truePositives)
                fp.append(falsePositives)
            }
        }
    }

    /// Whether both classes occur (otherwise ROC-based quantities are undefined).
    public var isDefined: Bool { positives > 0 && negatives > 0 }

    /// The ROC curve from (0, 0) at threshold +∞ to (1, 1): false and true positive rates.
    public var roc: (fpr: [Double], tpr: [Double], thresholds: [Double]) {
        let fpr = [0] + fp.map { Double($0) / Double(negatives) }
        let tpr = [0] + tp.map { Double($0) / Double(positives) }
        return (fpr, tpr, [.infinity] + thresholds)
    }

    /// The area under the ROC curve by the trapezoidal rule (ties count one half, so it equals
    /// the Mann–Whitney probability that a random positive outscores a random negative);
    /// `nan` when a class is missing.
    public var auroc: Double {
        guard isDefined else { return .nan }
        let (fpr, tpr, _) = roc
        var area = 0.0
        for k in 1..<fpr.count { area += (fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1]) / 2 }
        return area
    }

    /// Precision and recall at every threshold (decreasing threshold, so increasing recall).
    public var precisionRecall: (precision: [Double], recall: [Double], thresholds: [Double]) {
        let precision = zip(tp, fp).map { Double($0) / Double($0 + $1) }
        let recall = tp.map { Double($0) / Double(max(1, positives)) }
        return (precision, recall, thresholds)
    }

    /// Average precision `Σ_k (R_k − R_{k−1}) · P_k` over the thresholds, with `R_0 = 0`: the
    /// step-wise area under the precision-recall curve, without interpolation (scikit-learn's
    /// `average_precision_score`); `nan` without positives.
    public var averagePrecision: Double {
        guard positives > 0 else { return .nan }
        let (precision, recall, _) = precisionRecall
        var previous = 0.0, sum = 0.0
        for k in recall.indices {
            sum += (recall[k] - previous) * precision[k]
            previous = recall[k]
        }
        return sum
    }

    /// The false positive rate at the first threshold whose true positive rate reaches `rate`
    /// (for out-of-distribution detection, `rate` = 0.95).
    public func falsePositiveRate(atTruePositiveRate rate: Double) -> Double {
        guard isDefined else { return .nan }
        for k in tp.indices where Double(tp[k]) >= rate * Double(positives) - 1e-12 { return Double(fp[k]) / Double(negatives) }
        return 1
    }

    /// The threshold maximising F1 `2TP / (2TP + FP + FN)` and that F1 (the first of equal maxima,
    /// so the highest such threshold).
    public var bestF1: (threshold: Double, value: Double) {
        best { k in Double(2 * tp[k]) / Double(2 * tp[k] + fp[k] + (positives - tp[k])) }
    }

    /// The threshold maximising Youden's J = TPR − FPR (Youden 1950) and that J.
    public var bestYouden: (threshold: Double, value: Double) {
        best { k in Double(tp[k]) / Double(positives) - Double(fp[k]) / Double(negatives) }
    }

    /// F1 and Youden's J of calling positive every sample scoring ≥ `threshold` (a threshold
    /// chosen elsewhere, such as on a validation split).
    public func criteria(at threshold: Double) -> (f1: Double, youden: Double) {
        guard isDefined else { return (.nan, .nan) }
        // The counts at the lowest stored threshold ≥ `threshold` (thresholds decrease).
        let k = thresholds.lastIndex { $0 >= threshold }
        let truePositives = k.map { tp[$0] } ?? 0, falsePositives = k.map { fp[$0] } ?? 0
        let f1 = Double(2 * truePositives) / Double(2 * truePositives + falsePositives + (positives - truePositives))
        return (f1, Double(truePositives) / Double(positives) - Double(falsePositives) / Double(negatives))
    }

    private func best(_ criterion: (Int) -> Double) -> (threshold: Double, value: Double) {
        guard isDefined else { return (.nan, .nan) }
        var best = (threshold: Double.nan, value: -Double.infinity)
        for k in thresholds.indices {
            let value = criterion(k)
            if value > best.value { best = (thresholds[k], value) }
        }
        return best
    }
}

/// Keeps at most `limit` points of a curve, evenly spaced by index, always with both ends
/// (stored curves are for figures; every area is computed from the full curve).
func thinned(_ count: Int, limit: Int) -> [Int] {
    guard limit > 0 else { return [] }
    guard count > limit, limit >= 2 else { return Array(0..<count) }
    var picked = (0..<limit).map { Int((Double($0) * Double(count - 1) / Double(limit - 1)).rounded()) }
    picked[limit - 1] = count - 1
    return picked
}
