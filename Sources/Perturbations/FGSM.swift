import Spec
import Foundation
import Layers
import Tensors

/// The fast gradient sign method (Goodfellow, Shlens & Szegedy, ICLR 2015), untargeted, L∞:
/// `x' = clip(x + ε · sign(∇ₓ L(f(x), y)), 0, 1)` with L the cross-entropy.
///
/// With `random_start` (Wong, Rice & Kolter, "Fast is better than free", ICLR 2020, for
/// adversarial training) the step starts from a uniform point of the ε-ball, has length
/// `step_size` (default 1.25·ε there, ε otherwise) and is projected back into the ball.
/// `epsilon` is in [0, 1] pixel units, whatever normalisation the model applies inside.
public struct FGSM: Attack, Equatable {
    public static let kind = "fgsm"
    public static let defaults = ["random_start": "false", "step_size": "epsilon, or 1.25 · epsilon with a random start"]
    public static let summary = "Fast gradient sign method, L∞ budget epsilon in pixel units (Goodfellow et al. 2015); optional random start."
    /// L∞ budget in [0, 1] pixel units.
    public var epsilon: Float
    /// Start from a uniform point of the ε-ball (default false).
    public var randomStart: Bool?
    /// The step length in pixel units, > 0 (default ε, or 1.25·ε with a random start).
    public var stepSize: Float?

    public init(epsilon: Float, randomStart: Bool? = nil, stepSize: Float? = nil) {
        self.epsilon = epsilon
        self.randomStart = randomStart
        self.stepSize = stepSize
    }

    public func problems() -> [String] {
        var found = (0...1).contains(epsilon) ? [] : ["epsilon must be in [0, 1] (pixel units, before any normalisation), got \(epsilon)"]
        if let stepSize, !(stepSize > 0) { found.append("step_size must be > 0 (pixel units), got \(stepSize)") }
        return found
    }

    public var label: String {
        var parts = ["epsilon=\(formatParameter(epsilon))"]
        if randomStart == true { parts.append("random_start=true") }
        if let stepSize { parts.append("step_size=\(formatParameter(stepSize))") }
        return "\(Self.kind)(\(parts.joined(separator: ",")))"
    }

    public var budget: Float? { epsilon }
    public var forwardPasses: Double { 3 }

    public func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor {
        let ball = PerturbationBall(norm: .linf, epsilon: epsilon)
        let start = randomStart == true ? ball.randomPoint(around: images, rng: &rng) : images
        let size = stepSize ?? (randomStart == true ? 1.25 * epsilon : epsilon)
        let gradient = model.inputGradient(images: start, labels: labels).gradient
        let step = ball.step(start, along: gradient, size: [Float](repeating: size, count: labels.count))
        return ball.project(step, around: images)
    }
}
