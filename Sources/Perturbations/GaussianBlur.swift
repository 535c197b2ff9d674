import Spec
import Tensors

/// Gaussian blur of each channel with standard deviation `sigma` pixels; the kernel is cut at
/// 4σ and the edge pixels repeat beyond the border (scikit-image `filters.gaussian` defaults).
///
/// Hendrycks & Dietterich (ICLR 2019), "Gaussian blur". Severities 1–5, sigma in pixels:
/// CIFAR-10-C 0.4, 0.6, 0.7, 0.8, 1; ImageNet-C 1, 2, 3, 4, 6. `sigma` in (0, 50] replaces a severity.
public struct GaussianBlur: SpatialCorruption, Equatable {
    public static let kind = "gaussian_blur"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "sigma": "from severity"]
    public static let summary = "Gaussian blur: severity 1–5 or sigma in pixels."
    public static let table = SeverityTable<Float>(cifar: [0.4, 0.6, 0.7, 0.8, 1], imagenet: [1, 2, 3, 4, 6])
    public var severity: Int?
    /// Standard deviation in pixels, in (0, 50].
    public var sigma: Float?

    public init(severity: Int? = nil, sigma: Float? = nil) {
        self.severity = severity
        self.sigma = sigma
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("sigma", sigma != nil)])
        if let sigma, !(sigma > 0 && sigma <= 50) { found.append("sigma must be in (0, 50] pixels, got \(sigma)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("sigma", sigma)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let sigma = self.sigma ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        return images.mappingPlanes { $0.gaussianBlurred(sigma: sigma, border: .replicate).clipped() }
    }
}
