import Spec
import Foundation
import Tensors

/// Motion blur along a random direction: each output pixel is a weighted mean of the pixels on
/// a ray from it, tap `i` (0, 1, …, 2⌈radius⌉) at distance `i` pixels with weight
/// `exp(−i²/2σ²)`; edge pixels repeat beyond the border. The angle is drawn per image,
/// uniformly in [−45°, 45°].
///
/// Hendrycks & Dietterich (ICLR 2019), "motion blur", made with ImageMagick's one-sided motion
/// blur; this kernel follows the same construction. Severities 1–5, (radius, sigma) in pixels:
/// CIFAR-10-C (6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5); ImageNet-C (10, 3), (15, 5), (15, 8),
/// (15, 12), (20, 15).
public struct MotionBlur: SpatialCorruption, Equatable {
    public static let kind = "motion_blur"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "radius": "from severity", "sigma": "from severity"]
    public static let summary = "One-sided motion blur at a random angle in [-45°, 45°]: severity 1–5 or radius and sigma in pixels."
    public static let table = SeverityTable<(radius: Float, sigma: Float)>(
        cifar: [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)],
        imagenet: [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)])
    public var severity: Int?
    /// Half the kernel length in pixels, in (0, 50].
    public var radius: Float?
    /// Standard deviation of the weights along the ray in pixels, in (0, 50].
    public var sigma: Float?

    public init(severity: Int? = nil, radius: Float? = nil, sigma: Float? = nil) {
        self.severity = severity
        self.radius = radius
        self.sigma = sigma
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("radius", radius != nil), ("sigma", sigma != nil)])
        if let radius, !(radius > 0 && radius <= 50) { found.append("radius must be in (0, 50] pixels, got \(radius)") }
        if let sigma, !(sigma > 0 && sigma <= 50) { found.append("sigma must be in (0, 50] pixels, got \(sigma)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("radius", radius), ("sigma", sigma)]) }

    /// The taps of the ray at `degrees`: integer offsets and normalised weights.
    static func taps(radius: Float, sigma: Float, degrees: Float) -> [(dx: Int, dy: Int, weight: Float)] {
        let count = 2 * Int(radius.rounded(.up)) + 1
        let angle = Double(degrees) * .pi / 180
        let weights = (0..<count).map { i in Float(exp(-Double(i * i) / (2 * Double(sigma * sigma)))) }
        let total = weights.reduce(0, +)
        return (0..<count).map { i in
            (Int((Double(i) * cos(angle)).rounded()), Int((Double(i) * sin(angle)).rounded()), weights[i] / total)
        }
    }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let parameters = Self.table.value(severity ?? 1, imageShape: images.shape)
        let radius = self.radius ?? parameters.radius, sigma = self.sigma ?? parameters.sigma
        let (channels, height, width) = images.imageGeometry
        return images.mappingImages(&rng) { image, rng in
            let taps = Self.taps(radius: radius, sigma: sigma, degrees: rng.uniform(-45, 45))
            image.transformPlanes(channels: channels, height: height, width: width) { plane in
                var out = plane
                for y in 0..<height {
                    for x in 0..<width {
                        var sum: Float = 0
                        for tap in taps { sum += tap.weight * plane.value(x + tap.dx, y + tap.dy, .replicate) }
                        out.values[y * width + x] = clip01(sum)
                    }
                }
                return out
            }
        }
    }
}
