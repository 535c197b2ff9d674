import Spec
import Tensors

/// Additive Gaussian noise, `x' = clip(x + 𝒩(0, std²), 0, 1)`, independent per value.
///
/// Hendrycks & Dietterich (ICLR 2019), "Gaussian noise". Severities 1–5, std in pixel units:
/// CIFAR-10-C 0.04, 0.06, 0.08, 0.09, 0.10; ImageNet-C 0.08, 0.12, 0.18, 0.26, 0.38.
/// `std` in (0, 1] replaces a severity.
public struct GaussianNoise: Corruption, Equatable {
    public static let kind = "gaussian_noise"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "std": "from severity"]
    public static let summary = "Additive Gaussian noise: severity 1–5 (CIFAR-10-C / ImageNet-C table by image size) or std in pixel units, clipped to [0, 1]."
    public static let table = SeverityTable<Float>(cifar: [0.04, 0.06, 0.08, 0.09, 0.10], imagenet: [0.08, 0.12, 0.18, 0.26, 0.38])
    /// Published severity 1–5.
    public var severity: Int?
    /// Standard deviation of the noise in [0, 1] pixel units, in (0, 1].
    public var std: Float?

    public init(severity: Int? = nil, std: Float? = nil) {
        self.severity = severity
        self.std = std
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("std", std != nil)])
        if let std, !(std > 0 && std <= 1) { found.append("std must be in (0, 1] (pixel units), got \(std)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("std", std)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let std = self.std ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        return Tensor(shape: images.shape, scalars: zip(images.scalars, rng.normals(count: images.count)).map { clip01($0 + std * $1) })
    }
}
