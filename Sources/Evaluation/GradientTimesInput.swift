import Spec
import Layers
import Tensors

/// Gradient × input (Shrikumar et al. 2016): each input value times the gradient of the target
/// logit with respect to it; for a linear model, the exact contribution of each input.
public struct GradientTimesInput: AttributionMethod, Equatable {
    public static let kind = "gradient_x_input"
    public static let summary = "Input times the gradient of the target logit (Shrikumar et al. 2016)."
    public init() {}
    public var label: String { Self.kind }
    public var passes: Int { 1 }
    public func problems() -> [String] { [] }
    public func attribute(_ model: Sequential, inputs: Tensor, targets: [Int], rng: inout RandomSource) -> Attribution {
        Attribution(maps: GradientChunks.inputGradients(model, inputs: inputs, targets: targets).gradients * inputs)
    }
}
