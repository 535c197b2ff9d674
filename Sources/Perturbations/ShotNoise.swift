import Spec
import Tensors

/// Shot (Poisson) noise, `x' = clip(Poisson(x · rate) / rate, 0, 1)`, independent per value:
/// photon counting with `rate` photons at full intensity.
///
/// Hendrycks & Dietterich (ICLR 2019), "shot noise". Severities 1–5, rate: CIFAR-10-C 500, 250,
/// 100, 75, 50; ImageNet-C 60, 25, 12, 5, 3 (fewer photons, more noise). `rate` > 0 replaces a
/// severity.
public struct ShotNoise: Corruption, Equatable {
    public static let kind = "shot_noise"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "rate": "from severity"]
    public static let summary = "Poisson photon noise: severity 1–5 or rate (photons at full intensity; lower is noisier)."
    public static let table = SeverityTable<Float>(cifar: [500, 250, 100, 75, 50], imagenet: [60, 25, 12, 5, 3])
    public var severity: Int?
    /// Photons at intensity 1, > 0.
    public var rate: Float?

    public init(severity: Int? = nil, rate: Float? = nil) {
        self.severity = severity
        self.rate = rate
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("rate", rate != nil)])
        if let rate, !(rate > 0) { found.append("rate must be > 0, got \(rate)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("rate", rate)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let rate = Double(self.rate ?? Self.table.value(severity ?? 1, imageShape: images.shape))
        return images.mappingValues(&rng) { x, rng in clip01(Float(rng.poisson(Double(max(0, x)) * rate) / rate)) }
    }
}
