import Spec
import Tensors

/// Brightness increase in HSV space: the value channel V = max over colour channels rises by
/// `delta` (clipped to 1) with hue and saturation kept, so every channel of a pixel scales by
/// `V'/V`; a black pixel becomes grey `V'`. For one channel this is `x' = min(1, x + delta)`.
///
/// Hendrycks & Dietterich (ICLR 2019), "brightness". Severities 1–5, delta: CIFAR-10-C 0.05,
/// 0.1, 0.15, 0.2, 0.3; ImageNet-C 0.1, 0.2, 0.3, 0.4, 0.5. `delta` in (0, 1] replaces a severity.
public struct Brightness: Corruption, Equatable {
    public static let kind = "brightness"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "delta": "from severity"]
    public static let summary = "HSV value increase: severity 1–5 or delta in (0, 1]."
    public static let table = SeverityTable<Float>(cifar: [0.05, 0.1, 0.15, 0.2, 0.3], imagenet: [0.1, 0.2, 0.3, 0.4, 0.5])
    public var severity: Int?
    /// Added to the HSV value, in (0, 1].
    public var delta: Float?

    public init(severity: Int? = nil, delta: Float? = nil) {
        self.severity = severity
        self.delta = delta
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("delta", delta != nil)])
        if let delta, !(delta > 0 && delta <= 1) { found.append("delta must be in (0, 1], got \(delta)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("delta", delta)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let delta = self.delta ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        let (channels, height, width) = images.imageGeometry
        let size = height * width
        return images.mappingImages(&rng) { image, _ in
            for p in 0..<size {
                var value: Float = 0
                for c in 0..<channels { value = max(value, image[c * size + p]) }
                let raised = min(1, value + delta)
                for c in 0..<channels {
                    image[c * size + p] = value > 0 ? clip01(image[c * size + p] * raised / value) : raised
                }
            }
        }
    }
}
