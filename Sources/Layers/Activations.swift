import Spec
import Tensors

/// A layer kind without parameters applying one element-wise function (PyTorch's activation
/// modules).
public protocol ActivationSpec: LayerSpec {
    func apply(_ input: Variable) -> Variable
}

extension ActivationSpec {
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] { inputShape }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { Activation(self) }
}

/// The layer of an `ActivationSpec`.
public final class Activation: Layer {
    public let spec: any ActivationSpec
    public init(_ spec: any ActivationSpec) { self.spec = spec }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable { spec.apply(input) }
}

/// GELU (Hendrycks & Gimpel 2016, PyTorch's `nn.GELU`): `x · Φ(x)`, or its tanh form.
public struct GELUSpec: ActivationSpec, Equatable {
    public static let kind = "gelu"
    public static let summary = "Gaussian error linear unit x·Φ(x) (PyTorch nn.GELU), exact or tanh approximation."
    public static let defaults = ["approximate": "none"]
    /// `none` (the erf form, PyTorch's default) or `tanh`.
    public enum Approximation: String, ParameterChoice { case none, tanh }
    public var approximate: Approximation?
    public init(approximate: Approximation? = nil) { self.approximate = approximate }
    public func apply(_ input: Variable) -> Variable { input.gelu(tanhApproximation: approximate == .tanh) }
}

/// SiLU or swish, `x · σ(x)` (PyTorch's `nn.SiLU`).
public struct SiLUSpec: ActivationSpec, Equatable {
    public static let kind = "silu"
    public static let summary = "Sigmoid linear unit x·σ(x) (PyTorch nn.SiLU, swish)."
    public init() {}
    public func apply(_ input: Variable) -> Variable { input.silu() }
}

/// The logistic function (PyTorch's `nn.Sigmoid`).
public struct SigmoidSpec: ActivationSpec, Equatable {
    public static let kind = "sigmoid"
    public static let summary = "Logistic function 1/(1 + e^(−x)) (PyTorch nn.Sigmoid)."
    public init() {}
    public func apply(_ input: Variable) -> Variable { input.sigmoid() }
}

/// The hyperbolic tangent (PyTorch's `nn.Tanh`).
public struct TanhSpec: ActivationSpec, Equatable {
    public static let kind = "tanh"
    public static let summary = "Hyperbolic tangent (PyTorch nn.Tanh)."
    public init() {}
    public func apply(_ input: Variable) -> Variable { input.tanh() }
}

/// Leaky ReLU, `x` for positive `x`, else `negative_slope · x` (PyTorch's `nn.LeakyReLU`).
public struct LeakyReLUSpec: ActivationSpec, Equatable {
    public static let kind = "leaky_relu"
    public static let summary = "Leaky rectifier: x, or negative_slope·x below 0 (PyTorch nn.LeakyReLU)."
    public static let defaults = ["negative_slope": "0.01"]
    /// The slope below 0, ≥ 0 (default 0.01, PyTorch's).
    public var negativeSlope: Float?
    public init(negativeSlope: Float? = nil) { self.negativeSlope = negativeSlope }
    public func problems() -> [String] {
        if let negativeSlope, !(negativeSlope >= 0) { return ["negative_slope must be ≥ 0, got \(negativeSlope)"] }
        return []
    }
    public func apply(_ input: Variable) -> Variable { input.leakyReLU(slope: negativeSlope ?? 0.01) }
}

/// Hard swish (Howard et al. 2019, PyTorch's `nn.Hardswish`): `x · relu6(x + 3) / 6`.
public struct HardswishSpec: ActivationSpec, Equatable {
    public static let kind = "hardswish"
    public static let summary = "Hard swish x·relu6(x + 3)/6 (PyTorch nn.Hardswish, MobileNetV3)."
    public init() {}
    public func apply(_ input: Variable) -> Variable { input.hardswish() }
}

/// Softmax over the last axis (PyTorch's `nn.Softmax(dim=-1)`).
public struct SoftmaxSpec: ActivationSpec, Equatable {
    public static let kind = "softmax"
    public static let summary = "Softmax over the last axis (PyTorch nn.Softmax(dim=-1)); a classifier's last layer outputs logits, not this."
    public init() {}
    public func apply(_ input: Variable) -> Variable { input.softmaxLastAxis() }
}
