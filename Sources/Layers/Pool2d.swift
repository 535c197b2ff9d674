import Spec
import Tensors

/// How a pooling layer reduces each window; one conforming type per pooling kind.
public protocol PoolingMode: Sendable {
    /// The `type:` name of the kind in experiment files.
    static var kind: String { get }
    static var summary: String { get }
    static func pool(_ input: Variable, kernel: Int, stride: Int?, padding: Int) -> Variable
}

/// Pooling over square windows (`kernel_size`; `stride` defaults to the kernel size; padding at
/// most half the kernel), the reduction chosen by `Mode`.
public struct Pool2dSpec<Mode: PoolingMode>: LayerSpec, Equatable {
    public static var defaults: [String: String] { ["stride": "kernel_size", "padding": "0"] }
    public static var kind: String { Mode.kind }
    public static var summary: String { Mode.summary }
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
        self.init(
            kernelSize: try c.decode(Int.self, forKey: .kernelSize),
            stride: try c.decodeIfPresent(Int.self, forKey: .stride))
        if let padding = try c.decodeIfPresent(Int.self, forKey: .padding) { self.padding = padding }
    }

    public func outputShape(for s: [Int]) throws(ModelError) -> [Int] {
        let stride = self.stride ?? kernelSize
        guard s.count == 4 else { throw .incompatibleInput(layer: Self.kind, expected: "[channels, height, width]", got: s) }
        guard kernelSize >= 1, stride >= 1, padding >= 0, 2 * padding <= kernelSize else {
            throw .invalidParameter(layer: Self.kind, message: "kernel_size and stride must be ≥ 1 and padding at most half the kernel")
        }
        let g = Conv2dGeometry(
            batch: s[0], inChannels: s[1], height: s[2], width: s[3], outChannels: s[1],
            kernelHeight: kernelSize, kernelWidth: kernelSize, stride: stride, padding: padding)
        guard g.isValid else {
            throw .incompatibleInput(layer: Self.kind, expected: "an image at least \(kernelSize - 2 * padding) pixels on a side", got: s)
        }
        return [s[0], s[1], g.outHeight, g.outWidth]
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return Pool2d(spec: self)
    }
}

public final class Pool2d<Mode: PoolingMode>: Layer {
    public let spec: Pool2dSpec<Mode>
    public init(spec: Pool2dSpec<Mode>) { self.spec = spec }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        (try? spec.outputShape(for: inputShape)) ?? inputShape
    }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        Mode.pool(input, kernel: spec.kernelSize, stride: spec.stride, padding: spec.padding)
    }
}
