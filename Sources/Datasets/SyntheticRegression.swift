import Spec
import Foundation
import Tensors

/// Synthetic regression data with a known noise level, for tests and demos of variance
/// networks (`type: synthetic_regression`).
///
/// - `sine`: one feature `x ~ U(−π, π)`, `y = sin x + ε`.
/// - `friedman1` (Friedman 1991, "Multivariate adaptive regression splines", eq. 52):
///   `x ~ U(0, 1)^F` with F ≥ 5 features of which the first five matter,
///   `y = 10 sin(π x₁ x₂) + 20 (x₃ − ½)² + 10 x₄ + 5 x₅ + ε`.
///
/// `ε ~ N(0, σ²)` with `σ = noise`, or, when `heteroscedastic`, a standard deviation that grows
/// with the first feature: `σ(x) = noise · (0.2 + 0.8 |x|/π)` for `sine` and
/// `σ(x) = noise · 2 x₁` for `friedman1` (both average about `noise · 0.6`–`noise` over the input
/// range), so a variance head has something to learn.
public struct SyntheticRegression: DatasetSource, Equatable {
    public static let kind = "synthetic_regression"
    public static let defaults = [
        "function": "sine", "train": "1000", "validation": "200", "test": "500", "features": "10 (friedman1; sine has one)",
        "noise": "0.3 for sine, 1.0 for friedman1", "heteroscedastic": "true", "seed": "0",
    ]
    public static let summary = "Synthetic regression (sine or Friedman #1) with known, optionally heteroscedastic Gaussian noise."

    public enum Function: String, ParameterChoice { case sine, friedman1 }

    /// The generating function: `sine` or `friedman1` (default sine).
    public var function: Function?
    /// Training, validation and test sizes, each ≥ 1 (defaults 1000, 200, 500).
    public var train: Int?
    public var validation: Int?
    public var test: Int?
    /// Input features of `friedman1`, ≥ 5 (default 10); `sine` has one.
    public var features: Int?
    /// The noise standard deviation, ≥ 0 (default 0.3 for sine, 1.0 for friedman1).
    public var noise: Float?
    /// Whether the noise level depends on the input (default true).
    public var heteroscedastic: Bool?
    /// Seed of the inputs and the noise (default 0).
    public var seed: UInt64?

    public init(
        function: Function? = nil, train: Int? = nil, validation: Int? = nil, test: Int? = nil, features: Int? = nil,
        noise: Float? = nil, heteroscedastic: Bool? = nil, seed: UInt64? = nil
    ) {
        self.function = function
        self.train = train
        self.validation = validation
        self.test = test
        self.features = features
        self.noise = noise
        self.heteroscedastic = heteroscedastic
        self.seed = seed
    }

    var resolvedFunction: Function { function ?? .sine }
    var featureCount: Int { resolvedFunction == .sine ? 1 : features ?? 10 }
    var noiseLevel: Float { noise ?? (resolvedFunction == .sine ? 0.3 : 1.0) }

    public var sampleShape: [Int] { [featureCount] }
    public var classCount: Int { 0 }
    public var targetCount: Int { 1 }
    public var sampleCounts: (training: Int, validation: Int, test: Int) { (train ?? 1000, validation ?? 200, test ?? 500) }
    public var normalization: (mean: [Float], std: [Float])? { nil }

    public func problems() -> [String] {
        var found: [String] = []
        for (name, value) in [("train", train), ("validation", validation), ("test", test)] {
            if let value, value < 1 { found.append("\(name) must be ≥ 1, got \(value)") }
        }
        if let features {
            if resolvedFunction == .sine {
                found.append("features applies to friedman1 only; sine has one feature")
            } else if features < 5 {
                found.append("features must be ≥ 5 for friedman1, got \(features)")
            }
        }
        if let noise, !(noise >= 0) { found.append("noise must be ≥ 0, got \(noise)") }
        return found
    }

    /// The noise-free value and the noise standard deviation at `x`.
    public func truth(_ x: ArraySlice<Float>) -> (mean: Float, std: Float) {
        let first = x[x.startIndex]
        switch resolvedFunction {
        case .sine:
            let std = heteroscedastic ?? true ? noiseLevel * (0.2 + 0.8 * abs(first) / .pi) : noiseLevel
            return (sin(first), std)
        case .friedman1:
            let v = Array(x)
            let mean = 10 * sin(.pi * v[0] * v[1]) + 20 * (v[2] - 0.5) * (v[2] - 0.5) + 10 * v[3] + 5 * v[4]
            return (mean, heteroscedastic ?? true ? noiseLevel * 2 * first : noiseLevel)
        }
    }

    public func load() throws(DatasetError) -> DatasetSplits {
        let (training, validationCount, testCount) = sampleCounts
        let total = training + validationCount + testCount, f = featureCount
        var rng = RandomSource(seed: seed ?? 0)
        var inputs = [Float](repeating: 0, count: total * f), targets = [Float](repeating: 0, count: total)
        for i in 0..<total {
            for j in 0..<f { inputs[i * f + j] = resolvedFunction == .sine ? rng.uniform(-.pi, .pi) : rng.nextUnitFloat() }
            let (mean, std) = truth(inputs[(i * f)..<((i + 1) * f)])
            targets[i] = mean + std * rng.normal()
        }
        let all = ImageDataset(inputs: Tensor(shape: [total, f], scalars: inputs), targets: Tensor(shape: [total, 1], scalars: targets))
        return DatasetSplits(
            training: all.subset(Array(0..<training)),
            validation: all.subset(Array(training..<(training + validationCount))),
            test: all.subset(Array((training + validationCount)..<total)))
    }
}
