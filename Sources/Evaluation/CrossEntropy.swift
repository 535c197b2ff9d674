import Spec
import Tensors

/// Mean cross-entropy (log-loss, negative log-likelihood) in nats: the mean over samples of
/// `−log softmax(z)[y]`; scikit-learn's `log_loss`.
public struct CrossEntropy: Metric, Equatable {
    public static let kind = "cross_entropy"
    public static let summary = "Mean negative log-likelihood of the true class under the softmax, in nats (lower is better)."
    public var definition: String {
        "Cross-entropy (log-loss): the mean over samples of −log p_y, the softmax probability of the true label, in nats; lower is better."
    }
    public init() {}
    public var name: String { "cross_entropy" }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: false)] }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator {
        MeanAccumulator { logits, labels in
            let logProbabilities = Kernels.logSoftmax(logits)
            let classes = logits.shape[1]
            return labels.enumerated().reduce(0.0) { $0 - Double(logProbabilities.scalars[$1.offset * classes + $1.element]) }
        }
    }
}
