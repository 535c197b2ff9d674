import Foundation
import Spec
import Tensors

/// Layer normalisation over the last axis (PyTorch's `nn.LayerNorm(d)`), with a learned scale
/// `weight` (ones) and shift `bias` (zeros) per feature.
public struct LayerNormSpec: LayerSpec, Equatable {
    public static let kind = "layernorm"
    public static let summary = "Layer normalisation over the last axis with learned scale and shift (PyTorch nn.LayerNorm)."
    public static let defaults = ["eps": "1e-5", "elementwise_affine": "true"]
    /// Added to the variance, > 0 (default 1e-5; torchvision's ViT uses 1e-6).
    public var eps: Float?
    /// Whether the layer learns a scale and a shift (default true).
    public var elementwiseAffine: Bool?
    public init(eps: Float? = nil, elementwiseAffine: Bool? = nil) {
        self.eps = eps
        self.elementwiseAffine = elementwiseAffine
    }
    public func problems() -> [String] {
        if let eps, !(eps > 0) { return ["eps must be > 0, got \(eps)"] }
        return []
    }
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count >= 2 else { throw .incompatibleInput(layer: Self.kind, expected: "at least one axis", got: inputShape) }
        return inputShape
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        LayerNorm(features: try outputShape(for: inputShape).last!, eps: eps ?? 1e-5, affine: elementwiseAffine ?? true)
    }
}

public final class LayerNorm: Layer {
    public let weight: Parameter?
    public let bias: Parameter?
    public let eps: Float
    public init(features: Int, eps: Float, affine: Bool) {
        self.eps = eps
        weight = affine ? Parameter(name: "weight", value: Tensor(shape: [features], repeating: 1)) : nil
        bias = affine ? Parameter(name: "bias", value: Tensor(shape: [features])) : nil
    }
    public var parameters: [Parameter] { [weight, bias].compactMap { $0 } }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        input.layerNorm(weight: weight.map { context.variable(for: $0) }, bias: bias.map { context.variable(for: $0) }, epsilon: eps)
    }
}

/// Element-wise product of two or more inputs of one shape (gating).
public struct MultiplySpec: MergeLayerSpec, Equatable {
    public static let kind = "multiply"
    public static let summary = "Element-wise product of two or more inputs of one shape; needs inputs."
    public static let minimumInputs = 2
    public init() {}
    public func outputShape(forInputs shapes: [[Int]]) throws(ModelError) -> [Int] { try AddSpec().outputShape(forInputs: shapes) }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { Multiply() }
}

public final class Multiply: MergeLayer {
    public init() {}
    public func outputShape(forInputs shapes: [[Int]]) -> [Int] { shapes[0] }
    public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable { inputs.dropFirst().reduce(inputs[0]) { $0 * $1 } }
}

/// Its inputs joined along `dim` (PyTorch's `torch.cat`; `dim` counts the sample's axes from 0,
/// the batch axis excluded: 0 is channels for images, tokens for sequences).
public struct ConcatSpec: MergeLayerSpec, Equatable {
    public static let kind = "concat"
    public static let summary = "Inputs joined along dim (0: channels or tokens), the other axes equal; needs inputs."
    public static let defaults = ["dim": "0"]
    public static let minimumInputs = 2
    /// The sample axis to join along, ≥ 0 (default 0).
    public var dim: Int?
    public init(dim: Int? = nil) { self.dim = dim }
    var axis: Int { (dim ?? 0) + 1 }
    public func outputShape(forInputs shapes: [[Int]]) throws(ModelError) -> [Int] {
        guard let first = shapes.first, axis < first.count else {
            throw .invalidParameter(layer: Self.kind, message: "dim \(dim ?? 0) is not an axis of the samples")
        }
        for shape in shapes where shape.count != first.count || shape.indices.contains(where: { $0 != axis && $0 > 0 && shape[$0] != first[$0] }) {
            throw .incompatibleInput(layer: Self.kind, expected: "inputs equal but along dim \(dim ?? 0), the first \(shapeText(first))", got: shape)
        }
        var out = first
        out[axis] = shapes.reduce(0) { $0 + $1[axis] }
        return out
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { Concat(axis: axis) }
}

public final class Concat: MergeLayer {
    public let axis: Int
    public init(axis: Int) { self.axis = axis }
    public func outputShape(forInputs shapes: [[Int]]) -> [Int] {
        var out = shapes[0]
        out[axis] = shapes.reduce(0) { $0 + $1[axis] }
        return out
    }
    public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable { Variable.concatenated(inputs, axis: axis) }
}

/// The batched matrix product of two inputs, `[…, M, K] × […, K, N]` (PyTorch's `torch.matmul`
/// of equal batch shapes).
public struct MatMulSpec: MergeLayerSpec, Equatable {
    public static let kind = "matmul"
    public static let summary = "Batched matrix product of two inputs [..., M, K] × [..., K, N]; needs inputs."
    public static let minimumInputs = 2
    public init() {}
    public func outputShape(forInputs shapes: [[Int]]) throws(ModelError) -> [Int] {
        guard shapes.count == 2, let a = shapes.first, let b = shapes.last, a.count >= 3, a.count == b.count,
            a.dropLast(2) == b.dropLast(2), a[a.count - 1] == b[b.count - 2]
        else {
            throw .invalidParameter(layer: Self.kind, message: "needs two inputs [..., M, K] and [..., K, N]; got \(shapes.map(shapeText))")
        }
        return a.dropLast() + [b.last!]
    }
    public func multiplyAccumulates(forInputs shapes: [[Int]]) -> Int {
        guard shapes.count == 2, let a = shapes.first, let b = shapes.last, a.count >= 3, b.count == a.count else { return 0 }
        return a.dropFirst().reduce(1, *) * b[b.count - 1]
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { MatMul() }
}

public final class MatMul: MergeLayer {
    public init() {}
    public func outputShape(forInputs shapes: [[Int]]) -> [Int] { shapes[0].dropLast() + [shapes[1].last!] }
    public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable { inputs[0].matmul(inputs[1]) }
}

/// The sample reshaped (PyTorch's `x.reshape(N, *shape)`); one entry may be -1, inferred.
public struct ReshapeSpec: LayerSpec, Equatable {
    public static let kind = "reshape"
    public static let summary = "Each sample reshaped to shape (one entry may be -1), the batch axis kept."
    /// The sample's new shape, batch axis excluded.
    public var shape: [Int]
    public init(shape: [Int]) { self.shape = shape }
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        let count = inputShape.dropFirst().reduce(1, *)
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        let unknown = shape.filter { $0 == -1 }.count
        guard unknown <= 1, shape.allSatisfy({ $0 == -1 || $0 >= 1 }), known > 0, unknown == 1 ? count % known == 0 : known == count else {
            throw .incompatibleInput(layer: Self.kind, expected: "\(count) values per sample for shape \(shape)", got: inputShape)
        }
        return [inputShape[0]] + shape.map { $0 == -1 ? count / known : $0 }
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        Reshape(shape: Array(try outputShape(for: inputShape).dropFirst()))
    }
}

public final class Reshape: Layer {
    public let shape: [Int]
    public init(shape: [Int]) { self.shape = shape }
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0]] + shape }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable { input.reshaped([input.shape[0]] + shape) }
}

/// The sample's axes reordered (PyTorch's `x.permute(0, *[d + 1 for d in dims])`).
public struct PermuteSpec: LayerSpec, Equatable {
    public static let kind = "permute"
    public static let summary = "Each sample's axes reordered: output axis i is input axis dims[i] (batch axis excluded)."
    /// A permutation of the sample's axes `0 ..< rank`.
    public var dims: [Int]
    public init(dims: [Int]) { self.dims = dims }
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard dims.sorted() == Array(0..<(inputShape.count - 1)) else {
            throw .incompatibleInput(layer: Self.kind, expected: "a sample of \(dims.count) axes for dims \(dims)", got: inputShape)
        }
        return [inputShape[0]] + dims.map { inputShape[$0 + 1] }
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return Permute(order: [0] + dims.map { $0 + 1 })
    }
}

public final class Permute: Layer {
    public let order: [Int]
    public init(order: [Int]) { self.order = order }
    public func outputShape(for inputShape: [Int]) -> [Int] { order.map { inputShape[$0] } }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable { input.permuted(order) }
}

/// Indices `start ..< end` of the sample's axis `dim` (PyTorch's `x[:, …, start:end]`); the
/// class token of a transformer is `{dim: 0, start: 0, end: 1}`.
public struct SliceSpec: LayerSpec, Equatable {
    public static let kind = "slice"
    public static let summary = "Indices start..<end along the sample axis dim (the class token: dim 0, start 0, end 1)."
    public static let defaults = ["start": "0", "end": "the axis's size"]
    /// The sample axis, ≥ 0.
    public var dim: Int
    /// The first index kept, ≥ 0 (default 0).
    public var start: Int?
    /// One past the last index kept (default: the axis's size).
    public var end: Int?
    public init(dim: Int, start: Int? = nil, end: Int? = nil) {
        self.dim = dim
        self.start = start
        self.end = end
    }
    func range(_ size: Int) -> Range<Int>? {
        let lower = start ?? 0, upper = end ?? size
        return lower >= 0 && lower < upper && upper <= size ? lower..<upper : nil
    }
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard dim >= 0, dim + 1 < inputShape.count, let range = range(inputShape[dim + 1]) else {
            throw .incompatibleInput(layer: Self.kind, expected: "an axis \(dim) holding \(start ?? 0)..<\(end.map(String.init) ?? "end")", got: inputShape)
        }
        var out = inputShape
        out[dim + 1] = range.count
        return out
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return Slice(axis: dim + 1, range: range(inputShape[dim + 1])!)
    }
}

public final class Slice: Layer {
    public let axis: Int
    public let range: Range<Int>
    public init(axis: Int, range: Range<Int>) {
        self.axis = axis
        self.range = range
    }
    public func outputShape(for inputShape: [Int]) -> [Int] {
        var out = inputShape
        out[axis] = range.count
        return out
    }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable { input.sliced(axis: axis, range: range) }
}

/// A learned class token prepended to a token sequence `[T, D]` → `[T + 1, D]` (ViT's
/// `class_token`, zeros at initialisation as torchvision's). Its state-dict key is the layer's
/// name alone.
public struct ClassTokenSpec: LayerSpec, Equatable {
    public static let kind = "class_token"
    public static let summary = "A learned token prepended to a sequence [tokens, features] (ViT's class token); key: the layer's name."
    public init() {}
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count == 3 else { throw .incompatibleInput(layer: Self.kind, expected: "[tokens, features]", got: inputShape) }
        return [inputShape[0], inputShape[1] + 1, inputShape[2]]
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return ClassToken(features: inputShape[2])
    }
}

public final class ClassToken: Layer {
    public let token: Parameter
    public init(features: Int) { token = Parameter(name: "", value: Tensor(shape: [1, 1, features])) }
    public var parameters: [Parameter] { [token] }
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputShape[1] + 1, inputShape[2]] }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        Variable.concatenated([context.variable(for: token).repeatedOverBatch(input.shape[0]), input], axis: 1)
    }
}

/// A learned position embedding added to a token sequence `[T, D]` (ViT's
/// `encoder.pos_embedding`, normal with std 0.02 at initialisation as torchvision's). Its
/// state-dict key is the layer's name alone.
public struct PositionEmbeddingSpec: LayerSpec, Equatable {
    public static let kind = "position_embedding"
    public static let summary = "A learned embedding added per position to [tokens, features] (ViT's pos_embedding); key: the layer's name."
    public init() {}
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count == 3 else { throw .incompatibleInput(layer: Self.kind, expected: "[tokens, features]", got: inputShape) }
        return inputShape
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return PositionEmbedding(tokens: inputShape[1], features: inputShape[2], rng: &rng)
    }
}

public final class PositionEmbedding: Layer {
    public let embedding: Parameter
    public init(tokens: Int, features: Int, rng: inout RandomSource) {
        embedding = Parameter(name: "", value: Tensor.normal(shape: [1, tokens, features], std: 0.02, using: &rng))
    }
    public var parameters: [Parameter] { [embedding] }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        input + context.variable(for: embedding).repeatedOverBatch(input.shape[0])
    }
}

/// Group normalisation (Wu & He 2018, PyTorch's `nn.GroupNorm`): the channels of each sample
/// split into `num_groups` groups, each normalised over its channels and positions (biased
/// variance), then a learned scale `weight` (ones) and shift `bias` (zeros) per channel.
public struct GroupNormSpec: LayerSpec, Equatable {
    public static let kind = "groupnorm"
    public static let summary = "Group normalisation over channel groups of each sample, learned scale and shift per channel (PyTorch nn.GroupNorm)."
    public static let defaults = ["eps": "1e-5", "affine": "true"]
    /// Groups, ≥ 1, dividing the channels.
    public var numGroups: Int
    /// Added to the variance, > 0 (default 1e-5).
    public var eps: Float?
    /// Whether the layer learns a scale and a shift per channel (default true).
    public var affine: Bool?
    public init(numGroups: Int, eps: Float? = nil, affine: Bool? = nil) {
        self.numGroups = numGroups
        self.eps = eps
        self.affine = affine
    }
    public func problems() -> [String] {
        var found: [String] = []
        if numGroups < 1 { found.append("num_groups must be ≥ 1, got \(numGroups)") }
        if let eps, !(eps > 0) { found.append("eps must be > 0, got \(eps)") }
        return found
    }
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count >= 3 else { throw .incompatibleInput(layer: Self.kind, expected: "[channels, …]", got: inputShape) }
        guard numGroups >= 1, inputShape[1] % numGroups == 0 else {
            throw .invalidParameter(layer: Self.kind, message: "num_groups (\(numGroups)) must divide the channels (\(inputShape[1]))")
        }
        return inputShape
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return GroupNorm(channels: inputShape[1], groups: numGroups, eps: eps ?? 1e-5, affine: affine ?? true)
    }
}

public final class GroupNorm: Layer {
    public let groups: Int
    public let eps: Float
    public let weight: Parameter?
    public let bias: Parameter?
    public init(channels: Int, groups: Int, eps: Float, affine: Bool) {
        self.groups = groups
        self.eps = eps
        weight = affine ? Parameter(name: "weight", value: Tensor(shape: [channels], repeating: 1)) : nil
        bias = affine ? Parameter(name: "bias", value: Tensor(shape: [channels])) : nil
    }
    public var parameters: [Parameter] { [weight, bias].compactMap { $0 } }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        let shape = input.shape
        let normalised = input.reshaped([shape[0], groups, shape.dropFirst().reduce(1, *) / groups])
            .layerNorm(weight: nil, bias: nil, epsilon: eps).reshaped(shape)
        guard let weight, let bias else { return normalised }
        return normalised.channelScaleShift(weight: context.variable(for: weight), bias: context.variable(for: bias))
    }
}

/// The entries at `indices` along the sample axis `dim`, in that order (PyTorch's
/// `torch.index_select`): tokens picked from a sequence, channels from an image.
public struct GatherSpec: LayerSpec, Equatable {
    public static let kind = "gather"
    public static let summary = "The entries at indices along the sample axis dim, in order (PyTorch torch.index_select); tokens or channels."
    /// The sample axis, ≥ 0 (the batch axis excluded).
    public var dim: Int
    /// The indices kept, each in the axis's range; at least one.
    public var indices: [Int]
    public init(dim: Int, indices: [Int]) {
        self.dim = dim
        self.indices = indices
    }
    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard dim >= 0, dim + 1 < inputShape.count, !indices.isEmpty, indices.allSatisfy({ (0..<inputShape[dim + 1]).contains($0) }) else {
            throw .incompatibleInput(layer: Self.kind, expected: "an axis \(dim) holding indices \(indices)", got: inputShape)
        }
        var out = inputShape
        out[dim + 1] = indices.count
        return out
    }
    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return Gather(axis: dim + 1, indices: indices)
    }
}

public final class Gather: Layer {
    public let axis: Int
    public let indices: [Int]
    public init(axis: Int, indices: [Int]) {
        self.axis = axis
        self.indices = indices
    }
    public func outputShape(for inputShape: [Int]) -> [Int] {
        var out = inputShape
        out[axis] = indices.count
        return out
    }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable { input.gathered(axis: axis, indices: indices) }
}
