import Spec
import Tensors

/// Vector scaling (Guo et al., ICML 2017): calibrated logits `w ⊙ z + b`, a scale and a bias
/// per class (2·classes parameters) fitted to minimise the validation negative
/// log-likelihood plus a ridge penalty `(λ/2)·(‖w − 1‖² + ‖b‖²)` with λ = 1e-3, which keeps the
/// fit finite when the validation split is separable (vector scaling's 2·classes parameters
/// overfit a small split otherwise; Kull et al. 2019 regularise it likewise). Fitted exactly by
/// Newton's method (the objective is convex in `w`, `b`) from the identity `w = 1, b = 0`.
/// Stored as `weight` and `bias`. It can change predictions.
public struct VectorScaling: Calibrator, Equatable {
    public static let kind = "vector_scaling"
    public static let summary = "Per-class scale and bias of the logits fitted to minimise validation NLL (Guo et al. 2017)."
    public init() {}
    public var label: String { Self.kind }
    public func problems() -> [String] { [] }

    public func fit(logits: Tensor, labels: [Int]) -> any FittedCalibrator {
        let classes = logits.shape[1]
        let solver = SoftmaxNewton(count: labels.count, classes: classes, parameterCount: 2 * classes, labels: labels, ridge: 1e-3) { i, c in
            [(c, logits.double(i, c)), (classes + c, 1)]
        }
        let theta = solver.minimise(from: Array(repeating: 1, count: classes) + Array(repeating: 0, count: classes))
        return Fitted(weight: Array(theta[0..<classes]), bias: Array(theta[classes...]))
    }

    struct Fitted: FittedCalibrator {
        let weight: [Double]
        let bias: [Double]

        func apply(_ logits: Tensor) -> Tensor {
            let classes = logits.shape[1]
            var out = logits
            for i in out.scalars.indices {
                let c = i % classes
                out.scalars[i] = Float(weight[c] * Double(logits.scalars[i]) + bias[c])
            }
            return out
        }

        var parameters: [(name: String, values: [Double])] { [("weight", weight), ("bias", bias)] }
    }
}
