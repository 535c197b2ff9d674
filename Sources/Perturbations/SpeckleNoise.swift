import Spec
import Tensors

/// Speckle (multiplicative) noise, `x' = clip(x + x · 𝒩(0, std²), 0, 1)`, independent per value.
///
/// Hendrycks & Dietterich (ICLR 2019), "speckle noise". Severities 1–5, std: CIFAR-10-C 0.06,
/// 0.1, 0.12, 0.16, 0.2; ImageNet-C 0.15, 0.2, 0.35, 0.45, 0.6. `std` in (0, 2] replaces a severity.
public struct SpeckleNoise: Corruption, Equatable {
    public static let kind = "speckle_noise"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "std": "from severity"]
    public static let summary = "Multiplicative Gaussian noise x + x·N(0, std²): severity 1–5 or std."
    public static let table = SeverityTable<Float>(cifar: [0.06, 0.1, 0.12, 0.16, 0.2], imagenet: [0.15, 0.2, 0.35, 0.45, 0.6])
    public var severity: Int?
    /// Relative standard deviation, in (0, 2].
    public var std: Float?

    public init(severity: Int? = nil, std: Float? = nil) {
        self.severity = severity
        self.std = std
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("std", std != nil)])
        if let std, !(std > 0 && std <= 2) { found.append("std must be in (0, 2], got \(std)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("std", std)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let std = self.std ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        return images.mappingValues(&rng) { x, rng in clip01(x + x * std * rng.normal()) }
    }
}
