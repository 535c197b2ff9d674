import Spec
import Tensors

/// Temperature scaling (Guo, Pleiss, Sun & Weinberger, ICML 2017): calibrated logits `z / T`,
/// with the single temperature `T > 0` that minimises the validation negative log-likelihood.
/// Predictions (the arg-max) are unchanged. Fitted exactly by Newton's method on `1/T` (the
/// objective is convex in it); the fitted `T` is stored as `temperature`.
public struct TemperatureScaling: Calibrator, Equatable {
    public static let kind = "temperature"
    public static let summary = "Divides the logits by one temperature fitted to minimise validation NLL (Guo et al. 2017)."
    public init() {}
    public var label: String { Self.kind }
    public func problems() -> [String] { [] }

    public func fit(logits: Tensor, labels: [Int]) -> any FittedCalibrator {
        let solver = SoftmaxNewton(count: labels.count, classes: logits.shape[1], parameterCount: 1, labels: labels) { i, c in
            [(0, logits.double(i, c))]
        }
        return Fitted(inverseTemperature: solver.minimise(from: [1])[0])
    }

    struct Fitted: FittedCalibrator {
        let inverseTemperature: Double
        var temperature: Double { 1 / inverseTemperature }
        func apply(_ logits: Tensor) -> Tensor { logits * Float(inverseTemperature) }
        var parameters: [(name: String, values: [Double])] { [("temperature", [temperature])] }
    }
}
