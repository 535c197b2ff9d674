import Tensors

/// Average pooling with a square window (PyTorch's `nn.AvgPool2d` with its default
/// `count_include_pad=True`: padded positions count as zeros in every window's mean).
public struct AvgPool2dSpec: LayerSpec, Equatable {
    public static let kind = "avgpool2d"
    public static let summary = "Average pooling over square windows, padding counted (PyTorch nn.AvgPool2d)."
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
        return AvgPool2d(spec: self)
    }
}

public final class AvgPool2d: Layer {
    public let spec: AvgPool2dSpec
    public init(spec: AvgPool2dSpec) { self.spec = spec }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        (try? spec.outputShape(for: inputShape)) ?? inputShape
    }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        input.avgPool2d(kernel: spec.kernelSize, stride: spec.stride, padding: spec.padding)
    }
}
