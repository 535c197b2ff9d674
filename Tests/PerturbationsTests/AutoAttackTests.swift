import Datasets
import Evaluation
import Foundation
import Layers
import Tensors
import Testing
@testable import Perturbations

/// The AutoAttack ensemble: never above any of its attacks, its per-sample report consistent
/// with the images it returns, and the reference's sanity checks.
@Suite struct AutoAttackTests {
    @Test func ensembleIsNeverAboveItsAttacksAndItsReportMatchesItsImages() throws {
        let (model, test) = try trainedSyntheticMLP()
        let images = test.images.slice(0..<60), labels = Array(test.labels[0..<60])
        let epsilon: Float = 0.05
        func accuracy(_ x: Tensor) -> Double {
            Double(zip(model.logits(x).argMax(axis: 1), labels).filter { $0 == $1 }.count) / Double(labels.count)
        }
        let ensemble = AutoAttack(epsilon: epsilon)
        var rng = RandomSource(seed: 1)
        let (out, report) = ensemble.perturbReporting(images: images, labels: labels, model: model, rng: &rng)
        #expect(report.components == ["clean", "apgd-ce", "apgd-t", "fab-t", "square"])
        #expect(
            ensemble.components(classCount: 4).map { $0.attack.label } == [
                "apgd(epsilon=0.05,steps=100)", "apgd(epsilon=0.05,steps=100,target_classes=3)", "fab(epsilon=0.05,steps=100,target_classes=3)",
                "square(epsilon=0.05,queries=5000,p_init=0.8)",
            ])
        let robust = accuracy(out)
        #expect(abs(robust - report.robustAccuracyAfter.last!) < 1e-12)
        #expect(report.robustAccuracyAfter == report.robustAccuracyAfter.sorted(by: >), "\(report.robustAccuracyAfter)")
        // Each attack alone, on every sample, is never stronger than the ensemble.
        for (name, attack) in ensemble.components(classCount: 4) {
            var alone = RandomSource(seed: 2)
            let single = accuracy(attack.perturb(images: images, labels: labels, model: model, rng: &alone))
            #expect(robust <= single, "ensemble \(robust) above \(name) \(single)")
        }
        let clean = model.logits(images).argMax(axis: 1), attacked = model.logits(out).argMax(axis: 1)
        for n in labels.indices {
            let moved = FAB.distance(out, images, sample: n, norm: .linf)
            switch report.brokenBy[n] {
            case -1:
                #expect(attacked[n] == labels[n] && report.norms[n].isNaN && moved == 0)
            case 0:
                #expect(clean[n] != labels[n] && report.norms[n] == 0 && moved == 0)
            default:
                #expect(clean[n] == labels[n] && attacked[n] != labels[n])
                #expect(report.norms[n] == moved && moved <= epsilon * 1.0001)
            }
        }
        #expect(report.adversarial == out)
        #expect(report.warnings.isEmpty, "\(report.warnings)")
        #expect(robust < report.robustAccuracyAfter[0] - 0.1, "clean \(report.robustAccuracyAfter[0]), ensemble \(robust)")
    }

    @Test func versionsListTheReferenceAttacks() {
        #expect(
            AutoAttack(epsilon: 0.5, norm: .l2, version: .plus).components(classCount: 10).map(\.name) == [
                "apgd-ce", "apgd-dlr", "fab", "square", "apgd-t", "fab-t",
            ])
        #expect(
            AutoAttack(epsilon: 0.1, version: .rand).components(classCount: 10).map { $0.attack.label } == [
                "apgd(epsilon=0.1,steps=100,eot_iterations=20)", "apgd(epsilon=0.1,steps=100,loss=dlr,eot_iterations=20)",
            ])
        #expect(AutoAttack(protocol: .robustbench).label == "autoattack(epsilon=0.03137255,protocol=robustbench)")
        #expect(AutoAttack(norm: .l2, protocol: .robustbench).radius == 0.5)
        #expect(AutoAttack().problems() == ["epsilon is required (or protocol: robustbench, whose budgets are 8/255 for linf and 0.5 for l2)"])
        #expect(AutoAttack(epsilon: 0.1).problems(classCount: 3).first?.hasPrefix("version standard needs 4 or more classes") == true)
        #expect(
            AutoAttack(version: .plus, protocol: .robustbench).problems() == [
                "protocol robustbench uses version standard (RobustBench's leaderboards), got plus"
            ])
    }

    /// A model ending in softmax gives probabilities: the check fires; the same network without
    /// it does not. A report where Square broke 1% of the samples warns of gradient masking.
    @Test func sanityChecksFire() throws {
        var rng = RandomSource(seed: 5)
        let layers: [(String, any LayerSpec)] = [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 5))]
        let logits = try Sequential(layers: layers, inputShape: [1, 4, 4], rng: &rng)
        var same = RandomSource(seed: 5)
        let probabilities = try Sequential(layers: layers + [("2", SoftmaxSpec())], inputShape: [1, 4, 4], rng: &same)
        let x = Tensor.uniform(shape: [8, 1, 4, 4], using: &rng)
        #expect(AutoAttack.lookLikeProbabilities(probabilities.logits(x)))
        #expect(!AutoAttack.lookLikeProbabilities(logits.logits(x)))
        #expect(!AutoAttack.differ(logits.logits(x), logits.logits(x)))
        var report = AttackReport(components: ["clean", "apgd-ce", "apgd-t", "fab-t", "square"], samples: 1000)
        for n in 0..<10 { report.brokenBy[n] = 4 }
        report.sanity.zeroGradientSamples = 3
        report.sanity.checked = 1000
        #expect(report.warnings.count == 2)
        #expect(report.warnings.contains { $0.hasPrefix("the gradient-free Square attack broke 1.00% of the samples") })
        #expect(report.warnings.contains { $0.hasPrefix("3 of 1000 inputs have an exactly zero loss gradient") })
        for n in 0..<10 { report.brokenBy[n] = n < 2 ? 4 : 1 }
        report.sanity.zeroGradientSamples = 0
        #expect(report.warnings.isEmpty, "0.2% is the reference's threshold, not above it")
        // Batches append in order; the probability flag holds only when every batch had it.
        var merged = AttackReport(components: [], samples: 0)
        var a = AttackReport(components: ["clean", "x"], samples: 2), b = AttackReport(components: ["clean", "x"], samples: 1)
        a.sanity.probabilityOutputs = true
        a.brokenBy = [0, 1]
        b.brokenBy = [-1]
        merged.append(a)
        merged.append(b)
        #expect(merged.brokenBy == [0, 1, -1] && !merged.sanity.probabilityOutputs)
        #expect(merged.robustAccuracyAfter == [2.0 / 3, 1.0 / 3])
    }

    /// Square L2 stays within its ball and the range, and fools a trained model.
    @Test func squareL2StaysInItsBallAndFools() throws {
        let (model, test) = try trainedSyntheticMLP()
        let images = test.images.slice(0..<60), labels = Array(test.labels[0..<60])
        var rng = RandomSource(seed: 3)
        let out = SquareAttack(epsilon: 1, norm: .l2, queries: 300, pInit: 0.3).perturb(images: images, labels: labels, model: model, rng: &rng)
        #expect(out.scalars.allSatisfy { (0...1).contains($0) })
        for n in 0..<60 { #expect(FAB.distance(out, images, sample: n, norm: .l2) <= 1.0001) }
        let clean = zip(model.logits(images).argMax(axis: 1), labels).filter { $0 == $1 }.count
        let attacked = zip(model.logits(out).argMax(axis: 1), labels).filter { $0 == $1 }.count
        #expect(attacked < clean - 5, "clean \(clean), Square L2 \(attacked) of 60")
        // Feature rows (a batch [N, F]) read as one row of pixels.
        let tabular = try Sequential(layers: [("0", LinearSpec(outFeatures: 3))], inputShape: [6], rng: &rng)
        let rows = Tensor.uniform(shape: [4, 6], using: &rng)
        let moved = SquareAttack(epsilon: 0.5, norm: .l2, queries: 20).perturb(images: rows, labels: [0, 1, 2, 0], model: tabular, rng: &rng)
        #expect(moved.shape == [4, 6] && (0..<4).allSatisfy { FAB.distance(moved, rows, sample: $0, norm: .l2) <= 0.5001 })
        // The window pattern: unit norm, opposite signs in its two halves.
        let window = SquareAttack.window(5)
        #expect(abs(window.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        #expect(window[0..<10].allSatisfy { $0 > 0 } && window[10..<25].allSatisfy { $0 < 0 })
    }
}
