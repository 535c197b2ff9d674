import Spec
import Tensors

/// Images of independent uniform pixels in [0, 1] (the "uniform noise" OOD set of Hendrycks &
/// Gimpel 2017).
public struct UniformImages: OutOfDistributionSource, Equatable {
    public static let kind = "uniform_images"
    public static let defaults = ["samples": "the test split's size"]
    public static let summary = "Images of independent uniform [0, 1] pixels."
    /// Images drawn, ≥ 1 (default: the test split's size).
    public var samples: Int?

    public init(samples: Int? = nil) { self.samples = samples }

    public var label: String { Self.kind }
    public func problems() -> [String] { samplesProblems(samples) }

    public func images(count: Int, like reference: ImageDataset, rng: inout RandomSource) -> Tensor {
        let shape = [count] + Array(reference.images.shape.dropFirst())
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextUnitFloat() })
    }
}
