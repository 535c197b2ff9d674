import Spec
import Layers
import Tensors

/// SmoothGrad (Smilkov et al. 2017): the mean gradient of the target logit over `samples`
/// copies of the input with Gaussian noise of standard deviation `noise · (max − min)` of the
/// sample's values (the paper's 10–20% noise level; default 0.15), drawn from the trial's
/// seeded stream.
public struct SmoothGrad: AttributionMethod, Equatable {
    public static let kind = "smoothgrad"
    public static let defaults = ["samples": "25", "noise": "0.15"]
    public static let summary = "Mean gradient over noisy copies of the input (Smilkov et al. 2017)."
    /// Noisy copies per sample, 1…10000 (default 25).
    public var samples: Int?
    /// Noise standard deviation as a fraction of the sample's value range, in [0, 1] (default 0.15).
    public var noise: Float?

    public init(samples: Int? = nil, noise: Float? = nil) {
        self.samples = samples
        self.noise = noise
    }

    var sampleCount: Int { samples ?? 25 }
    public var label: String { "\(Self.kind)(samples=\(sampleCount))" }
    public var passes: Int { sampleCount }

    public func problems() -> [String] {
        var found: [String] = []
        if !(1...10000).contains(sampleCount) { found.append("samples must be in 1…10000, got \(sampleCount)") }
        if let noise, !(0...1).contains(noise) { found.append("noise must be in [0, 1] (a fraction of the value range), got \(noise)") }
        return found
    }

    public func attribute(_ model: Sequential, inputs: Tensor, targets: [Int], rng: inout RandomSource) -> Attribution {
        let k = sampleCount, n = inputs.shape[0], size = inputs.count / max(1, n)
        var noisy = repeatingRows(inputs, k)
        for s in 0..<n {
            let row = inputs.scalars[(s * size)..<((s + 1) * size)]
            let std = (noise ?? 0.15) * ((row.max() ?? 0) - (row.min() ?? 0))
            for i in (s * k * size)..<((s + 1) * k * size) { noisy.scalars[i] += std * rng.normal() }
        }
        let targetsPerCopy = targets.flatMap { Array(repeating: $0, count: k) }
        let gradients = GradientChunks.inputGradients(model, inputs: noisy, targets: targetsPerCopy).gradients
        return Attribution(maps: averagingRowGroups(gradients, k))
    }
}
