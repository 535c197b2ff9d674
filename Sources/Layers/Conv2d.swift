import Spec
import Tensors

/// A 2-D convolution (cross-correlation) over NCHW input (PyTorch's `nn.Conv2d`, square
/// kernel, equal stride and zero padding on both axes, no dilation or groups).
///
/// Input channels are inferred from the input shape. Initialisation as PyTorch: weight and bias
/// uniform in `±1/√(in·k·k)`.
public struct Conv2dSpec: LayerSpec, Equatable {
    public static let kind = "conv2d"
    public static let defaults = ["stride": "1", "padding": "0", "bias": "true"]
    public static let summary = "2-D convolution with a square kernel, stride and zero padding (PyTorch nn.Conv2d); input channels inferred."
    /// Output channels, at least 1.
    public var outChannels: Int
    /// Side of the square kernel, at least 1.
    public var kernelSize: Int
    /// Step between windows (default 1).
    public var stride: Int = 1
    /// Zeros added on every side (default 0).
    public var padding: Int = 0
    /// Whether the layer adds a bias (default true).
    public var bias: Bool = true

    public init(outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.bias = bias
    }

    /// Decodes the required `out_channels`, `kernel_size` and the optional rest.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(outChannels: try c.decode(Int.self, forKey: .outChannels), kernelSize: try c.decode(Int.self, forKey: .kernelSize))
        if let stride = try c.decodeIfPresent(Int.self, forKey: .stride) { self.stride = stride }
        if let padding = try c.decodeIfPresent(Int.self, forKey: .padding) { self.padding = padding }
        if let bias = try c.decodeIfPresent(Bool.self, forKey: .bias) { self.bias = bias }
    }

    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count == 4 else {
            throw .incompatibleInput(layer: Self.kind, expected: "[channels, height, width]", got: inputShape)
        }
        guard outChannels >= 1, kernelSize >= 1, stride >= 1, padding >= 0 else {
            throw .invalidParameter(layer: Self.kind, message: "out_channels, kernel_size and stride must be ≥ 1 and padding ≥ 0")
        }
        let g = geometry(inputShape)
        guard g.isValid else {
            throw .incompatibleInput(layer: Self.kind, expected: "an image at least \(kernelSize - 2 * padding) pixels on a side", got: inputShape)
        }
        return g.outputShape
    }

    func geometry(_ s: [Int]) -> Conv2dGeometry {
        Conv2dGeometry(
            batch: s[0], inChannels: s[1], height: s[2], width: s[3], outChannels: outChannels,
            kernelHeight: kernelSize, kernelWidth: kernelSize, stride: stride, padding: padding)
    }

    public func multiplyAccumulates(for inputShape: [Int]) -> Int {
        let g = geometry(inputShape)
        return g.outChannels * g.outHeight * g.outWidth * g.patchSize
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return Conv2d(spec: self, inChannels: inputShape[1], rng: &rng)
    }
}

public final class Conv2d: Layer {
    public let spec: Conv2dSpec
    public let weight: Parameter
    public let bias: Parameter?

    public init(spec: Conv2dSpec, inChannels: Int, rng: inout RandomSource) {
        self.spec = spec
        let k = spec.kernelSize
        let bound = 1 / Float(inChannels * k * k).squareRoot()
        weight = Parameter(name: "weight", value: .uniform(shape: [spec.outChannels, inChannels, k, k], low: -bound, high: bound, using: &rng))
        bias = spec.bias ? Parameter(name: "bias", value: .uniform(shape: [spec.outChannels], low: -bound, high: bound, using: &rng)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func outputShape(for inputShape: [Int]) -> [Int] { spec.geometry(inputShape).outputShape }

    public func multiplyAccumulates(for inputShape: [Int]) -> Int { spec.multiplyAccumulates(for: inputShape) }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        let w = context.variable(for: weight)
        let b = bias.map { context.variable(for: $0) }
        return input.conv2d(weight: w, bias: b, stride: spec.stride, padding: spec.padding)
    }

    /// The convolution followed by 2×2 max pooling with stride 2 (and a ReLU with `relu`), as one
    /// op (the same values and gradients as `forward` then the pooling and the ReLU); nil when
    /// the output has an odd side.
    public func forwardPooled2x2(_ input: Variable, relu: Bool, context: inout ForwardContext) -> Variable? {
        let shape = outputShape(for: input.shape)
        guard shape[2] % 2 == 0, shape[3] % 2 == 0 else { return nil }
        let w = context.variable(for: weight)
        let b = bias.map { context.variable(for: $0) }
        return input.conv2dMaxPool2x2(weight: w, bias: b, stride: spec.stride, padding: spec.padding, relu: relu)
    }
}
