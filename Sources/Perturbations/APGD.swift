import Spec
import Foundation
import Layers
import Tensors

/// Auto-PGD on the cross-entropy (APGD-CE; Croce & Hein, "Reliable evaluation of adversarial
/// robustness with an ensemble of diverse parameter-free attacks", ICML 2020), L∞ or L2: PGD
/// with momentum whose step size adapts per sample, needing no step-size tuning.
///
/// - Start: L∞ at `x + ε·t/‖t‖∞` with `t` uniform in [−1, 1]ᵈ; L2 at a uniform point of the ball.
/// - Step size η starts at 2ε. Step `k`: `z = P(x_k + η·s(∇))` with `s` the sign (L∞) or unit
///   vector (L2), then `x_{k+1} = P(x_k + 0.75·(z − x_k) + 0.25·(x_k − x_{k−1}))` (the first step
///   uses `z` alone).
/// - Checkpoints `w_j = ⌈p_j·steps⌉` with `p_0 = 0`, `p_1 = 0.22`,
///   `p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)`. At each, η halves and the walk restarts
///   from the best point so far when (1) the loss rose in fewer than ρ = 0.75 of the steps since
///   the last checkpoint, or (2) η did not change at the last checkpoint and the best loss has not
///   improved since.
/// - Each sample keeps its first misclassified iterate, else its highest-loss point; `restarts`
///   (default 1) repeats from new random starts for the samples not yet fooled.
/// - `loss: dlr` maximises the difference-of-logits ratio instead of the cross-entropy
///   (APGD-DLR, `DLRLoss`). `target_classes: k` is APGD-T: for each of the `k` classes the
///   clean logits rank highest after the label (in that order), a run on the targeted DLR loss
///   for the samples not yet fooled (AutoAttack's standard ensemble uses 9).
/// - `eot_iterations: n` averages each step's gradient and loss over `n` passes (expectation
///   over transformation, for models whose outputs are random; AutoAttack's `rand` version
///   uses 20). A deterministic model gains nothing from it.
public struct APGD: Attack, Equatable {
    public static let kind = "apgd"
    public static let defaults = [
        "norm": "linf", "steps": "100", "restarts": "1", "loss": "ce (dlr with target_classes)", "target_classes": "untargeted",
        "eot_iterations": "1",
    ]
    public static let summary =
        "Auto-PGD (Croce & Hein 2020), L∞ or L2, adaptive step size: on cross-entropy (APGD-CE), the DLR loss (APGD-DLR), or targeted DLR (APGD-T)."

    /// The loss the walk maximises.
    public enum Loss: String, ParameterChoice { case ce, dlr }
    /// The budget in pixel units: in [0, 1] for L∞, in [0, 100] for L2.
    public var epsilon: Float
    /// `linf` (default) or `l2`.
    public var norm: AttackNorm?
    /// Iterations per restart, ≥ 1 (default 100, as in AutoAttack).
    public var steps: Int?
    /// Independent runs, ≥ 1 (default 1).
    public var restarts: Int?
    /// `ce` (default) or `dlr`; with `target_classes`, the targeted DLR loss.
    public var loss: Loss?
    /// APGD-T: the number of target classes tried, in 1…classes − 1 (absent: untargeted).
    public var targetClasses: Int?
    /// Gradient passes averaged per step, ≥ 1 (default 1).
    public var eotIterations: Int?

    public init(
        epsilon: Float, norm: AttackNorm? = nil, steps: Int? = nil, restarts: Int? = nil, loss: Loss? = nil, targetClasses: Int? = nil,
        eotIterations: Int? = nil
    ) {
        self.epsilon = epsilon
        self.norm = norm
        self.steps = steps
        self.restarts = restarts
        self.loss = loss
        self.targetClasses = targetClasses
        self.eotIterations = eotIterations
    }

    static let rho: Float = 0.75
    static let momentum: Float = 0.75

    var ball: PerturbationBall { PerturbationBall(norm: norm ?? .linf, epsilon: epsilon) }
    var stepCount: Int { steps ?? 100 }

    public func problems() -> [String] {
        var found: [String] = []
        if let problem = ball.norm.epsilonProblem(epsilon) { found.append(problem) }
        if let steps, steps < 1 { found.append("steps must be ≥ 1, got \(steps)") }
        if let restarts, restarts < 1 { found.append("restarts must be ≥ 1, got \(restarts)") }
        if let targetClasses, targetClasses < 1 { found.append("target_classes must be ≥ 1, got \(targetClasses)") }
        if let eotIterations, eotIterations < 1 { found.append("eot_iterations must be ≥ 1, got \(eotIterations)") }
        if targetClasses != nil, loss == .ce { found.append("loss ce cannot be targeted: target_classes runs the targeted DLR loss (APGD-T); drop loss") }
        return found
    }

    public func problems(classCount: Int) -> [String] {
        if let targetClasses {
            if classCount < 4 { return ["target_classes needs 4 or more classes (the targeted DLR loss), the dataset has \(classCount)"] }
            if targetClasses > classCount - 1 {
                return ["target_classes must be at most \(classCount - 1) (the classes other than the label), got \(targetClasses)"]
            }
        } else if loss == .dlr, classCount < 3 {
            return ["loss dlr needs 3 or more classes, the dataset has \(classCount)"]
        }
        return []
    }

    public var label: String {
        var parts = ["epsilon=\(formatParameter(epsilon))"]
        if ball.norm != .linf { parts.append("norm=\(ball.norm.rawValue)") }
        if let steps { parts.append("steps=\(steps)") }
        if let restarts, restarts > 1 { parts.append("restarts=\(restarts)") }
        if let targetClasses { parts.append("target_classes=\(targetClasses)") } else if loss == .dlr { parts.append("loss=dlr") }
        if let eotIterations, eotIterations > 1 { parts.append("eot_iterations=\(eotIterations)") }
        return "\(Self.kind)(\(parts.joined(separator: ",")))"
    }

    public var budget: Float? { epsilon }
    public var forwardPasses: Double { Double((targetClasses ?? 1) * (restarts ?? 1) * 2 * (eotIterations ?? 1) * (stepCount + 1) + 1) }

    /// The iterations at which the step size may halve (`w_1, w_2, …`, increasing, ≤ steps).
    static func checkpoints(steps: Int) -> [Int] {
        var p: [Double] = [0, 0.22]
        while p.last! < 1 { p.append(p[p.count - 1] + max(p[p.count - 1] - p[p.count - 2] - 0.03, 0.06)) }
        var points: [Int] = []
        for fraction in p.dropFirst() {
            // 0.22 · 100 is 22.000000000000004 in binary floating point; the paper's w_1 is 22.
            let w = Int((fraction * Double(steps) - 1e-9).rounded(.up))
            if w <= steps, w > (points.last ?? 0) { points.append(w) }
        }
        return points
    }

    func start(around images: Tensor, rng: inout RandomSource) -> Tensor {
        guard ball.norm == .linf else { return ball.randomPoint(around: images, rng: &rng) }
        var x = images
        let size = images.count / max(1, images.shape[0])
        for n in 0..<images.shape[0] {
            let t = (0..<size).map { _ in rng.uniform(-1, 1) }
            let scale = epsilon / max(t.map(abs).max() ?? 1, 1e-12)
            for i in 0..<size { x.scalars[n * size + i] += scale * t[i] }
        }
        return ball.project(x, around: images)
    }

    public func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor {
        var result = images
        var open = Array(0..<labels.count)
        // APGD-T's targets: the classes ranked 2nd, 3rd, … by the clean logits (the label excluded).
        let ranked: [[Int]]? = targetClasses.map { _ in
            let logits = model.logits(images), classes = logits.shape[1]
            return labels.indices.map { n in DLRLoss.order(logits.scalars[(n * classes)..<((n + 1) * classes)]).filter { $0 != labels[n] } }
        }
        for round in 0..<(targetClasses ?? 1) {
            for _ in 0..<(restarts ?? 1) where !open.isEmpty {
                let clean = images.gathering(rows: open), openLabels = open.map { labels[$0] }
                let objective: Objective
                if let ranked {
                    objective = .targeted(open.map { ranked[$0][round] })
                } else {
                    objective = loss == .dlr ? .dlr : .crossEntropy
                }
                let (adversarial, fooled) = run(clean: clean, labels: openLabels, objective: objective, model: model, rng: &rng)
                var stillOpen: [Int] = []
                for (row, n) in open.enumerated() {
                    copySample(row, from: adversarial, into: &result, at: n)
                    if !fooled[row] { stillOpen.append(n) }
                }
                open = stillOpen
            }
        }
        return result
    }

    /// What one run maximises.
    enum Objective {
        case crossEntropy
        case dlr
        /// The targeted DLR loss toward each sample's class.
        case targeted([Int])
    }

    /// The gradient of the objective's summed loss with respect to `x`, each sample's loss and
    /// prediction; averaged over `eot_iterations` passes (the prediction of the last).
    func evaluate(_ x: Tensor, labels: [Int], objective: Objective, model: Sequential) -> (gradient: Tensor, loss: [Float], predicted: [Int]) {
        let passes = eotIterations ?? 1
        var (gradient, loss, predicted) = evaluateOnce(x, labels: labels, objective: objective, model: model)
        guard passes > 1 else { return (gradient, loss, predicted) }
        for _ in 1..<passes {
            let next = evaluateOnce(x, labels: labels, objective: objective, model: model)
            for i in 0..<gradient.count { gradient.scalars[i] += next.gradient.scalars[i] }
            for n in loss.indices { loss[n] += next.loss[n] }
            predicted = next.predicted
        }
        let scale = 1 / Float(passes)
        for i in 0..<gradient.count { gradient.scalars[i] *= scale }
        return (gradient, loss.map { $0 * scale }, predicted)
    }

    /// One pass: the gradient of the objective's summed loss with respect to `x`, each
    /// sample's loss and prediction.
    func evaluateOnce(_ x: Tensor, labels: [Int], objective: Objective, model: Sequential) -> (gradient: Tensor, loss: [Float], predicted: [Int]) {
        switch objective {
        case .crossEntropy:
            let (gradient, logits) = model.inputGradient(images: x, labels: labels)
            let (loss, predicted) = perSampleLoss(logits: logits, labels: labels)
            return (gradient, loss, predicted)
        case .dlr:
            let (gradient, logits) = model.inputGradient(images: x) { z, range in DLRLoss.untargeted(logits: z, labels: Array(labels[range])).gradient }
            return (gradient, DLRLoss.untargeted(logits: logits, labels: labels).loss, logits.argMax(axis: 1))
        case .targeted(let targets):
            let (gradient, logits) = model.inputGradient(images: x) { z, range in
                DLRLoss.targeted(logits: z, labels: Array(labels[range]), targets: Array(targets[range])).gradient
            }
            return (gradient, DLRLoss.targeted(logits: logits, labels: labels, targets: targets).loss, logits.argMax(axis: 1))
        }
    }

    /// One APGD run on a batch: the adversarial images and which fool the model.
    func run(clean: Tensor, labels: [Int], objective: Objective = .crossEntropy, model: Sequential, rng: inout RandomSource) -> (Tensor, [Bool]) {
        let count = labels.count, ball = self.ball
        let checkpoints = Set(Self.checkpoints(steps: stepCount))
        var x = start(around: clean, rng: &rng)
        var previous = x
        var eta = [Float](repeating: 2 * epsilon, count: count)
        var (gradient, loss, predicted) = evaluate(x, labels: labels, objective: objective, model: model)
        var best = x, bestLoss = loss, bestGradient = gradient
        var adversarial = x
        var fooled = (0..<count).map { predicted[$0] != labels[$0] }
        var increases = [Int](repeating: 0, count: count)
        var lastCheckpoint = 0
        var reducedAtLastCheckpoint = [Bool](repeating: true, count: count)
        var bestLossAtLastCheckpoint = bestLoss
        for k in 0..<stepCount {
            // The proposal and the momentum step.
            let z = ball.project(ball.step(x, along: gradient, size: eta), around: clean)
            var next = z
            if k > 0 {
                let a = Self.momentum
                for i in 0..<next.count {
                    next.scalars[i] = x.scalars[i] + a * (z.scalars[i] - x.scalars[i]) + (1 - a) * (x.scalars[i] - previous.scalars[i])
                }
                next = ball.project(next, around: clean)
            }
            previous = x
            x = next
            let newLoss: [Float]
            (gradient, newLoss, predicted) = evaluate(x, labels: labels, objective: objective, model: model)
            for n in 0..<count {
                if newLoss[n] > loss[n] { increases[n] += 1 }
                if !fooled[n] && predicted[n] != labels[n] {
                    fooled[n] = true
                    copySample(n, from: x, into: &adversarial)
                }
                if newLoss[n] > bestLoss[n] {
                    bestLoss[n] = newLoss[n]
                    copySample(n, from: x, into: &best)
                    copySample(n, from: gradient, into: &bestGradient)
                }
            }
            loss = newLoss
            let iteration = k + 1
            guard checkpoints.contains(iteration), iteration < stepCount else { continue }
            let span = Float(iteration - lastCheckpoint)
            for n in 0..<count {
                let tooFewIncreases = Float(increases[n]) < Self.rho * span
                let stalled = !reducedAtLastCheckpoint[n] && bestLossAtLastCheckpoint[n] == bestLoss[n]
                let reduce = tooFewIncreases || stalled
                reducedAtLastCheckpoint[n] = reduce
                if reduce {
                    eta[n] /= 2
                    copySample(n, from: best, into: &x)
                    copySample(n, from: bestGradient, into: &gradient)
                    copySample(n, from: best, into: &previous)
                }
                increases[n] = 0
            }
            bestLossAtLastCheckpoint = bestLoss
            lastCheckpoint = iteration
        }
        for n in 0..<count where !fooled[n] { copySample(n, from: best, into: &adversarial) }
        return (adversarial, fooled)
    }
}
