import Tensors

/// Max pooling with a square window (PyTorch's `nn.MaxPool2d`; `stride` defaults to the
/// kernel size, padding at most half the kernel).
public struct MaxPool2dSpec: LayerSpec, Equatable {
    public static let kind = "maxpool2d"
    public static let summary = "Max pooling over square windows (PyTorch nn.MaxPool2d)."
    public var kernelSize: Int
    public var stride: Int?
    public var padding: Int = 0

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    /// Decodes the required `kernel_size` and the optional `stride` and `padding`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kernelSize: try c.decode(Int.self, forKey: .kernelSize),
                  stride: try c.decodeIfPresent(Int.self, forKey: .stride))
        if let padding = try c.decodeIfPresent(Int.self, forKey: .padding) { self.padding = padding }
    }

    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        try PoolingShape.output(Self.kind, inputShape, kernel: kernelSize, stride: stride ?? kernelSize, padding: padding)
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return MaxPool2d(spec: self)
    }
}

public final class MaxPool2d: Layer {
    public let spec: MaxPool2dSpec
    public init(spec: MaxPool2dSpec) { self.spec = spec }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        (try? spec.outputShape(for: inputShape)) ?? inputShape
    }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        input.maxPool2d(kernel: spec.kernelSize, stride: spec.stride, padding: spec.padding)
    }
}

/// The shape rule shared by the pooling layers.
enum PoolingShape {
    static func output(_ kind: String, _ s: [Int], kernel: Int, stride: Int, padding: Int) throws(ModelError) -> [Int] {
        guard s.count == 4 else { throw .incompatibleInput(layer: kind, expected: "[channels, height, width]", got: s) }
        guard kernel >= 1, stride >= 1, padding >= 0, 2 * padding <= kernel else {
            throw .invalidParameter(layer: kind, message: "kernel_size and stride must be ≥ 1 and padding at most half the kernel")
        }
        let g = Conv2dGeometry(batch: s[0], inChannels: s[1], height: s[2], width: s[3], outChannels: s[1],
                               kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding)
        guard g.isValid else {
            throw .incompatibleInput(layer: kind, expected: "an image at least \(kernel - 2 * padding) pixels on a side", got: s)
        }
        return [s[0], s[1], g.outHeight, g.outWidth]
    }
}
