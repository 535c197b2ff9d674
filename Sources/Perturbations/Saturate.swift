import Spec
import Tensors

/// Saturation change in HSV space for RGB images: `S' = clip(S · factor + shift, 0, 1)` with hue
/// and value kept. In HSV each channel is `V − (V − x)·S'/S`; a grey pixel (S = 0) has hue 0
/// (red) as in scikit-image, so a positive shift tints it red.
///
/// Hendrycks & Dietterich (ICLR 2019), "saturate". Severities 1–5, (factor, shift): CIFAR-10-C
/// (0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2); ImageNet-C (0.3, 0), (0.1, 0), (2, 0),
/// (5, 0.1), (20, 0.2). Grayscale images have no saturation: use `invert` for them.
public struct Saturate: Corruption, Equatable {
    public static let kind = "saturate"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "factor": "from severity", "shift": "from severity"]
    public static let summary = "HSV saturation change for RGB images: severity 1–5 or factor and shift."
    public static let table = SeverityTable<(factor: Float, shift: Float)>(
        cifar: [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)],
        imagenet: [(0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)])
    public var severity: Int?
    /// Multiplies the saturation, in [0, 100].
    public var factor: Float?
    /// Added to the saturation after scaling, in [0, 1].
    public var shift: Float?

    public init(severity: Int? = nil, factor: Float? = nil, shift: Float? = nil) {
        self.severity = severity
        self.factor = factor
        self.shift = shift
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("factor", factor != nil), ("shift", shift != nil)])
        if let factor, !(0...100).contains(factor) { found.append("factor must be in [0, 100], got \(factor)") }
        if let shift, !(0...1).contains(shift) { found.append("shift must be in [0, 1], got \(shift)") }
        return found
    }

    public func problems(sampleShape: [Int]) -> [String] {
        sampleShape.count == 3 && sampleShape[0] == 3
            ? []
            : [
                "saturate needs RGB images [3, height, width]; the dataset's samples are \(shapeText(sampleShape)) (grayscale images have no saturation: use invert)"
            ]
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("factor", factor), ("shift", shift)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let parameters = Self.table.value(severity ?? 1, imageShape: images.shape)
        let factor = self.factor ?? parameters.factor, shift = self.shift ?? parameters.shift
        let (channels, height, width) = images.imageGeometry
        let size = height * width
        return images.mappingImages(&rng) { image, _ in
            for p in 0..<size {
                var value: Float = 0, minimum: Float = 1
                for c in 0..<channels {
                    value = max(value, image[c * size + p])
                    minimum = min(minimum, image[c * size + p])
                }
                guard value > 0 else { continue }
                let saturation = (value - minimum) / value
                let target = clip01(saturation * factor + shift)
                for c in 0..<channels {
                    let x = image[c * size + p]
                    image[c * size + p] =
                        saturation > 0
                        ? clip01(value - (value - x) * target / saturation)
                        : (c == 0 ? value : value * (1 - target))
                }
            }
        }
    }
}
