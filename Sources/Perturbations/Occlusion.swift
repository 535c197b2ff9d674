import Spec
import Tensors

/// Occlusion (cutout): one square of side `size · min(H, W)` pixels, centred at a uniformly
/// random pixel of each image (it may extend past the border), is set to `fill` in every channel.
///
/// DeVries & Taylor, "Improved Regularization of Convolutional Neural Networks with Cutout"
/// (2017). CIFAR-10-C has no occlusion; Gauntlet's severities 1–5 are sides of 0.1, 0.2, 0.3,
/// 0.4, 0.5 of the image (the same at every resolution; 0.5 is the paper's 16 of 32 pixels).
public struct Occlusion: SpatialCorruption, Equatable {
    public static let kind = "occlusion"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "size": "from severity", "fill": "0"]
    public static let summary = "Cutout: a square at a random position set to fill; severity 1–5 or size (fraction of the side)."
    public static let table = SeverityTable<Float>(cifar: [0.1, 0.2, 0.3, 0.4, 0.5], imagenet: [0.1, 0.2, 0.3, 0.4, 0.5])
    public var severity: Int?
    /// The square's side as a fraction of the image's shorter side, in (0, 1].
    public var size: Float?
    /// The value written, in [0, 1] (default 0).
    public var fill: Float?

    public init(severity: Int? = nil, size: Float? = nil, fill: Float? = nil) {
        self.severity = severity
        self.size = size
        self.fill = fill
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("size", size != nil)])
        if let size, !(size > 0 && size <= 1) { found.append("size must be in (0, 1] (a fraction of the image side), got \(size)") }
        if let fill, !(0...1).contains(fill) { found.append("fill must be in [0, 1], got \(fill)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("size", size), ("fill", fill)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let fraction = size ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        let (channels, height, width) = images.imageGeometry
        let side = max(1, Int((fraction * Float(min(width, height))).rounded()))
        let value = fill ?? 0
        return images.mappingImages(&rng) { image, rng in
            let cx = rng.nextIndex(below: width), cy = rng.nextIndex(below: height)
            let x0 = max(0, cx - side / 2), x1 = min(width, cx - side / 2 + side)
            let y0 = max(0, cy - side / 2), y1 = min(height, cy - side / 2 + side)
            for c in 0..<channels {
                for y in y0..<max(y0, y1) {
                    for x in x0..<max(x0, x1) { image[(c * height + y) * width + x] = value }
                }
            }
        }
    }
}
