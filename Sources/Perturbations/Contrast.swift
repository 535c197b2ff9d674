import Spec
import Tensors

/// Contrast reduction: each channel of each image moves toward its own mean,
/// `x' = clip((x − mean) · factor + mean, 0, 1)`.
///
/// Hendrycks & Dietterich (ICLR 2019), "contrast". Severities 1–5, factor: CIFAR-10-C 0.75,
/// 0.5, 0.4, 0.3, 0.15; ImageNet-C 0.4, 0.3, 0.2, 0.1, 0.05. `factor` in [0, 1) replaces a severity.
public struct Contrast: Corruption, Equatable {
    public static let kind = "contrast"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "factor": "from severity"]
    public static let summary = "Contrast reduction toward each channel's mean: severity 1–5 or factor in [0, 1)."
    public static let table = SeverityTable<Float>(cifar: [0.75, 0.5, 0.4, 0.3, 0.15], imagenet: [0.4, 0.3, 0.2, 0.1, 0.05])
    public var severity: Int?
    /// The remaining fraction of each pixel's distance from the mean, in [0, 1).
    public var factor: Float?

    public init(severity: Int? = nil, factor: Float? = nil) {
        self.severity = severity
        self.factor = factor
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("factor", factor != nil)])
        if let factor, !(factor >= 0 && factor < 1) { found.append("factor must be in [0, 1), got \(factor)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("factor", factor)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let factor = self.factor ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        let (channels, height, width) = images.imageGeometry
        let size = height * width
        return images.mappingImages(&rng) { image, _ in
            for c in 0..<channels {
                let plane = (c * size)..<((c + 1) * size)
                var sum: Float = 0
                for i in plane { sum += image[i] }
                let mean = sum / Float(size)
                for i in plane { image[i] = clip01((image[i] - mean) * factor + mean) }
            }
        }
    }
}
