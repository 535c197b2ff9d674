import Spec
import Tensors

/// Defocus blur: each channel correlated with a disk of radius `radius` pixels, the disk
/// anti-aliased by a small Gaussian blur of standard deviation `alias_blur`; borders mirror
/// without repeating the edge (OpenCV's default).
///
/// Hendrycks & Dietterich (ICLR 2019), "defocus blur": the disk is sampled on a 17×17 grid
/// (wider for radius > 8) and smoothed with a 3×3 Gaussian (5×5 for radius > 8). Severities
/// 1–5, (radius, alias_blur): CIFAR-10-C (0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1);
/// ImageNet-C (3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5).
public struct DefocusBlur: SpatialCorruption, Equatable {
    public static let kind = "defocus_blur"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "radius": "from severity", "alias_blur": "from severity"]
    public static let summary = "Disk-shaped lens blur: severity 1–5 or radius and alias_blur in pixels."
    public static let table = SeverityTable<(radius: Float, aliasBlur: Float)>(
        cifar: [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)],
        imagenet: [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)])
    public var severity: Int?
    /// Disk radius in pixels, in (0, 50].
    public var radius: Float?
    /// Standard deviation of the anti-aliasing Gaussian in pixels, in (0, 5].
    public var aliasBlur: Float?

    public init(severity: Int? = nil, radius: Float? = nil, aliasBlur: Float? = nil) {
        self.severity = severity
        self.radius = radius
        self.aliasBlur = aliasBlur
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("radius", radius != nil), ("alias_blur", aliasBlur != nil)])
        if let radius, !(radius > 0 && radius <= 50) { found.append("radius must be in (0, 50] pixels, got \(radius)") }
        if let aliasBlur, !(aliasBlur > 0 && aliasBlur <= 5) { found.append("alias_blur must be in (0, 5] pixels, got \(aliasBlur)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("radius", radius), ("alias_blur", aliasBlur)]) }

    /// The normalised, anti-aliased disk and its side.
    static func kernel(radius: Float, aliasBlur: Float) -> (values: [Float], size: Int) {
        let half = radius <= 8 ? 8 : Int(radius.rounded(.up))
        let size = 2 * half + 1
        var disk = ImagePlane(width: size, height: size, values: Array(repeating: 0, count: size * size))
        for y in -half...half {
            for x in -half...half where Float(x * x + y * y) <= radius * radius {
                disk.values[(y + half) * size + x + half] = 1
            }
        }
        let total = disk.values.reduce(0, +)
        disk.values = disk.values.map { $0 / total }
        let smoothing = ImagePlane.gaussianKernel(sigma: aliasBlur, radius: radius <= 8 ? 1 : 2)
        return (disk.separablyFiltered(smoothing, border: .reflect101).values, size)
    }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let parameters = Self.table.value(severity ?? 1, imageShape: images.shape)
        let kernel = Self.kernel(radius: radius ?? parameters.radius, aliasBlur: aliasBlur ?? parameters.aliasBlur)
        return images.mappingPlanes { $0.correlated(with: kernel.values, size: kernel.size, border: .reflect101).clipped() }
    }
}
