import Spec
import Tensors

/// Zoom blur: the mean of the image and its magnifications about the centre by the factors
/// `1, 1 + step, 1 + 2·step, …, max_zoom` (bilinear, edge pixels repeating), clipped to [0, 1].
///
/// Hendrycks & Dietterich (ICLR 2019), "zoom blur". Severities 1–5 as (max_zoom, step), the
/// factor lists of the published NumPy ranges: CIFAR-10-C (1.06, 0.01), (1.11, 0.01),
/// (1.15, 0.01), (1.20, 0.01), (1.25, 0.01); ImageNet-C (1.11, 0.01), (1.15, 0.01), (1.20, 0.02),
/// (1.24, 0.02), (1.30, 0.03). The published code zooms a centre crop with SciPy's spline zoom
/// (order 1), whose grid differs from this resampler's by under a pixel; values are not
/// bit-for-bit the published sets.
public struct ZoomBlur: SpatialCorruption, Equatable {
    public static let kind = "zoom_blur"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "max_zoom": "from severity", "step": "from severity"]
    public static let summary = "Mean of the image and its zooms about the centre up to max_zoom: severity 1–5 or max_zoom and step."
    public static let table = SeverityTable<(maxZoom: Double, step: Double)>(
        cifar: [(1.06, 0.01), (1.11, 0.01), (1.15, 0.01), (1.20, 0.01), (1.25, 0.01)],
        imagenet: [(1.11, 0.01), (1.15, 0.01), (1.20, 0.02), (1.24, 0.02), (1.30, 0.03)])
    public var severity: Int?
    /// The largest magnification, in (1, 3].
    public var maxZoom: Double?
    /// The difference between successive magnifications, in (0, max_zoom − 1].
    public var step: Double?

    public init(severity: Int? = nil, maxZoom: Double? = nil, step: Double? = nil) {
        self.severity = severity
        self.maxZoom = maxZoom
        self.step = step
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("max_zoom", maxZoom != nil), ("step", step != nil)])
        if let maxZoom, !(maxZoom > 1 && maxZoom <= 3) { found.append("max_zoom must be in (1, 3], got \(maxZoom)") }
        if let step, !(step > 0 && step <= (maxZoom ?? 3) - 1) { found.append("step must be in (0, max_zoom − 1], got \(step)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("max_zoom", maxZoom.map(Float.init)), ("step", step.map(Float.init))]) }

    /// `1, 1 + step, …` up to `maxZoom` (inclusive, to a hundredth of a step).
    static func factors(maxZoom: Double, step: Double) -> [Double] {
        (0...Int(((maxZoom - 1) / step + 0.01).rounded(.down))).map { 1 + Double($0) * step }
    }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let parameters = Self.table.value(severity ?? 1, imageShape: images.shape)
        let factors = Self.factors(maxZoom: maxZoom ?? parameters.maxZoom, step: step ?? parameters.step)
        let (channels, height, width) = images.imageGeometry
        let cx = Float(width - 1) / 2, cy = Float(height - 1) / 2
        return images.mappingImages(&rng) { image, _ in
            image.transformPlanes(channels: channels, height: height, width: width) { plane in
                var sum = plane.values
                for factor in factors.dropFirst() {
                    let z = Float(factor)
                    for y in 0..<height {
                        for x in 0..<width {
                            sum[y * width + x] += plane.bilinear((Float(x) - cx) / z + cx, (Float(y) - cy) / z + cy, .replicate)
                        }
                    }
                }
                let count = Float(factors.count + 1)
                // The unzoomed image counts twice, as in the published code (the image plus the
                // factor 1 of its range).
                var out = plane
                for i in out.values.indices { out.values[i] = clip01((plane.values[i] + sum[i]) / count) }
                return out
            }
        }
    }
}
