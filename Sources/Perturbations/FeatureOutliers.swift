import Spec
import Tensors

/// Feature outliers: each value independently, with probability `fraction`, is replaced by an
/// extreme value outside the valid range, `−excess` or `1 + excess` (equally likely). Unlike
/// impulse noise the output leaves [0, 1] on purpose: it asks how the model treats inputs no
/// training sample had (sensor faults, corrupted records).
///
/// Gauntlet's severities 1–5 (no published table): fractions 0.01, 0.02, 0.05, 0.1, 0.2, with
/// `excess` 1 (values −1 and 2).
public struct FeatureOutliers: Corruption, Equatable {
    public static let kind = "feature_outliers"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "fraction": "from severity", "excess": "1"]
    public static let summary = "A fraction of values set to -excess or 1+excess (outside [0, 1]); severity 1–5 or fraction."
    public static let table = SeverityTable<Float>(cifar: [0.01, 0.02, 0.05, 0.1, 0.2], imagenet: [0.01, 0.02, 0.05, 0.1, 0.2])
    public var severity: Int?
    /// Fraction of values replaced, in (0, 1].
    public var fraction: Float?
    /// How far beyond [0, 1] the outliers lie, in pixel units, in [0, 100] (default 1).
    public var excess: Float?

    public init(severity: Int? = nil, fraction: Float? = nil, excess: Float? = nil) {
        self.severity = severity
        self.fraction = fraction
        self.excess = excess
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("fraction", fraction != nil)])
        if let fraction, !(fraction > 0 && fraction <= 1) { found.append("fraction must be in (0, 1], got \(fraction)") }
        if let excess, !(0...100).contains(excess) { found.append("excess must be in [0, 100] (pixel units), got \(excess)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("fraction", fraction), ("excess", excess)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let fraction = self.fraction ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        let excess = self.excess ?? 1
        return images.mappingValues(&rng) { x, rng in
            let replace = rng.nextUnitFloat() < fraction, high = rng.nextUnitFloat() < 0.5
            return replace ? (high ? 1 + excess : -excess) : x
        }
    }
}
