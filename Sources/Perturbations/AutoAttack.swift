import Foundation
import Evaluation
import Layers
import Spec
import Tensors

/// AutoAttack (Croce & Hein, ICML 2020): a fixed ensemble of parameter-free attacks, each run
/// only on the samples still robust after the ones before it, in the reference order; a sample
/// counts as robust only when every attack fails, so the ensemble's robust accuracy is never
/// above any of its attacks'.
///
/// Versions (the reference's budgets; `K` classes, targets `min(9, K − 1)`):
/// - `standard`: APGD-CE (100 steps), APGD-T (targeted DLR, 9 targets), FAB-T (100 steps, 9
///   targets), Square (5,000 queries, `p_init` 0.8);
/// - `plus`: APGD-CE and APGD-DLR with 5 restarts, FAB with 5 restarts, Square, APGD-T, FAB-T;
/// - `rand` (for models with random outputs): APGD-CE and APGD-DLR averaging 20 gradient passes
///   per step (expectation over transformation).
///
/// Per sample the evaluation records which attack broke it first (`clean` when the model
/// already misclassifies it), the adversarial example and its perturbation norm
/// (`AttackReport`), and the reference's sanity checks as warnings: outputs that differ for the
/// same input (a randomised model: use `rand`), outputs that look like probabilities rather
/// than logits, inputs whose loss gradient is exactly zero, and Square (gradient-free) breaking
/// more than 0.2% of the samples the gradient-based attacks before it left robust (gradient
/// masking).
///
/// `protocol: robustbench` follows RobustBench's evaluation: ε defaults to 8/255 (L∞) or 0.5
/// (L2), the standard version, and the run writes a `model_info` row beside the results
/// (`robustbench/`). RobustBench evaluates the first `n_examples` test images: set the
/// dataset's `test_limit`.
public struct AutoAttack: ReportingAttack, Equatable {
    public static let kind = "autoattack"
    public static let defaults = [
        "version": "standard", "norm": "linf", "epsilon": "8/255 (L∞) or 0.5 (L2) with protocol robustbench", "protocol": "none",
    ]
    public static let summary =
        "AutoAttack ensemble (Croce & Hein 2020): standard, plus or rand, L∞ or L2; per-sample breaking attack, sanity checks, RobustBench rows."

    /// The reference's attack lists.
    public enum Version: String, ParameterChoice { case standard, plus, rand }
    /// `robustbench`: RobustBench's budgets and its `model_info` row.
    public enum BenchmarkProtocol: String, ParameterChoice { case robustbench }

    /// The budget in pixel units (in [0, 1] for L∞, [0, 100] for L2); required unless
    /// `protocol: robustbench` gives the default.
    public var epsilon: Float?
    /// `linf` (default) or `l2`.
    public var norm: StandardNorm?
    /// `standard` (default), `plus` or `rand`.
    public var version: Version?
    /// `robustbench` or absent.
    public var `protocol`: BenchmarkProtocol?

    public init(epsilon: Float? = nil, norm: StandardNorm? = nil, version: Version? = nil, protocol: BenchmarkProtocol? = nil) {
        self.epsilon = epsilon
        self.norm = norm
        self.version = version
        self.protocol = `protocol`
    }

    var threat: AttackNorm { (norm ?? .linf).measure }
    var chosenVersion: Version { version ?? .standard }
    /// ε: as given, else RobustBench's CIFAR budget.
    public var radius: Float { epsilon ?? (threat == .linf ? 8.0 / 255 : 0.5) }

    public func problems() -> [String] {
        var found: [String] = []
        if epsilon == nil, `protocol` == nil { found.append("epsilon is required (or protocol: robustbench, whose budgets are 8/255 for linf and 0.5 for l2)") }
        if let epsilon, let problem = threat.epsilonProblem(epsilon) { found.append(problem) }
        if `protocol` == .robustbench, chosenVersion != .standard {
            found.append("protocol robustbench uses version standard (RobustBench's leaderboards), got \(chosenVersion.rawValue)")
        }
        return found
    }

    public func problems(classCount: Int) -> [String] {
        switch chosenVersion {
        case .standard, .plus:
            if classCount < 4 {
                return [
                    "version \(chosenVersion.rawValue) needs 4 or more classes (APGD-T's targeted DLR loss), the dataset has \(classCount); run apgd, fab and square as single attacks"
                ]
            }
        case .rand:
            if classCount < 3 { return ["version rand needs 3 or more classes (APGD-DLR), the dataset has \(classCount)"] }
        }
        return []
    }

    public var label: String {
        var parts = ["epsilon=\(formatParameter(radius))"]
        if threat != .linf { parts.append("norm=\(threat.rawValue)") }
        if chosenVersion != .standard { parts.append("version=\(chosenVersion.rawValue)") }
        if `protocol` != nil { parts.append("protocol=robustbench") }
        return "\(Self.kind)(\(parts.joined(separator: ",")))"
    }

    public var budget: Float? { radius }
    public var forwardPasses: Double { components(classCount: 10).reduce(0) { $0 + $1.attack.forwardPasses } + 3 }

    /// The ensemble's attacks in the reference order, with their names in results.
    public func components(classCount: Int) -> [(name: String, attack: any Attack)] {
        let e = radius, n = threat, standard = norm ?? .linf, targets = max(1, min(9, classCount - 1))
        switch chosenVersion {
        case .standard:
            return [
                ("apgd-ce", APGD(epsilon: e, norm: n, steps: 100)),
                ("apgd-t", APGD(epsilon: e, norm: n, steps: 100, targetClasses: targets)),
                ("fab-t", FAB(epsilon: e, norm: standard, steps: 100, targetClasses: targets)),
                ("square", SquareAttack(epsilon: e, norm: standard, queries: 5000, pInit: 0.8)),
            ]
        case .plus:
            return [
                ("apgd-ce", APGD(epsilon: e, norm: n, steps: 100, restarts: 5)),
                ("apgd-dlr", APGD(epsilon: e, norm: n, steps: 100, restarts: 5, loss: .dlr)),
                ("fab", FAB(epsilon: e, norm: standard, steps: 100, restarts: 5)),
                ("square", SquareAttack(epsilon: e, norm: standard, queries: 5000, pInit: 0.8)),
                ("apgd-t", APGD(epsilon: e, norm: n, steps: 100, targetClasses: targets)),
                ("fab-t", FAB(epsilon: e, norm: standard, steps: 100, targetClasses: targets)),
            ]
        case .rand:
            return [
                ("apgd-ce", APGD(epsilon: e, norm: n, steps: 100, eotIterations: 20)),
                ("apgd-dlr", APGD(epsilon: e, norm: n, steps: 100, loss: .dlr, eotIterations: 20)),
            ]
        }
    }

    public func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor {
        perturbReporting(images: images, labels: labels, model: model, rng: &rng).images
    }

    public func perturbReporting(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> (images: Tensor, report: AttackReport) {
        let logits = model.logits(images), classes = logits.shape[1]
        let attacks = components(classCount: classes)
        var report = AttackReport(components: ["clean"] + attacks.map(\.name), samples: labels.count)
        report.norm = threat.rawValue
        report.sanity.checked = labels.count
        report.sanity.randomizedOutputs = Self.differ(logits, model.logits(images))
        report.sanity.probabilityOutputs = Self.lookLikeProbabilities(logits)
        let gradient = model.inputGradient(images: images, labels: labels).gradient
        let size = images.count / max(1, labels.count)
        report.sanity.zeroGradientSamples =
            (0..<labels.count).filter { n in
                gradient.scalars[(n * size)..<((n + 1) * size)].allSatisfy { $0 == 0 }
            }.count
        var result = images
        let predicted = logits.argMax(axis: 1)
        var open: [Int] = []
        for n in labels.indices {
            if predicted[n] == labels[n] {
                open.append(n)
            } else {
                report.brokenBy[n] = 0
                report.norms[n] = 0
            }
        }
        for (k, component) in attacks.enumerated() where !open.isEmpty {
            let clean = images.gathering(rows: open), openLabels = open.map { labels[$0] }
            let adversarial = component.attack.perturb(images: clean, labels: openLabels, model: model, rng: &rng)
            let now = model.logits(adversarial).argMax(axis: 1)
            var stillOpen: [Int] = []
            for (row, n) in open.enumerated() {
                guard now[row] != openLabels[row] else {
                    stillOpen.append(n)
                    continue
                }
                copySample(row, from: adversarial, into: &result, at: n)
                report.brokenBy[n] = k + 1
                report.norms[n] = FAB.distance(adversarial, clean, sample: row, norm: threat)
            }
            open = stillOpen
        }
        // The verdict on the batch as it is returned (the evaluation predicts this batch): a
        // point that rounds back to its label there counts as robust, with its clean image.
        let verdict = model.logits(result).argMax(axis: 1)
        for n in labels.indices where report.brokenBy[n] > 0 && verdict[n] == labels[n] {
            report.brokenBy[n] = -1
            report.norms[n] = .nan
            copySample(n, from: images, into: &result)
        }
        report.adversarial = result
        return (result, report)
    }

    /// Whether two passes on the same input gave different logits (beyond float rounding).
    static func differ(_ a: Tensor, _ b: Tensor) -> Bool {
        zip(a.scalars, b.scalars).contains { abs($0 - $1) > 1e-5 * max(1, abs($0)) }
    }

    /// Whether every row lies in [0, 1] and sums to 1: softmax probabilities given as logits.
    static func lookLikeProbabilities(_ logits: Tensor) -> Bool {
        let classes = logits.shape[1], rows = logits.shape[0]
        guard rows > 0 else { return false }
        return (0..<rows).allSatisfy { n in
            let row = logits.scalars[(n * classes)..<((n + 1) * classes)]
            return row.allSatisfy { (0...1).contains($0) } && abs(row.reduce(0, +) - 1) < 1e-4
        }
    }
}

/// An attack that reports per sample how it went, beyond the adversarial images.
public protocol ReportingAttack: Attack {
    func perturbReporting(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> (images: Tensor, report: AttackReport)
}
