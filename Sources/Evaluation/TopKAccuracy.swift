import Spec
import Tensors

/// Top-k accuracy: the fraction of samples whose label is among the `k` highest logits (a tie
/// at the k-th place counts the label in only when its logit is strictly higher than the
/// (k+1)-th distinct competitor, i.e. ties are resolved against the label).
/// `k` must be at least 1 and below the number of classes (k = classes is always 1).
public struct TopKAccuracy: Metric, Equatable {
    public static let kind = "top_k_accuracy"
    public static let summary = "Fraction of samples whose true class is among the k highest logits."
    public var definition: String {
        "Top-\(k) accuracy: the fraction of samples whose true label is among the \(k) highest logits; a tie with the label's logit counts against the label."
    }
    /// How many of the highest logits count, in 1 ..< classes.
    public var k: Int

    public init(k: Int) { self.k = k }

    public var name: String { "top_\(k)_accuracy" }

    public func problems(classCount: Int) -> [String] {
        guard k >= 1 else { return ["k must be ≥ 1, got \(k)"] }
        return k < classCount ? [] : ["k must be below the number of classes (\(classCount)); top-\(k) accuracy of a \(classCount)-class task is always 1"]
    }

    public func makeAccumulator() -> any MetricAccumulator {
        let k = self.k
        return MeanAccumulator { logits, labels in
            let classes = logits.shape[1]
            var hits = 0
            for (row, label) in labels.enumerated() {
                let own = logits.scalars[row * classes + label]
                var higherOrEqual = 0  // competitors at least as high as the label's logit
                for c in 0..<classes where c != label && logits.scalars[row * classes + c] >= own { higherOrEqual += 1 }
                if higherOrEqual < k { hits += 1 }
            }
            return Double(hits)
        }
    }
}
