import Spec
import Foundation
import Layers
import Tensors

/// Auto-PGD on the cross-entropy (APGD-CE; Croce & Hein, "Reliable evaluation of adversarial
/// robustness with an ensemble of diverse parameter-free attacks", ICML 2020), L∞, L2 or L1: PGD
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
/// - L1 (`norm: l1`) is L1-APGD (Croce & Hein, "Mind the box: l1-APGD for sparse adversarial
///   attacks on image classifiers", ICML 2021): the start is a standard Gaussian step projected
///   onto the ball ∩ [0, 1]ᵈ (`PerturbationBall.projectL1`); each step moves `η/s` along the
///   signs of the `s` coordinates whose gradient magnitude is at least the `(1 − t)`-quantile
///   (`t` the sparsity fraction, 0.2 at the start), then projects; no momentum. η starts at ε.
///   Every `max(⌊0.04·steps⌋, 1)` steps, with `s_b` the nonzero coordinates of the best point's
///   perturbation: when `s_b` fell below 0.95 of its value at the last check, η resets to ε and
///   the walk restarts from the best point, else η divides by 1.5 (within [ε/10, ε]); then
///   `t = s_b / (1.5·d)`. `epsilon_schedule: decreasing` (AutoAttack's L1 setting) runs 30% of
///   the steps at 3ε, 30% at 2ε and the rest at ε, each stage starting where the last one's
///   highest loss was (sparsity taken from that point); only the last stage's successes count.
/// - `eot_iterations: n` averages each step's gradient and loss over `n` passes (expectation
///   over transformation, for models whose outputs are random; AutoAttack's `rand` version
///   uses 20). A deterministic model gains nothing from it.
public struct APGD: Attack, Equatable {
    public static let kind = "apgd"
    public static let defaults = [
        "norm": "linf", "steps": "100", "restarts": "1", "loss": "ce (dlr with target_classes)", "target_classes": "untargeted",
        "eot_iterations": "1", "epsilon_schedule": "fixed",
    ]
    public static let summary =
        "Auto-PGD (Croce & Hein 2020), L∞, L2 or L1 (L1-APGD), adaptive step size: on cross-entropy (APGD-CE), the DLR loss (APGD-DLR), or targeted DLR (APGD-T)."

    /// The loss the walk maximises.
    public enum Loss: String, ParameterChoice { case ce, dlr }
    /// The radii an L1 run walks with: ε throughout, or 3ε, 2ε, then ε.
    public enum EpsilonSchedule: String, ParameterChoice { case fixed, decreasing }
    /// The budget in pixel units: in [0, 1] for L∞, in [0, 100] for L2, ≥ 0 for L1 (the sum of
    /// absolute changes over the image).
    public var epsilon: Float
    /// `linf` (default), `l2` or `l1`.
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
    /// L1 only: `fixed` (default) or `decreasing`.
    public var epsilonSchedule: EpsilonSchedule?

    public init(
        epsilon: Float, norm: AttackNorm? = nil, steps: Int? = nil, restarts: Int? = nil, loss: Loss? = nil, targetClasses: Int? = nil,
        eotIterations: Int? = nil, epsilonSchedule: EpsilonSchedule? = nil
    ) {
        self.epsilon = epsilon
        self.norm = norm
        self.steps = steps
        self.restarts = restarts
        self.loss = loss
        self.targetClasses = targetClasses
        self.eotIterations = eotIterations
        self.epsilonSchedule = epsilonSchedule
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
        if epsilonSchedule == .decreasing, ball.norm != .l1 {
            found.append("epsilon_schedule decreasing is L1-APGD's (norm: l1); \(ball.norm.rawValue) walks at ε")
        }
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
        if epsilonSchedule == .decreasing { parts.append("epsilon_schedule=decreasing") }
        return "\(Self.kind)(\(parts.joined(separator: ",")))"
    }

    public var budget: Float? { epsilon }
    public var forwardPasses: Double {
        Double((targetClasses ?? 1) * (restarts ?? 1) * 2 * (eotIterations ?? 1) * (stepCount + (epsilonSchedule == .decreasing ? 3 : 1)) + 1)
    }

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
                let (adversarial, fooled) =
                    ball.norm == .l1
                    ? runL1(clean: clean, labels: openLabels, objective: objective, model: model, rng: &rng)
                    : run(clean: clean, labels: openLabels, objective: objective, model: model, rng: &rng)
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
        var walk = Walk(start: x, loss: loss, gradient: gradient, predicted: predicted, labels: labels)
        var increases = [Int](repeating: 0, count: count)
        var lastCheckpoint = 0
        var reducedAtLastCheckpoint = [Bool](repeating: true, count: count)
        var bestLossAtLastCheckpoint = walk.bestLoss
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
            for n in 0..<count where newLoss[n] > loss[n] { increases[n] += 1 }
            walk.record(x, loss: newLoss, gradient: gradient, predicted: predicted, labels: labels)
            loss = newLoss
            let iteration = k + 1
            guard checkpoints.contains(iteration), iteration < stepCount else { continue }
            let span = Float(iteration - lastCheckpoint)
            for n in 0..<count {
                let tooFewIncreases = Float(increases[n]) < Self.rho * span
                let stalled = !reducedAtLastCheckpoint[n] && bestLossAtLastCheckpoint[n] == walk.bestLoss[n]
                let reduce = tooFewIncreases || stalled
                reducedAtLastCheckpoint[n] = reduce
                if reduce {
                    eta[n] /= 2
                    copySample(n, from: walk.best, into: &x)
                    copySample(n, from: walk.bestGradient, into: &gradient)
                    copySample(n, from: walk.best, into: &previous)
                }
                increases[n] = 0
            }
            bestLossAtLastCheckpoint = walk.bestLoss
            lastCheckpoint = iteration
        }
        let (adversarial, fooled) = walk.result
        return (adversarial, fooled)
    }

    /// What a run keeps per sample as it walks: its first misclassified iterate, and its
    /// highest-loss point with that point's loss and gradient. Batches are `[N, …]`.
    struct Walk {
        var best: Tensor
        var bestLoss: [Float]
        var bestGradient: Tensor
        var adversarial: Tensor
        var fooled: [Bool]

        /// The record of a walk starting at `x` (every sample's best point so far).
        init(start x: Tensor, loss: [Float], gradient: Tensor, predicted: [Int], labels: [Int]) {
            best = x
            bestLoss = loss
            bestGradient = gradient
            adversarial = x
            fooled = labels.indices.map { predicted[$0] != labels[$0] }
        }

        /// Takes in the iterate `x` with its per-sample loss, gradient and prediction.
        mutating func record(_ x: Tensor, loss: [Float], gradient: Tensor, predicted: [Int], labels: [Int]) {
            for n in labels.indices {
                if !fooled[n] && predicted[n] != labels[n] {
                    fooled[n] = true
                    copySample(n, from: x, into: &adversarial)
                }
                if loss[n] > bestLoss[n] {
                    bestLoss[n] = loss[n]
                    copySample(n, from: x, into: &best)
                    copySample(n, from: gradient, into: &bestGradient)
                }
            }
        }

        /// The adversarial images (the first misclassified iterate, else the highest-loss point)
        /// and which fool the model.
        var result: (adversarial: Tensor, fooled: [Bool]) {
            var images = adversarial
            for n in fooled.indices where !fooled[n] { copySample(n, from: best, into: &images) }
            return (images, fooled)
        }
    }

    /// One L1-APGD run on a batch (`norm: l1`, either ε schedule): the adversarial images and
    /// which fool the model.
    func runL1(clean: Tensor, labels: [Int], objective: Objective, model: Sequential, rng: inout RandomSource) -> (Tensor, [Bool]) {
        guard epsilonSchedule == .decreasing else {
            let start = ball.randomPoint(around: clean, rng: &rng)
            let stage = walkL1(clean: clean, labels: labels, objective: objective, model: model, start: start, epsilon: epsilon, steps: stepCount, warm: false)
            return (stage.adversarial, stage.fooled)
        }
        let first = Int((0.3 * Double(stepCount)).rounded(.up))
        let stages = [(3 * epsilon, first), (2 * epsilon, first), (epsilon, stepCount - 2 * first)]
        var point = PerturbationBall(norm: .l1, epsilon: stages[0].0).randomPoint(around: clean, rng: &rng)
        var result: (adversarial: Tensor, fooled: [Bool])?
        for (radius, steps) in stages where steps > 0 {
            point = PerturbationBall(norm: .l1, epsilon: radius).project(point, around: clean)
            let stage = walkL1(clean: clean, labels: labels, objective: objective, model: model, start: point, epsilon: radius, steps: steps, warm: true)
            point = stage.best
            result = (stage.adversarial, stage.fooled)
        }
        // Fewer than 4 steps leave the last stage empty: the ε-ball's projection of the best point.
        guard let result, stages[2].1 > 0 else {
            let last = PerturbationBall(norm: .l1, epsilon: epsilon).project(point, around: clean)
            let predicted = model.logits(last).argMax(axis: 1)
            return (last, labels.indices.map { predicted[$0] != labels[$0] })
        }
        return result
    }

    /// The L1-APGD walk at radius `epsilon` from `start` (inside the ball): the highest-loss
    /// point, the adversarial images (each sample's first misclassified iterate, else its
    /// highest-loss point) and which fool the model. `warm` takes the starting sparsity from
    /// `start`'s perturbation instead of 20% of the coordinates.
    func walkL1(
        clean: Tensor, labels: [Int], objective: Objective, model: Sequential, start: Tensor, epsilon: Float, steps: Int, warm: Bool
    ) -> (best: Tensor, adversarial: Tensor, fooled: [Bool]) {
        let count = labels.count, size = clean.count / max(1, count)
        let interval = max(Int(0.04 * Double(steps)), 1)
        var x = start
        var (gradient, loss, predicted) = evaluate(x, labels: labels, objective: objective, model: model)
        var walk = Walk(start: x, loss: loss, gradient: gradient, predicted: predicted, labels: labels)
        var eta = [Float](repeating: epsilon, count: count)
        var sparsity = [Float](repeating: 0.2, count: count)
        var previousNonzero = [Float](repeating: Float(size), count: count)
        if warm {
            for n in 0..<count {
                previousNonzero[n] = Float(Self.nonzeroCount(x, clean, sample: n))
                sparsity[n] = previousNonzero[n] / Float(size) / 1.5
            }
        }
        for k in 0..<steps {
            x.scalars.withUnsafeMutableBufferPointer { p in
                clean.scalars.withUnsafeBufferPointer { c in
                    gradient.scalars.withUnsafeBufferPointer { g in
                        // Samples are independent: each part moves its own rows with its own buffers.
                        Parallel.forEach(count, grain: 8) { samples in
                            var magnitudes = [Float](repeating: 0, count: size)
                            var scratch: [Float] = []
                            for n in samples {
                                let range = (n * size)..<((n + 1) * size)
                                for i in 0..<size { magnitudes[i] = abs(g[range.lowerBound + i]) }
                                let rank = min(max(Int((1 - sparsity[n]) * Float(size)), 0), size - 1)
                                let threshold = Self.orderStatistic(&magnitudes, rank)
                                var chosen = 0
                                for i in range where abs(g[i]) >= threshold && g[i] != 0 { chosen += 1 }
                                let length = eta[n] / (Float(chosen) + 1e-10)
                                for i in range where abs(g[i]) >= threshold && g[i] != 0 { p[i] += g[i] > 0 ? length : -length }
                                PerturbationBall.projectL1(
                                    UnsafeMutableBufferPointer(rebasing: p[range]), around: UnsafeBufferPointer(rebasing: c[range]), epsilon: epsilon,
                                    scratch: &scratch)
                            }
                        }
                    }
                }
            }
            (gradient, loss, predicted) = evaluate(x, labels: labels, objective: objective, model: model)
            walk.record(x, loss: loss, gradient: gradient, predicted: predicted, labels: labels)
            guard (k + 1) % interval == 0 else { continue }
            for n in 0..<count {
                let nonzero = Float(Self.nonzeroCount(walk.best, clean, sample: n))
                // 0/0 (a best point still at the clean image) compares false, as in the reference.
                let sparser = nonzero / previousNonzero[n] < 0.95
                sparsity[n] = nonzero / Float(size) / 1.5
                eta[n] = sparser ? epsilon : min(max(eta[n] / 1.5, epsilon / 10), epsilon)
                previousNonzero[n] = nonzero
                if sparser {
                    copySample(n, from: walk.best, into: &x)
                    copySample(n, from: walk.bestGradient, into: &gradient)
                }
            }
        }
        let (adversarial, fooled) = walk.result
        return (walk.best, adversarial, fooled)
    }

    /// The number of coordinates where sample `n` of `x` differs from `clean`.
    static func nonzeroCount(_ x: Tensor, _ clean: Tensor, sample n: Int) -> Int {
        let size = x.count / max(1, x.shape[0])
        var count = 0
        for i in (n * size)..<((n + 1) * size) where x.scalars[i] != clean.scalars[i] { count += 1 }
        return count
    }

    /// The `rank`-th smallest of `values` (0-based), reordering `values` (quickselect with
    /// median-of-three pivots).
    static func orderStatistic(_ values: inout [Float], _ rank: Int) -> Float {
        var low = 0, high = values.count - 1
        while low < high {
            let middle = (low + high) / 2
            // The median of three to values[middle], then a Hoare partition around it.
            if values[middle] < values[low] { values.swapAt(middle, low) }
            if values[high] < values[low] { values.swapAt(high, low) }
            if values[high] < values[middle] { values.swapAt(high, middle) }
            let pivot = values[middle]
            var i = low, j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if rank <= j {
                high = j
            } else if rank >= i {
                low = i
            } else {
                return values[rank]
            }
        }
        return values[rank]
    }
}
