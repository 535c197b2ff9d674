import Spec
import Tensors

/// Batch normalisation over the channels of NCHW input (Ioffe & Szegedy, 2015; PyTorch's
/// `nn.BatchNorm2d`).
///
/// Training normalises with the batch mean and biased variance and updates running estimates
/// `r ← (1−momentum)·r + momentum·batch` (the variance estimate uses the unbiased batch
/// variance, as PyTorch); inference and MC-dropout passes use the running estimates.
/// Initialisation: γ = 1, β = 0, running mean 0, running variance 1.
public struct BatchNorm2dSpec: LayerSpec, Equatable {
    public static let kind = "batchnorm2d"
    public static let defaults = ["eps": "1e-5", "momentum": "0.1"]
    public static let summary = "Batch normalisation over channels with running statistics (PyTorch nn.BatchNorm2d)."
    /// Added to the variance for stability (default 1e-5).
    public var eps: Float = 1e-5
    /// Weight of the newest batch in the running estimates, in (0, 1] (default 0.1).
    public var momentum: Float = 0.1

    public init(eps: Float = 1e-5, momentum: Float = 0.1) {
        self.eps = eps
        self.momentum = momentum
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        if let eps = try c.decodeIfPresent(Float.self, forKey: .eps) { self.eps = eps }
        if let momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) { self.momentum = momentum }
    }

    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count == 4 else {
            throw .incompatibleInput(layer: Self.kind, expected: "[channels, height, width]", got: inputShape)
        }
        guard eps > 0, momentum > 0, momentum <= 1 else {
            throw .invalidParameter(layer: Self.kind, message: "eps must be > 0 and momentum in (0, 1]")
        }
        return inputShape
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return BatchNorm2d(channels: inputShape[1], spec: self)
    }
}

public final class BatchNorm2d: Layer {
    public let spec: BatchNorm2dSpec
    public var usesBatchStatisticsInTraining: Bool { true }
    public let weight: Parameter
    public let bias: Parameter
    public private(set) var runningMean: Tensor
    public private(set) var runningVariance: Tensor
    public private(set) var batchesTracked: Int = 0

    public init(channels: Int, spec: BatchNorm2dSpec) {
        self.spec = spec
        weight = Parameter(name: "weight", value: Tensor(shape: [channels], repeating: 1))
        bias = Parameter(name: "bias", value: Tensor(shape: [channels], repeating: 0))
        runningMean = Tensor(shape: [channels], repeating: 0)
        runningVariance = Tensor(shape: [channels], repeating: 1)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public var buffers: [(name: String, value: Tensor)] {
        [
            ("running_mean", runningMean), ("running_var", runningVariance),
            ("num_batches_tracked", Tensor(shape: [], scalars: [Float(batchesTracked)])),
        ]
    }

    public func setBuffer(_ name: String, to value: Tensor) throws {
        switch name {
        case "running_mean": runningMean = value
        case "running_var": runningVariance = value
        case "num_batches_tracked": batchesTracked = Int(value.scalars.first ?? 0)
        default: throw ModelError.unknownStateKey(name)
        }
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        let gamma = context.variable(for: weight), beta = context.variable(for: bias)
        guard context.mode == .training else {
            return input.batchNorm2d(
                gamma: gamma, beta: beta, epsilon: spec.eps,
                statistics: (runningMean.scalars, runningVariance.scalars)
            ).output
        }
        let result = input.batchNorm2d(gamma: gamma, beta: beta, epsilon: spec.eps)
        let count = Float(input.value.count / runningMean.count)
        let unbiased = count > 1 ? count / (count - 1) : 1
        let m = spec.momentum
        for c in 0..<runningMean.count {
            runningMean.scalars[c] = (1 - m) * runningMean.scalars[c] + m * result.batchMean[c]
            runningVariance.scalars[c] = (1 - m) * runningVariance.scalars[c] + m * result.batchVariance[c] * unbiased
        }
        batchesTracked += 1
        return result.output
    }
}

/// Batch normalisation over the channels of `[C]` or `[C, L]` samples (PyTorch's
/// `nn.BatchNorm1d`): `BatchNorm2d`'s statistics and keys over the samples seen as `[C, L, 1]`.
public struct BatchNorm1dSpec: LayerSpec, Equatable {
    public static let kind = "batchnorm1d"
    public static let defaults = ["eps": "1e-5", "momentum": "0.1"]
    public static let summary = "Batch normalisation over the channels of [features] or [channels, length] samples (PyTorch nn.BatchNorm1d)."
    /// Added to the variance for stability (default 1e-5).
    public var eps: Float?
    /// Weight of the newest batch in the running estimates, in (0, 1] (default 0.1).
    public var momentum: Float?

    public init(eps: Float? = nil, momentum: Float? = nil) {
        self.eps = eps
        self.momentum = momentum
    }

    var planar: BatchNorm2dSpec { BatchNorm2dSpec(eps: eps ?? 1e-5, momentum: momentum ?? 0.1) }

    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count == 2 || inputShape.count == 3 else {
            throw .incompatibleInput(layer: Self.kind, expected: "[features] or [channels, length]", got: inputShape)
        }
        _ = try planar.outputShape(for: [inputShape[0], inputShape[1], inputShape.count == 3 ? inputShape[2] : 1, 1])
        return inputShape
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return BatchNorm1d(BatchNorm2d(channels: inputShape[1], spec: planar))
    }
}

/// `BatchNorm2d` over samples reshaped to `[C, L, 1]`, with its parameters and buffers.
public final class BatchNorm1d: Layer {
    public let planar: BatchNorm2d
    init(_ planar: BatchNorm2d) { self.planar = planar }
    public var usesBatchStatisticsInTraining: Bool { true }
    public var parameters: [Parameter] { planar.parameters }
    public var buffers: [(name: String, value: Tensor)] { planar.buffers }
    public func setBuffer(_ name: String, to value: Tensor) throws { try planar.setBuffer(name, to: value) }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        let shape = input.shape
        let planarShape = [shape[0], shape[1], shape.count == 3 ? shape[2] : 1, 1]
        return planar.forward(input.reshaped(planarShape), context: &context).reshaped(shape)
    }
}
