import Spec
import Layers

/// Mean absolute error: the mean over samples and targets of `|μ − y|`, in target units
/// (scikit-learn's `mean_absolute_error`). Lower is better.
public struct MeanAbsoluteError: Metric, Equatable {
    public static let kind = "mae"
    public static let summary = "Regression: mean absolute error of the predicted mean, over samples and targets (lower is better)."
    public var definition: String {
        "Mean absolute error: the mean of |y − μ| over samples and targets, μ the predicted mean; in target units, lower is better."
    }
    public static var task: TaskKind { .regression }
    public init() {}
    public var name: String { "mae" }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: false)] }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator {
        ValueMeanAccumulator { mean, _, target in abs(mean - target) }
    }
}
