import Foundation
import Tensors

/// What an ensemble attack found, per sample of the evaluated split (batches appended in order).
public struct AttackReport: Sendable {
    /// `clean`, then the ensemble's attacks in order.
    public var components: [String]
    /// The threat model's norm (`linf`, `l2`) the perturbation norms are measured in.
    public var norm = "linf"
    /// Per sample: the index in `components` of the first attack that broke it (0: the clean
    /// input is already misclassified), −1 when it stayed robust.
    public var brokenBy: [Int]
    /// Per sample: the perturbation's norm in the threat model (0 for `clean`, NaN when robust).
    public var norms: [Float]
    /// Per sample: the adversarial example (the clean image where none was found).
    public var adversarial: Tensor?
    public var sanity = Sanity()
    /// The share of samples Square may break after the gradient-based attacks before the
    /// reference warns of gradient masking.
    static let squareThreshold = 0.002

    /// The reference's sanity checks, accumulated over batches.
    public struct Sanity: Sendable {
        public var checked = 0
        public var randomizedOutputs = false
        public var probabilityOutputs = false
        public var zeroGradientSamples = 0
    }

    public init(components: [String], samples: Int) {
        self.components = components
        brokenBy = Array(repeating: -1, count: samples)
        norms = Array(repeating: .nan, count: samples)
    }

    /// The next batch's report appended.
    public mutating func append(_ other: AttackReport) {
        let first = brokenBy.isEmpty
        if first {
            components = other.components
            norm = other.norm
        }
        brokenBy += other.brokenBy
        norms += other.norms
        if let next = other.adversarial { adversarial = adversarial.map { Tensor(concatenating: [$0, next]) } ?? next }
        sanity.checked += other.sanity.checked
        sanity.randomizedOutputs = sanity.randomizedOutputs || other.sanity.randomizedOutputs
        sanity.probabilityOutputs = (first || sanity.probabilityOutputs) && other.sanity.probabilityOutputs
        sanity.zeroGradientSamples += other.sanity.zeroGradientSamples
    }

    /// The robust accuracy after each component (clean accuracy first), in [0, 1].
    public var robustAccuracyAfter: [Double] {
        let n = Double(max(1, brokenBy.count))
        return components.indices.map { k in Double(brokenBy.filter { $0 == -1 || $0 > k }.count) / n }
    }

    /// The reference's sanity warnings that apply, as sentences.
    public var warnings: [String] {
        var found: [String] = []
        if sanity.randomizedOutputs {
            found.append("the model's outputs differ between two passes on the same input: it looks randomised; use version rand")
        }
        if sanity.probabilityOutputs {
            found.append("the model's outputs lie in [0, 1] and sum to 1: they look like probabilities; attacks need the logits (remove the final softmax)")
        }
        if sanity.zeroGradientSamples > 0 {
            found.append(
                "\(sanity.zeroGradientSamples) of \(sanity.checked) inputs have an exactly zero loss gradient: gradient-based attacks cannot move them, the robust accuracy may be overestimated"
            )
        }
        if let square = components.firstIndex(of: "square"), square > 1, !brokenBy.isEmpty {
            let broken = Double(brokenBy.filter { $0 == square }.count) / Double(brokenBy.count)
            if broken > Self.squareThreshold {
                found.append(
                    String(
                        format:
                            "the gradient-free Square attack broke %.2f%% of the samples the gradient-based attacks before it left robust: gradients may be masked, the robustness overestimated",
                        100 * broken))
            }
        }
        return found
    }
}

/// Collects an attack's reports over the batches of one evaluation (the transform appends, the
/// pipeline reads once every batch is done; batches run one at a time).
public final class AttackReportCollector: @unchecked Sendable {
    public private(set) var report: AttackReport?

    public init() {}

    public func append(_ next: AttackReport) {
        if report == nil { report = next } else { report!.append(next) }
    }
}
