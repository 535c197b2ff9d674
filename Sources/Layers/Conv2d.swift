import Spec
import Tensors

/// A 2-D convolution (cross-correlation) over NCHW input (PyTorch's `nn.Conv2d` with a square
/// kernel): equal stride on both axes, zero padding (`padding` on every side, or `pads` per
/// side: top, left, bottom, right, as ONNX orders them), `dilation`, and `groups` (each group of
/// `in / groups` input channels makes `out / groups` output channels; `groups` = channels is a
/// depthwise convolution). The weight is `[out, in / groups, k, k]`.
///
/// Input channels are inferred from the input shape. Initialisation as PyTorch: weight and bias
/// uniform in `±1/√(in/groups·k·k)`.
public struct Conv2dSpec: LayerSpec, Equatable {
    public static let kind = "conv2d"
    public static let defaults = [
        "stride": "1", "padding": "0", "bias": "true", "dilation": "1", "groups": "1", "pads": "padding on every side",
    ]
    public static let summary =
        "2-D convolution with a square kernel, stride, zero padding (or pads per side), dilation and groups (PyTorch nn.Conv2d); input channels inferred."
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
    /// Spacing of the kernel's taps, ≥ 1 (default 1).
    public var dilation: Int?
    /// Channel groups, ≥ 1, dividing the input and output channels (default 1).
    public var groups: Int?
    /// Zeros added at the top, left, bottom and right, each ≥ 0, instead of `padding`.
    public var pads: [Int]?

    public init(
        outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true, dilation: Int? = nil, groups: Int? = nil,
        pads: [Int]? = nil
    ) {
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.bias = bias
        self.dilation = dilation
        self.groups = groups
        self.pads = pads
    }

    /// Whether the convolution is the chain's (one group, no dilation, even padding), which has
    /// the fast kernels and the fused pooling path.
    var isPlain: Bool { (dilation ?? 1) == 1 && (groups ?? 1) == 1 && pads == nil }

    public func problems() -> [String] {
        var found: [String] = []
        if let dilation, dilation < 1 { found.append("dilation must be ≥ 1, got \(dilation)") }
        if let groups, groups < 1 { found.append("groups must be ≥ 1, got \(groups)") }
        if let pads, pads.count != 4 || pads.contains(where: { $0 < 0 }) {
            found.append("pads must be four values ≥ 0 (top, left, bottom, right), got \(pads)")
        }
        if pads != nil, padding != 0 { found.append("pads replaces padding; give one of them") }
        return found
    }

    /// Decodes the required `out_channels`, `kernel_size` and the optional rest.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(outChannels: try c.decode(Int.self, forKey: .outChannels), kernelSize: try c.decode(Int.self, forKey: .kernelSize))
        if let stride = try c.decodeIfPresent(Int.self, forKey: .stride) { self.stride = stride }
        if let padding = try c.decodeIfPresent(Int.self, forKey: .padding) { self.padding = padding }
        if let bias = try c.decodeIfPresent(Bool.self, forKey: .bias) { self.bias = bias }
        dilation = try c.decodeIfPresent(Int.self, forKey: .dilation)
        groups = try c.decodeIfPresent(Int.self, forKey: .groups)
        pads = try c.decodeIfPresent([Int].self, forKey: .pads)
    }

    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard inputShape.count == 4 else {
            throw .incompatibleInput(layer: Self.kind, expected: "[channels, height, width]", got: inputShape)
        }
        guard outChannels >= 1, kernelSize >= 1, stride >= 1, padding >= 0, problems().isEmpty else {
            throw .invalidParameter(layer: Self.kind, message: "out_channels, kernel_size and stride must be ≥ 1 and padding ≥ 0")
        }
        let g = generalGeometry(inputShape)
        guard inputShape[1] % g.groups == 0, outChannels % g.groups == 0 else {
            throw .invalidParameter(
                layer: Self.kind, message: "groups (\(g.groups)) must divide the input channels (\(inputShape[1])) and out_channels (\(outChannels))")
        }
        guard g.isValid else {
            let reach = (dilation ?? 1) * (kernelSize - 1) + 1
            let least = pads.map { "an image the kernel (\(reach) pixels) fits with pads \($0)" } ?? "an image at least \(reach - 2 * padding) pixels on a side"
            throw .incompatibleInput(layer: Self.kind, expected: least, got: inputShape)
        }
        return g.outputShape
    }

    /// The convolution's geometry for an input shape, in the general form.
    func generalGeometry(_ s: [Int]) -> ConvolutionGeometry {
        let p = pads ?? [padding, padding, padding, padding]
        let d = dilation ?? 1
        return ConvolutionGeometry(
            batch: s[0], inChannels: s[1], height: s[2], width: s[3], outChannels: outChannels, kernelHeight: kernelSize,
            kernelWidth: kernelSize, stride: (stride, stride), dilation: (d, d), pads: (p[0], p[1], p[2], p[3]), groups: groups ?? 1)
    }

    public func multiplyAccumulates(for inputShape: [Int]) -> Int {
        let g = generalGeometry(inputShape)
        return g.outChannels * g.outHeight * g.outWidth * g.inChannels / g.groups * kernelSize * kernelSize
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
        let k = spec.kernelSize, perGroup = inChannels / (spec.groups ?? 1)
        let bound = 1 / Float(perGroup * k * k).squareRoot()
        weight = Parameter(name: "weight", value: .uniform(shape: [spec.outChannels, perGroup, k, k], low: -bound, high: bound, using: &rng))
        bias = spec.bias ? Parameter(name: "bias", value: .uniform(shape: [spec.outChannels], low: -bound, high: bound, using: &rng)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func outputShape(for inputShape: [Int]) -> [Int] { spec.generalGeometry(inputShape).outputShape }

    public func multiplyAccumulates(for inputShape: [Int]) -> Int { spec.multiplyAccumulates(for: inputShape) }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        let w = context.variable(for: weight)
        let b = bias.map { context.variable(for: $0) }
        guard spec.isPlain else { return input.convolution(weight: w, bias: b, geometry: spec.generalGeometry(input.shape)) }
        return input.conv2d(weight: w, bias: b, stride: spec.stride, padding: spec.padding)
    }

    /// The convolution followed by 2×2 max pooling with stride 2 (and a ReLU with `relu`), as one
    /// op (the same values and gradients as `forward` then the pooling and the ReLU); nil when
    /// the output has an odd side.
    public func forwardPooled2x2(_ input: Variable, relu: Bool, context: inout ForwardContext) -> Variable? {
        let shape = outputShape(for: input.shape)
        guard spec.isPlain, shape[2] % 2 == 0, shape[3] % 2 == 0 else { return nil }
        let w = context.variable(for: weight)
        let b = bias.map { context.variable(for: $0) }
        return input.conv2dMaxPool2x2(weight: w, bias: b, stride: spec.stride, padding: spec.padding, relu: relu)
    }
}
