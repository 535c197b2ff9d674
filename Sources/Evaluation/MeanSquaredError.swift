import Spec
import Layers

/// Mean squared error: the mean over samples and targets of `(μ − y)²`, in squared target
/// units (scikit-learn's `mean_squared_error`, uniform average over targets). Lower is better.
public struct MeanSquaredError: Metric, Equatable {
    public static let kind = "mse"
    public static let summary = "Regression: mean squared error of the predicted mean, over samples and targets (lower is better)."
    public var definition: String {
        "Mean squared error: the mean of (y − μ)² over samples and targets, μ the predicted mean; in squared target units, lower is better."
    }
    public static var task: TaskKind { .regression }
    public init() {}
    public var name: String { "mse" }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: false)] }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator {
        ValueMeanAccumulator { mean, _, target in (mean - target) * (mean - target) }
    }
}
