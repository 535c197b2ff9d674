import Spec
import Tensors

/// Images of independent Gaussian pixels `N(mean, std²)` clipped to [0, 1] (the "Gaussian
/// noise" OOD set of Hendrycks & Gimpel 2017; defaults mean 0.5, std 0.25).
public struct GaussianImages: OutOfDistributionSource, Equatable {
    public static let kind = "gaussian_images"
    public static let defaults = ["mean": "0.5", "std": "0.25", "samples": "the test split's size"]
    public static let summary = "Images of independent Gaussian pixels clipped to [0, 1] (default mean 0.5, std 0.25)."
    /// Pixel mean in [0, 1] (default 0.5).
    public var mean: Float?
    /// Pixel standard deviation, > 0 (default 0.25).
    public var std: Float?
    /// Images drawn, ≥ 1 (default: the test split's size).
    public var samples: Int?

    public init(mean: Float? = nil, std: Float? = nil, samples: Int? = nil) {
        self.mean = mean
        self.std = std
        self.samples = samples
    }

    public var label: String {
        mean == nil && std == nil ? Self.kind : "\(Self.kind)(mean=\(mean ?? 0.5),std=\(std ?? 0.25))"
    }

    public func problems() -> [String] {
        var found = samplesProblems(samples)
        if let mean, !(0...1).contains(mean) { found.append("mean must be in [0, 1] (pixel units), got \(mean)") }
        if let std, !(std > 0) { found.append("std must be > 0, got \(std)") }
        return found
    }

    public func images(count: Int, like reference: ImageDataset, rng: inout RandomSource) -> Tensor {
        let shape = [count] + Array(reference.images.shape.dropFirst())
        let mean = self.mean ?? 0.5, std = self.std ?? 0.25
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in min(max(mean + std * rng.normal(), 0), 1) })
    }
}
