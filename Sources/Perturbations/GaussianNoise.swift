import Tensors

/// Additive Gaussian noise, `x' = clip(x + 𝒩(0, std²), 0, 1)`, independent per pixel.
///
/// Definition as in ImageNet-C / CIFAR-10-C (Hendrycks & Dietterich, ICLR 2019), where the
/// CIFAR severities 1–5 use std 0.04, 0.06, 0.08, 0.09, 0.10. Here `std` is given directly,
/// in pixel units; it must be in (0, 1].
public struct GaussianNoise: Corruption, Equatable {
    public static let kind = "gaussian_noise"
    public static let summary = "Additive Gaussian noise with standard deviation std in pixel units, clipped to [0, 1]."
    /// Standard deviation of the noise in [0, 1] pixel units, in (0, 1].
    public var std: Float

    public init(std: Float) { self.std = std }

    public func problems() -> [String] {
        (std > 0 && std <= 1) ? [] : ["std must be in (0, 1] (pixel units), got \(std)"]
    }

    public var label: String { "\(Self.kind)(std=\(formatParameter(std)))" }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        var out = images
        out.scalars.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = min(1, max(0, p[i] + std * rng.normal())) }
        }
        return out
    }
}
