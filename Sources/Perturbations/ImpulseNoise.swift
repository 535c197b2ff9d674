import Spec
import Tensors

/// Impulse (salt-and-pepper) noise: each value independently, with probability `amount`,
/// becomes 0 or 1 (equally likely).
///
/// Hendrycks & Dietterich (ICLR 2019), "impulse noise" (scikit-image `random_noise` mode `s&p`).
/// Severities 1–5, amount: CIFAR-10-C 0.01, 0.02, 0.03, 0.05, 0.07; ImageNet-C 0.03, 0.06,
/// 0.09, 0.17, 0.27. `amount` in (0, 1] replaces a severity.
public struct ImpulseNoise: Corruption, Equatable {
    public static let kind = "impulse_noise"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "amount": "from severity"]
    public static let summary = "Salt-and-pepper noise: severity 1–5 or amount (fraction of values set to 0 or 1)."
    public static let table = SeverityTable<Float>(cifar: [0.01, 0.02, 0.03, 0.05, 0.07], imagenet: [0.03, 0.06, 0.09, 0.17, 0.27])
    public var severity: Int?
    /// Fraction of values replaced, in (0, 1].
    public var amount: Float?

    public init(severity: Int? = nil, amount: Float? = nil) {
        self.severity = severity
        self.amount = amount
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("amount", amount != nil)])
        if let amount, !(amount > 0 && amount <= 1) { found.append("amount must be in (0, 1], got \(amount)") }
        return found
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("amount", amount)]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let amount = self.amount ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        return images.mappingValues(&rng) { x, rng in
            let replace = rng.nextUnitFloat() < amount, salt = rng.nextUnitFloat() < 0.5
            return replace ? (salt ? 1 : 0) : x
        }
    }
}
