import Spec
import Tensors

/// A fully connected layer, `y = x Wᵀ + b` (PyTorch's `nn.Linear`).
///
/// The input feature count is inferred from the input shape `[N, in]`; a token sequence
/// `[N, T, in]` is transformed token by token (PyTorch's linear on the last axis).
/// Initialisation as PyTorch: W and b uniform in `±1/√in` (Kaiming-uniform with `a = √5`).
public struct LinearSpec: LayerSpec, Equatable {
    public static let kind = "linear"
    public static let defaults = ["bias": "true"]
    public static let summary = "Fully connected layer y = x Wᵀ + b (PyTorch nn.Linear); input features inferred."
    /// Output features, at least 1.
    public var outFeatures: Int
    /// Whether the layer adds a bias (default true).
    public var bias: Bool = true

    public init(outFeatures: Int, bias: Bool = true) {
        self.outFeatures = outFeatures
        self.bias = bias
    }

    /// Decodes `out_features` (required) and `bias` (optional, default above).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(outFeatures: try c.decode(Int.self, forKey: .outFeatures))
        if let bias = try c.decodeIfPresent(Bool.self, forKey: .bias) { self.bias = bias }
    }

    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count == 2 || inputShape.count == 3 else {
            throw .incompatibleInput(layer: Self.kind, expected: "[features] or [tokens, features] (add a flatten layer before it)", got: inputShape)
        }
        guard outFeatures >= 1 else { throw .invalidParameter(layer: Self.kind, message: "out_features must be at least 1") }
        return inputShape.dropLast() + [outFeatures]
    }

    public func multiplyAccumulates(for inputShape: [Int]) -> Int { inputShape.dropFirst().reduce(1, *) * outFeatures }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return Linear(inFeatures: inputShape.last!, outFeatures: outFeatures, bias: bias, rng: &rng)
    }
}

public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool, rng: inout RandomSource) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(name: "weight", value: .uniform(shape: [outFeatures, inFeatures], low: -bound, high: bound, using: &rng))
        self.bias = bias ? Parameter(name: "bias", value: .uniform(shape: [outFeatures], low: -bound, high: bound, using: &rng)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape.dropLast() + [weight.value.shape[0]] }

    public func multiplyAccumulates(for inputShape: [Int]) -> Int { inputShape.dropFirst().dropLast().reduce(1, *) * weight.value.count }

    /// Whether a product of `rows` inputs with `weight` (`x · Wᵀ`) reads the weight transposed
    /// (`Parameter.transposedValue`, the faster layout for Gauntlet's kernels). Always outside
    /// training; in training, where the weight changes at every step, only when the rows are
    /// many against the weight (a transformer's tokens: at least a quarter as many rows as the
    /// weight has elements), so that the one transpose per step costs little next to the
    /// product. With fewer rows (a classifier's batch part against its weight)
    /// `BLAS.sgemm` transposes the part's rows instead (`MicroKernels.sgemmTransposedB`).
    public static func readsTransposedWeight(rows: Int, weight: Tensor, mode: ForwardMode) -> Bool {
        Kernels.linearTakesTransposedWeight && (mode != .training || 4 * rows >= weight.count)
    }

    /// `weight`'s cached transposed value where a product of `rows` inputs reads it
    /// (`readsTransposedWeight`), else nil: `Variable.linear`'s `transposedWeight`.
    public static func transposedWeight(of weight: Parameter, rows: Int, mode: ForwardMode) -> Tensor? {
        readsTransposedWeight(rows: rows, weight: weight.value, mode: mode) ? weight.transposedValue() : nil
    }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        guard input.shape.count == 2 else {
            // Tokens: every token of every sample is a row.
            let shape = input.shape
            return forward(input.reshaped([shape.dropLast().reduce(1, *), shape.last!]), context: &context).reshaped(outputShape(for: shape))
        }
        let w = context.variable(for: weight)
        let b = bias.map { context.variable(for: $0) }
        let transposed = Self.transposedWeight(of: weight, rows: input.shape[0], mode: context.mode)
        let defers = context.defersLinearWeightGradients && context.parametersRequireGradients
        let output = input.linear(weight: w, bias: b, transposedWeight: transposed, weightGradient: !defers)
        if defers { context.deferWeightGradient(of: weight, input: input.value, output: output) }
        return output
    }
}
