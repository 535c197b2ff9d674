import Spec
import Tensors

/// Pixelation: each channel shrunk to `⌊side · factor⌋` pixels by area averaging, then enlarged
/// back to its size by area averaging (a box filter both ways).
///
/// Hendrycks & Dietterich (ICLR 2019), "pixelate" (PIL box resampling). Severities 1–5, factor:
/// CIFAR-10-C 0.95, 0.9, 0.85, 0.75, 0.65; ImageNet-C 0.6, 0.5, 0.4, 0.3, 0.25. `factor` in
/// (0, 1) replaces a severity.
public struct Pixelate: SpatialCorruption, Equatable {
    public static let kind = "pixelate"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "factor": "from severity"]
    public static let summary = "Box down- and up-sampling: severity 1–5 or factor (the reduced side as a fraction)."
    public static let table = SeverityTable<Float>(cifar: [0.95, 0.9, 0.85, 0.75, 0.65], imagenet: [0.6, 0.5, 0.4, 0.3, 0.25])
    public var severity: Int?
    /// The reduced side as a fraction of the original, in (0, 1).
    public var factor: Float?

    public init(severity: Int? = nil, factor: Float? = nil) {
        self.severity = severity
        self.factor = factor
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("factor", factor != nil)])
        if let factor, !(factor > 0 && factor < 1) { found.append("factor must be in (0, 1), got \(factor)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("factor", factor)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let factor = self.factor ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        let (_, height, width) = images.imageGeometry
        let small = (width: max(1, Int(Float(width) * factor)), height: max(1, Int(Float(height) * factor)))
        return images.mappingPlanes { $0.areaResized(width: small.width, height: small.height).areaResized(width: width, height: height) }
    }
}
