import Foundation
import Spec
import Tensors

/// Multi-head self-attention over a token sequence `[T, D]` (Vaswani et al. 2017), as PyTorch's
/// `nn.MultiheadAttention(D, heads, dropout, batch_first=True)` computes it for `attn(x, x, x)`:
/// `[q, k, v] = x · in_proj_weightᵀ + in_proj_bias` (rows `0..<D` for q, then k, then v), each
/// split into `heads` heads of `D / heads` features; per head `softmax(q·kᵀ / √(D/heads)) · v`,
/// the attention weights dropped out with `dropout` outside inference (attention dropout, so
/// MC dropout samples it); the heads joined and projected by `out_proj`. The parameters and
/// their keys are PyTorch's (`in_proj_weight`, `in_proj_bias`, `out_proj.weight`,
/// `out_proj.bias`), initialised as PyTorch does (Xavier-uniform input projection, zero biases).
public struct MultiheadAttentionSpec: LayerSpec, Equatable {
    public static let kind = "multihead_attention"
    public static let summary = "Multi-head self-attention over [tokens, features] with attention dropout (PyTorch nn.MultiheadAttention keys)."
    public static let defaults = ["dropout": "0"]
    /// Heads, ≥ 1, dividing the feature count.
    public var heads: Int
    /// Dropout probability of the attention weights, in [0, 1) (default 0).
    public var dropout: Float?
    public init(heads: Int, dropout: Float? = nil) {
        self.heads = heads
        self.dropout = dropout
    }
    public func problems() -> [String] {
        var found: [String] = []
        if heads < 1 { found.append("heads must be ≥ 1, got \(heads)") }
        if let dropout, !(dropout >= 0 && dropout < 1) { found.append("dropout must be in [0, 1), got \(dropout)") }
        return found
    }
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count == 3 else { throw .incompatibleInput(layer: Self.kind, expected: "[tokens, features]", got: inputShape) }
        guard heads >= 1, inputShape[2] % heads == 0 else {
            throw .invalidParameter(layer: Self.kind, message: "heads (\(heads)) must divide the features (\(inputShape[2]))")
        }
        return inputShape
    }
    public func multiplyAccumulates(for inputShape: [Int]) -> Int {
        let t = inputShape[1], d = inputShape[2]
        return 4 * t * d * d + 2 * t * t * d
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return MultiheadAttention(features: inputShape[2], heads: heads, dropout: dropout ?? 0, rng: &rng)
    }
}

public final class MultiheadAttention: Layer {
    public let heads: Int
    public let dropout: Float
    public let inProjectionWeight: Parameter
    public let inProjectionBias: Parameter
    public let outProjectionWeight: Parameter
    public let outProjectionBias: Parameter

    public init(features d: Int, heads: Int, dropout: Float, rng: inout RandomSource) {
        self.heads = heads
        self.dropout = dropout
        let xavier = (6 / Float(d + 3 * d)).squareRoot()
        inProjectionWeight = Parameter(name: "in_proj_weight", value: .uniform(shape: [3 * d, d], low: -xavier, high: xavier, using: &rng))
        inProjectionBias = Parameter(name: "in_proj_bias", value: Tensor(shape: [3 * d]))
        let bound = 1 / Float(d).squareRoot()
        outProjectionWeight = Parameter(name: "out_proj.weight", value: .uniform(shape: [d, d], low: -bound, high: bound, using: &rng))
        outProjectionBias = Parameter(name: "out_proj.bias", value: Tensor(shape: [d]))
    }

    public var parameters: [Parameter] { [inProjectionWeight, inProjectionBias, outProjectionWeight, outProjectionBias] }
    public var drawsRandomNumbers: Bool { dropout > 0 }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func multiplyAccumulates(for inputShape: [Int]) -> Int {
        MultiheadAttentionSpec(heads: heads).multiplyAccumulates(for: inputShape)
    }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        let (n, t, d) = (input.shape[0], input.shape[1], input.shape[2])
        let rows = input.reshaped([n * t, d])
        func projection(_ input: Variable, _ weight: Parameter, _ bias: Parameter, context: inout ForwardContext) -> Variable {
            input.linear(
                weight: context.variable(for: weight), bias: context.variable(for: bias),
                transposedWeight: Linear.transposedWeight(of: weight, rows: input.shape[0], mode: context.mode))
        }
        let qkv = projection(rows, inProjectionWeight, inProjectionBias, context: &context)
        // Attention dropout: the mask of the weights `[N, H, T, T]`, drawn as a dropout layer on them would.
        let mask = context.dropoutMask(p: dropout, shape: [n, heads, t, t])
        let joined = qkv.reshaped([n, t, 3 * d]).selfAttention(heads: heads, scale: 1 / Float(d / heads).squareRoot(), dropoutMask: mask)
        let output = projection(joined.reshaped([n * t, d]), outProjectionWeight, outProjectionBias, context: &context)
        return output.reshaped([n, t, d])
    }
}
