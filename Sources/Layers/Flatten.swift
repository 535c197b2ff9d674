import Spec
import Tensors

/// Flattens every axis after the batch axis into one (PyTorch's `nn.Flatten`). No parameters.
public struct FlattenSpec: LayerSpec, Equatable {
    public static let kind = "flatten"
    public static let summary = "Flattens every axis after the batch axis."
    public init() {}
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        [inputShape[0], inputShape.dropFirst().reduce(1, *)]
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { Flatten() }
}

public final class Flatten: Layer {
    public init() {}
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputShape.dropFirst().reduce(1, *)] }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        input.reshaped(outputShape(for: input.shape))
    }
}
