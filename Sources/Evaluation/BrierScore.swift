import Spec
import Tensors

/// The multi-class Brier score (Brier 1950): the mean over samples of `Σ_c (p_c − 1[c = y])²`,
/// with `p` the softmax probabilities. It lies in [0, 2] and is not halved (for two classes it
/// is twice the binary `brier_score_loss` of scikit-learn's default). Lower is better.
public struct BrierScore: Metric, Equatable {
    public static let kind = "brier_score"
    public static let summary = "Mean squared distance between the softmax probabilities and the one-hot label, summed over classes (0–2, lower is better)."
    public var definition: String {
        "Brier score: the mean over samples of Σ_c (p_c − 1[c = y])² over the classes c (0 to 2, not halved); lower is better."
    }
    public init() {}
    public var name: String { "brier_score" }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: false)] }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator {
        MeanAccumulator { logits, labels in
            let probabilities = Kernels.softmax(logits).scalars
            let classes = logits.shape[1]
            var sum = 0.0
            for (row, label) in labels.enumerated() {
                for c in 0..<classes {
                    let difference = Double(probabilities[row * classes + c]) - (c == label ? 1 : 0)
                    sum += difference * difference
                }
            }
            return sum
        }
    }
}
