import Spec
import Foundation
import Layers
import Tensors

/// Projected gradient descent (Madry, Makelov, Schmidt, Tsipras & Vladu, ICLR 2018): repeated
/// steepest-ascent steps on the cross-entropy, each projected back into the ε-ball (L∞ or L2)
/// and the valid pixel range.
///
/// - Step size `step_size` (default `2.5 · epsilon / steps`, Madry et al.'s rule, so the walk can
///   cross the ball), optionally decayed by `schedule`: `constant` (default), `cosine`
///   (`α_k = α·(1 + cos(πk/steps))/2`), or `step` (halved after 50% and again after 75% of steps).
/// - `random_start` (default true) starts from a uniform point of the ball; `restarts` (default 1)
///   repeats from new random starts and keeps, per sample, the first restart that fools the model.
/// - `target`: untargeted when absent; otherwise the walk descends the cross-entropy of a target
///   class — `next` (`(y + 1) mod K`), `random` (uniform among the other classes) or
///   `least_likely` (the lowest clean logit).
/// - Each sample keeps the last iterate that the model misclassifies (or classifies as the
///   target), else the final iterate: stopping early on success never weakens the attack.
///
/// `epsilon` is in [0, 1] pixel units whatever normalisation the model applies inside.
public struct PGD: Attack, Equatable {
    public static let kind = "pgd"
    public static let defaults = [
        "norm": "linf", "steps": "10", "step_size": "2.5 · epsilon / steps", "schedule": "constant", "random_start": "true", "restarts": "1",
        "target": "untargeted",
    ]
    public static let summary = "Projected gradient descent, L∞ or L2, random start, restarts, step schedule, optional target (Madry et al. 2018)."
    /// The budget in pixel units: in [0, 1] for L∞, in [0, 100] for L2.
    public var epsilon: Float
    /// `linf` (default) or `l2`.
    public var norm: StandardNorm?
    /// Gradient steps per restart, ≥ 1 (default 10).
    public var steps: Int?
    /// Step length in pixel units, > 0 (default 2.5 · epsilon / steps).
    public var stepSize: Float?
    /// `constant` (default), `cosine` or `step`.
    public var schedule: Schedule?
    /// Start from a uniform point of the ball (default true).
    public var randomStart: Bool?
    /// Independent runs, ≥ 1 (default 1).
    public var restarts: Int?
    /// Absent for untargeted; `next`, `random` or `least_likely`.
    public var target: Target?

    /// How the step length decays over the steps.
    public enum Schedule: String, ParameterChoice { case constant, cosine, step }
    /// The class a targeted walk descends toward.
    public enum Target: String, ParameterChoice {
        case next, random
        case leastLikely = "least_likely"
    }

    public init(
        epsilon: Float, norm: StandardNorm? = nil, steps: Int? = nil, stepSize: Float? = nil, schedule: Schedule? = nil,
        randomStart: Bool? = nil, restarts: Int? = nil, target: Target? = nil
    ) {
        self.epsilon = epsilon
        self.norm = norm
        self.steps = steps
        self.stepSize = stepSize
        self.schedule = schedule
        self.randomStart = randomStart
        self.restarts = restarts
        self.target = target
    }

    var ball: PerturbationBall { PerturbationBall(norm: (norm ?? .linf).measure, epsilon: epsilon) }
    var stepCount: Int { steps ?? 10 }
    var baseStepSize: Float { stepSize ?? 2.5 * epsilon / Float(stepCount) }

    public func problems() -> [String] {
        var found: [String] = []
        if let problem = ball.norm.epsilonProblem(epsilon) { found.append(problem) }
        if let steps, steps < 1 { found.append("steps must be ≥ 1, got \(steps)") }
        if let stepSize, !(stepSize > 0) { found.append("step_size must be > 0 (pixel units), got \(stepSize)") }
        if let restarts, restarts < 1 { found.append("restarts must be ≥ 1, got \(restarts)") }
        return found
    }

    public var label: String {
        var parts = ["epsilon=\(formatParameter(epsilon))"]
        if ball.norm != .linf { parts.append("norm=\(ball.norm.rawValue)") }
        if let steps { parts.append("steps=\(steps)") }
        if let stepSize { parts.append("step_size=\(formatParameter(stepSize))") }
        if let schedule, schedule != .constant { parts.append("schedule=\(schedule.rawValue)") }
        if randomStart == false { parts.append("random_start=false") }
        if let restarts, restarts > 1 { parts.append("restarts=\(restarts)") }
        if let target { parts.append("target=\(target.rawValue)") }
        return "\(Self.kind)(\(parts.joined(separator: ",")))"
    }

    public var budget: Float? { epsilon }
    public var forwardPasses: Double { Double((restarts ?? 1) * (2 * stepCount + 1) + 1 + (target == nil ? 0 : 1)) }

    /// The step length at step `k` (0-based).
    func stepSize(at k: Int) -> Float {
        let progress = Float(k) / Float(stepCount)
        switch schedule ?? .constant {
        case .cosine: return baseStepSize * (1 + Float(cos(Double.pi * Double(progress)))) / 2
        case .step: return baseStepSize * (progress >= 0.75 ? 0.25 : (progress >= 0.5 ? 0.5 : 1))
        case .constant: return baseStepSize
        }
    }

    /// The class each sample is pushed toward, or nil when untargeted.
    func targets(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> [Int]? {
        guard let target else { return nil }
        let logits = model.logits(images)
        let classes = logits.shape[1]
        return labels.enumerated().map { row, label in
            switch target {
            case .next: return (label + 1) % classes
            case .random: return (label + 1 + rng.nextIndex(below: classes - 1)) % classes
            case .leastLikely:
                let scores = logits.scalars[(row * classes)..<((row + 1) * classes)]
                return scores.indices.min { scores[$0] < scores[$1] }! - row * classes
            }
        }
    }

    public func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor {
        let ball = self.ball
        let goal = targets(images: images, labels: labels, model: model, rng: &rng)
        let lossLabels = goal ?? labels
        let sign: Float = goal == nil ? 1 : -1
        func fooled(_ predicted: Int, _ n: Int) -> Bool { goal.map { predicted == $0[n] } ?? (predicted != labels[n]) }
        var best = images
        var done = [Bool](repeating: false, count: labels.count)
        for restart in 0..<(restarts ?? 1) {
            var x = (randomStart ?? true) ? ball.randomPoint(around: images, rng: &rng) : images
            var kept = x
            var success = [Bool](repeating: false, count: labels.count)
            for k in 0...stepCount {
                let gradient: Tensor, logits: Tensor
                if k < stepCount {
                    (gradient, logits) = model.inputGradient(images: x, labels: lossLabels)
                } else {
                    (gradient, logits) = (x, model.logits(x))
                }
                // A sample keeps its last fooling iterate; one never fooled keeps its last
                // iterate, copied once after the loop.
                let predicted = logits.argMax(axis: 1)
                for n in 0..<labels.count where fooled(predicted[n], n) {
                    copySample(n, from: x, into: &kept)
                    success[n] = true
                }
                if k == stepCount { break }
                let sizes = [Float](repeating: stepSize(at: k), count: labels.count)
                x = ball.project(ball.step(x, along: gradient, size: sizes, sign: sign), around: images)
            }
            for n in 0..<labels.count where !success[n] { copySample(n, from: x, into: &kept) }
            for n in 0..<labels.count where !done[n] && (success[n] || restart == 0) {
                copySample(n, from: kept, into: &best)
                done[n] = success[n]
            }
        }
        return best
    }
}
