import Spec
import Tensors

/// Top-1 accuracy: the fraction of samples whose arg-max logit is the label (ties go to the
/// lowest class index).
public struct Accuracy: Metric, Equatable {
    public static let kind = "accuracy"
    public static let summary = "Fraction of samples whose highest logit is the true class (ties to the lowest index)."
    public var definition: String {
        "Top-1 accuracy: the fraction of samples whose arg-max logit is the true label; ties go to the lowest class index."
    }
    public init() {}
    public var name: String { "accuracy" }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator {
        MeanAccumulator { logits, labels in
            Double(zip(logits.argMax(axis: 1), labels).filter { $0 == $1 }.count)
        }
    }
}
