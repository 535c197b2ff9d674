import Spec
import Foundation
import Layers

/// Gaussian negative log-likelihood of the targets under the predictive distribution
/// `N(μ, σ²)`: the mean over samples and targets of `½ (log 2π σ² + (y − μ)² / σ²)`, in nats.
/// `σ²` is the predictive variance (variance head, plus the spread across MC-dropout passes or
/// ensemble members); NaN for a predictor without one (a model trained with `mse`, alone).
/// Lower is better.
public struct GaussianNLL: Metric, Equatable {
    public static let kind = "gaussian_nll"
    public static let summary = "Regression: Gaussian negative log-likelihood of the targets under the predicted mean and variance (nats, lower is better)."
    public var definition: String {
        "Gaussian negative log-likelihood: the mean over samples and targets of ½(log 2πσ² + (y − μ)²/σ²), σ² the predictive variance (aleatoric + epistemic), in nats; NaN for a predictor without a variance; lower is better."
    }
    public static var task: TaskKind { .regression }
    public init() {}
    public var name: String { "gaussian_nll" }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: false)] }
    public func problems(classCount: Int) -> [String] { [] }
    public func makeAccumulator() -> any MetricAccumulator {
        ValueMeanAccumulator { mean, variance, target in
            guard let variance else { return .nan }
            let v = max(variance, Double(Float.leastNormalMagnitude))
            return 0.5 * (log(2 * Double.pi * v) + (target - mean) * (target - mean) / v)
        }
    }
}
