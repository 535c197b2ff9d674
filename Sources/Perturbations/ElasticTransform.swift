import Spec
import Tensors

/// Elastic deformation: a small random affine warp, then a smooth random displacement field,
/// both resampled bilinearly with mirrored borders.
///
/// Simard, Steinkraus & Platt (ICDAR 2003) for the displacement field; the composition and the
/// constants are Hendrycks & Dietterich's "elastic transform" (ICLR 2019):
/// 1. the three points `centre ± side/3` move independently by uniform offsets in
///    `±affine · side`, and the image is warped by the affine map they define;
/// 2. `dx`, `dy` are uniform(−1, 1) fields blurred by a Gaussian of `sigma · side` pixels (cut at
///    3σ) and scaled by `alpha · side`; output pixel (x, y) reads (x + dx, y + dy).
///
/// Note that the CIFAR table's affine part shrinks as its displacement grows: on small images
/// where the affine part dominates (28×28 Fashion-MNIST), severity 1 can hurt accuracy more
/// than severity 5. The table is kept as published so numbers compare with papers.
///
/// All three parameters are fractions of the image side. Severities 1–5, (alpha, sigma, affine):
/// CIFAR-10-C (0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05),
/// (0.1, 0.03, 0.03); ImageNet-C (2, 0.7, 0.1), (2, 0.08, 0.2), (0.05, 0.01, 0.02),
/// (0.07, 0.01, 0.02), (0.12, 0.01, 0.02) times 244/224 (the published script multiplies by 244
/// for 224-pixel images).
public struct ElasticTransform: SpatialCorruption, Equatable {
    public static let kind = "elastic_transform"
    public static let defaults = [
        "severity": "none (give severity or the explicit parameters)", "alpha": "from severity", "sigma": "from severity", "affine": "from severity",
    ]
    public static let summary = "Random affine plus smooth displacement field: severity 1–5 or alpha, sigma, affine (fractions of the side)."
    static let imagenetScale: Float = 244.0 / 224.0
    public static let table = SeverityTable<(alpha: Float, sigma: Float, affine: Float)>(
        cifar: [(0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03)],
        imagenet: [(2, 0.7, 0.1), (2, 0.08, 0.2), (0.05, 0.01, 0.02), (0.07, 0.01, 0.02), (0.12, 0.01, 0.02)].map {
            ($0.0 * imagenetScale, $0.1 * imagenetScale, $0.2 * imagenetScale)
        })
    public var severity: Int?
    /// Displacement scale, a fraction of the side in [0, 5].
    public var alpha: Float?
    /// Smoothness of the displacement field, a fraction of the side in [0, 1].
    public var sigma: Float?
    /// Largest affine point offset, a fraction of the side in [0, 0.5].
    public var affine: Float?

    public init(severity: Int? = nil, alpha: Float? = nil, sigma: Float? = nil, affine: Float? = nil) {
        self.severity = severity
        self.alpha = alpha
        self.sigma = sigma
        self.affine = affine
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("alpha", alpha != nil), ("sigma", sigma != nil), ("affine", affine != nil)])
        if let alpha, !(0...5).contains(alpha) { found.append("alpha must be in [0, 5] (a fraction of the image side), got \(alpha)") }
        if let sigma, !(0...1).contains(sigma) { found.append("sigma must be in [0, 1] (a fraction of the image side), got \(sigma)") }
        if let affine, !(0...0.5).contains(affine) { found.append("affine must be in [0, 0.5] (a fraction of the image side), got \(affine)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("alpha", alpha), ("sigma", sigma), ("affine", affine)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let parameters = Self.table.value(severity ?? 1, imageShape: images.shape)
        let (channels, height, width) = images.imageGeometry
        let side = Float(min(width, height))
        let alpha = (self.alpha ?? parameters.alpha) * side, sigma = (self.sigma ?? parameters.sigma) * side
        let affine = (self.affine ?? parameters.affine) * side
        return images.mappingImages(&rng) { image, rng in
            let centre = (x: Float(width / 2), y: Float(height / 2)), square = Float(min(width, height) / 3)
            let from = [(centre.x + square, centre.y + square), (centre.x + square, centre.y - square), (centre.x - square, centre.y - square)]
            let to = from.map { ($0.0 + rng.uniform(-affine, affine), $0.1 + rng.uniform(-affine, affine)) }
            // The map from output positions back to source positions: `to` → `from`.
            let inverse = AffineMap(through: to, onto: from)
            let field = { (rng: inout RandomSource) -> ImagePlane in
                let noise = ImagePlane(width: width, height: height, values: (0..<(width * height)).map { _ in rng.uniform(-1, 1) })
                var smooth = noise.gaussianBlurred(sigma: sigma, truncate: 3, border: .reflect)
                smooth.values = smooth.values.map { $0 * alpha }
                return smooth
            }
            let dx = field(&rng), dy = field(&rng)
            image.transformPlanes(channels: channels, height: height, width: width) { plane in
                let warped = inverse.map { affineMap in plane.warped(border: .reflect101) { x, y in affineMap.apply(x, y) } } ?? plane
                var out = warped
                for y in 0..<height {
                    for x in 0..<width {
                        let i = y * width + x
                        out.values[i] = clip01(warped.bilinear(Float(x) + dx.values[i], Float(y) + dy.values[i], .reflect))
                    }
                }
                return out
            }
        }
    }
}

/// A 2-D affine map `(x, y) ↦ (a·x + b·y + c, d·x + e·y + f)`.
struct AffineMap {
    var a, b, c, d, e, f: Float

    init(a: Float, b: Float, c: Float, d: Float, e: Float, f: Float) {
        (self.a, self.b, self.c, self.d, self.e, self.f) = (a, b, c, d, e, f)
    }

    /// The map taking three points onto three others; nil when the first three are collinear.
    init?(through p: [(Float, Float)], onto q: [(Float, Float)]) {
        let (x1, y1) = p[0], (x2, y2) = p[1], (x3, y3) = p[2]
        let det = x1 * (y2 - y3) - y1 * (x2 - x3) + (x2 * y3 - x3 * y2)
        guard abs(det) > 1e-6 else { return nil }
        // Cramer's rule on [x y 1]·[a b c]ᵀ = target for each output coordinate.
        func solve(_ t1: Float, _ t2: Float, _ t3: Float) -> (Float, Float, Float) {
            let u = (t1 * (y2 - y3) - y1 * (t2 - t3) + (t2 * y3 - t3 * y2)) / det
            let v = (x1 * (t2 - t3) - t1 * (x2 - x3) + (x2 * t3 - x3 * t2)) / det
            let w = (x1 * (y2 * t3 - y3 * t2) - y1 * (x2 * t3 - x3 * t2) + t1 * (x2 * y3 - x3 * y2)) / det
            return (u, v, w)
        }
        (a, b, c) = solve(q[0].0, q[1].0, q[2].0)
        (d, e, f) = solve(q[0].1, q[1].1, q[2].1)
    }

    func apply(_ x: Float, _ y: Float) -> (Float, Float) { (a * x + b * y + c, d * x + e * y + f) }
}
