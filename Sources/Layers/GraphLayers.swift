import Spec
import Tensors

/// A layer that combines the outputs of several nodes (`inputs:` in experiment files).
public protocol MergeLayer: Layer {
    /// The output shape (batch axis included) for the inputs' shapes.
    func outputShape(forInputs shapes: [[Int]]) -> [Int]
    func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable
}

extension MergeLayer {
    public func outputShape(for inputShape: [Int]) -> [Int] { outputShape(forInputs: [inputShape]) }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable { forward([input], context: &context) }
}

/// The kind of a merge layer: it checks the shapes of all its inputs.
public protocol MergeLayerSpec: LayerSpec {
    /// The fewest inputs the kind takes.
    static var minimumInputs: Int { get }
    /// The output shape for the inputs' shapes (batch axis first), or why they do not fit.
    func outputShape(forInputs shapes: [[Int]]) throws(ModelError) -> [Int]
}

extension MergeLayerSpec {
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] { try outputShape(forInputs: [inputShape]) }
}

/// The element-wise sum of its inputs, all of one shape (a residual connection).
public struct AddSpec: MergeLayerSpec, Equatable {
    public static let kind = "add"
    public static let summary = "Element-wise sum of two or more inputs of one shape (a residual connection); needs inputs."
    public static let minimumInputs = 2
    public init() {}

    public func outputShape(forInputs shapes: [[Int]]) throws(ModelError) -> [Int] {
        guard let first = shapes.first else { throw .invalidParameter(layer: Self.kind, message: "needs inputs") }
        if let other = shapes.first(where: { $0.dropFirst() != first.dropFirst() }) {
            throw .incompatibleInput(layer: Self.kind, expected: "inputs of one shape, the first \(shapeText(first))", got: other)
        }
        return first
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { Add() }
}

public final class Add: MergeLayer {
    public init() {}
    public func outputShape(forInputs shapes: [[Int]]) -> [Int] { shapes[0] }
    public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable { Variable.sum(inputs) }
}

/// Adaptive average pooling to `output_size × output_size` (PyTorch's `nn.AdaptiveAvgPool2d`);
/// the default 1 is global average pooling. Output `[channels, output_size, output_size]`.
public struct AdaptiveAvgPool2dSpec: LayerSpec, Equatable {
    public static let kind = "adaptive_avg_pool2d"
    public static let summary = "Adaptive average pooling to output_size × output_size (PyTorch nn.AdaptiveAvgPool2d); 1 is global pooling."
    public static let defaults = ["output_size": "1"]
    /// The output side, ≥ 1 (default 1).
    public var outputSize: Int?

    public init(outputSize: Int? = nil) { self.outputSize = outputSize }

    var side: Int { outputSize ?? 1 }

    public func problems() -> [String] {
        if let outputSize, outputSize < 1 { return ["output_size must be ≥ 1, got \(outputSize)"] }
        return []
    }

    public func outputShape(for s: [Int]) throws(ModelError) -> [Int] {
        guard s.count == 4 else { throw .incompatibleInput(layer: Self.kind, expected: "[channels, height, width]", got: s) }
        return [s[0], s[1], side, side]
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return AdaptiveAvgPool2d(side: side)
    }
}

public final class AdaptiveAvgPool2d: Layer {
    public let side: Int
    public init(side: Int) { self.side = side }
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputShape[1], side, side] }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        input.adaptiveAvgPool2d(outputHeight: side, outputWidth: side)
    }
}
