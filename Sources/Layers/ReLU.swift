import Spec
import Tensors

/// The rectified linear unit, `max(x, 0)` (PyTorch's `nn.ReLU`). No parameters.
public struct ReLUSpec: LayerSpec, Equatable {
    public static let kind = "relu"
    public static let summary = "Rectified linear unit max(x, 0)."
    public init() {}
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] { inputShape }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { ReLU() }
}

public final class ReLU: Layer {
    public init() {}
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable { input.relu() }
}
