import Spec
import Layers
import Tensors

/// Vanilla gradient saliency (Simonyan, Vedaldi & Zisserman 2014): the gradient of the target
/// logit with respect to each input value, signed and raw (the paper's display takes the
/// absolute value and the maximum over channels; that is the report's job).
public struct Saliency: AttributionMethod, Equatable {
    public static let kind = "saliency"
    public static let summary = "Gradient of the target logit with respect to each input value (Simonyan et al. 2014)."
    public init() {}
    public var label: String { Self.kind }
    public var passes: Int { 1 }
    public func problems() -> [String] { [] }
    public func attribute(_ model: Sequential, inputs: Tensor, targets: [Int], rng: inout RandomSource) -> Attribution {
        Attribution(maps: GradientChunks.inputGradients(model, inputs: inputs, targets: targets).gradients)
    }
}
