import Datasets
import Evaluation
import Foundation
import Layers
import Tensors
import Testing
@testable import Perturbations

/// A linear model `z = W x + b` on 2×2 images with 3 classes, and its cross-entropy gradient
/// computed by hand: `∇ₓ = Wᵀ (softmax(z) − onehot(y))`.
struct LinearModel {
    let model: Sequential
    let w: Tensor
    let b: Tensor

    init(seed: UInt64) throws {
        var rng = RandomSource(seed: seed)
        model = try Sequential(layers: [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 3))], inputShape: [1, 2, 2], rng: &rng)
        let linear = model.layers[1].layer as! Linear
        w = linear.weight.value
        b = linear.bias!.value
    }

    func gradient(_ x: [Float], label: Int) -> [Float] {
        let z = (0..<3).map { k in (0..<4).reduce(b.scalars[k]) { $0 + w[k, $1] * x[$1] } }
        let top = z.max()!
        let e = z.map { exp($0 - top) }
        let p = e.map { $0 / e.reduce(0, +) }
        return (0..<4).map { i in (0..<3).reduce(0) { $0 + w[$1, i] * (p[$1] - ($1 == label ? 1 : 0)) } }
    }
}

/// A small MLP trained for five epochs on synthetic 8×8 images of 4 classes, and its test split.
func trainedSyntheticMLP() throws -> (model: Sequential, test: ImageDataset) {
    let data = SyntheticImages.make(count: 700, classCount: 4, side: 8, noise: 0.8, seed: 3)
    let train = data.subset(Array(0..<500)), test = data.subset(Array(500..<700))
    var rng = RandomSource(seed: 4)
    let model = try Sequential(
        layers: [
            ("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 32)), ("2", ReLUSpec()),
            ("3", LinearSpec(outFeatures: 4)),
        ], inputShape: [1, 8, 8], rng: &rng)
    let optimizer = AdamSpec(lr: 0.01).makeOptimizer()
    for _ in 0..<5 {
        for batch in train.batches(size: 50) { _ = model.trainStep(images: batch.images, labels: batch.labels, optimizer: optimizer, rng: &rng) }
    }
    return (model, test)
}

@Suite struct PGDTests {
    /// Two L∞ steps from the clean image, each `x ← clip(clamp(x + α·sign(∇), x₀ ± ε), 0, 1)`.
    @Test func linfStepsMatchTheHandDerivedWalk() throws {
        let linear = try LinearModel(seed: 2)
        let x0: [Float] = [0.3, 0.6, 0.5, 0.95]
        let epsilon: Float = 0.1, alpha: Float = 0.06
        var x = x0
        for _ in 0..<2 {
            let g = linear.gradient(x, label: 1)
            x = (0..<4).map { i in min(1, max(0, min(x0[i] + epsilon, max(x0[i] - epsilon, x[i] + alpha * (g[i] > 0 ? 1 : -1))))) }
        }
        var rng = RandomSource(seed: 1)
        let attack = PGD(epsilon: epsilon, steps: 2, stepSize: alpha, randomStart: false)
        // The expected walk only holds while it has not fooled the model (then PGD keeps the
        // first fooling iterate): check the label stays predicted along it.
        let out = attack.perturb(images: Tensor(shape: [1, 1, 2, 2], scalars: x0), labels: [1], model: linear.model, rng: &rng)
        let predicted = linear.model.logits(Tensor(shape: [1, 1, 2, 2], scalars: x)).argMax(axis: 1)[0]
        if predicted == 1 {
            #expect(zip(out.scalars, x).allSatisfy { abs($0 - $1) < 1e-6 }, "\(out.scalars) vs \(x)")
        }
        // One step of size ε without a random start is FGSM.
        var a = RandomSource(seed: 1), b = RandomSource(seed: 1)
        let images = Tensor(shape: [1, 1, 2, 2], scalars: x0)
        #expect(
            PGD(epsilon: 0.1, steps: 1, stepSize: 0.1, randomStart: false).perturb(images: images, labels: [0], model: linear.model, rng: &a)
                == FGSM(epsilon: 0.1).perturb(images: images, labels: [0], model: linear.model, rng: &b))
    }

    @Test func l2StepIsTheUnitGradientScaledAndProjected() throws {
        let linear = try LinearModel(seed: 4)
        let x0: [Float] = [0.4, 0.5, 0.6, 0.5]
        let g = linear.gradient(x0, label: 0)
        let length = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let expected = (0..<4).map { x0[$0] + 0.05 * g[$0] / length }
        var rng = RandomSource(seed: 1)
        let out = PGD(epsilon: 0.2, norm: .l2, steps: 1, stepSize: 0.05, randomStart: false)
            .perturb(images: Tensor(shape: [1, 1, 2, 2], scalars: x0), labels: [0], model: linear.model, rng: &rng)
        #expect(zip(out.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        // A step longer than the ball is projected onto its sphere.
        let far = PGD(epsilon: 0.05, norm: .l2, steps: 1, stepSize: 1, randomStart: false)
            .perturb(images: Tensor(shape: [1, 1, 2, 2], scalars: x0), labels: [0], model: linear.model, rng: &rng)
        let distance = zip(far.scalars, x0).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        #expect(abs(distance - 0.05) < 1e-5)
    }

    /// Property: every attack's output lies in its norm ball and in [0, 1], on random models and inputs.
    @Test func everyAttackRespectsItsBallAndTheRange() throws {
        var rng = RandomSource(seed: 8)
        for trial in 0..<4 {
            let model = try Sequential(
                layers: [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 8)), ("2", ReLUSpec()), ("3", LinearSpec(outFeatures: 4))],
                inputShape: [1, 5, 5], rng: &rng)
            let x = Tensor.uniform(shape: [6, 1, 5, 5], using: &rng)
            let labels = (0..<6).map { ($0 + trial) % 4 }
            let epsilon = rng.uniform(0.01, 0.3)
            let attacks: [(any Attack, PerturbationBall.Norm)] = [
                (FGSM(epsilon: epsilon), .linf), (PGD(epsilon: epsilon, steps: 5), .linf), (PGD(epsilon: epsilon, target: .random), .linf),
                (PGD(epsilon: epsilon * 5, norm: .l2, steps: 5, restarts: 2), .l2), (APGD(epsilon: epsilon, steps: 10), .linf),
                (APGD(epsilon: epsilon * 5, norm: .l2, steps: 10), .l2), (SquareAttack(epsilon: epsilon, queries: 30), .linf),
                (APGD(epsilon: epsilon, steps: 10, loss: .dlr), .linf), (APGD(epsilon: epsilon * 5, norm: .l2, steps: 10, targetClasses: 3), .l2),
                (APGD(epsilon: epsilon * 10, norm: .l1, steps: 10), .l1),
                (APGD(epsilon: epsilon * 10, norm: .l1, steps: 10, targetClasses: 3, epsilonSchedule: .decreasing), .l1),
            ]
            for (attack, norm) in attacks {
                let out = attack.perturb(images: x, labels: labels, model: model, rng: &rng)
                #expect(out.scalars.allSatisfy { (0...1).contains($0) }, "\(attack.label)")
                for n in 0..<6 {
                    let delta = (0..<25).map { out.scalars[n * 25 + $0] - x.scalars[n * 25 + $0] }
                    let size =
                        switch norm {
                        case .linf: delta.map(abs).max()!
                        case .l2: delta.reduce(0) { $0 + $1 * $1 }.squareRoot()
                        case .l1: delta.reduce(0) { $0 + abs($1) }
                        }
                    #expect(size <= attack.budget! * 1.0001 + 1e-6, "\(attack.label): sample \(n) moved \(size)")
                }
            }
        }
    }

    @Test func targetedPGDReachesItsTarget() throws {
        let linear = try LinearModel(seed: 6)
        var rng = RandomSource(seed: 2)
        let x = Tensor.uniform(shape: [8, 1, 2, 2], using: &rng)
        let labels = linear.model.logits(x).argMax(axis: 1)
        let out = PGD(epsilon: 1, steps: 20, target: .next).perturb(images: x, labels: labels, model: linear.model, rng: &rng)
        let predicted = linear.model.logits(out).argMax(axis: 1)
        let reached = zip(predicted, labels).filter { $0 == ($1 + 1) % 3 }.count
        #expect(reached >= 6, "\(reached) of 8 reached the next class")
    }

    @Test func apgdCheckpointsFollowThePaper() {
        // Croce & Hein 2020 for 100 iterations: 22, 41, 57, 70, 80, 87, 93, 99.
        #expect(APGD.checkpoints(steps: 100) == [22, 41, 57, 70, 80, 87, 93, 99])
        #expect(SquareAttack.fraction(initial: 0.05, query: 1, of: 1000) == 0.05)
        #expect(SquareAttack.fraction(initial: 0.05, query: 6, of: 1000) == 0.05 / 4)
        #expect(SquareAttack.fraction(initial: 0.05, query: 999, of: 1000) == 0.05 / 512)
    }

    @Test func familiesDropTheBudget() {
        #expect(PGD(epsilon: 0.1, steps: 20).family == "pgd(steps=20)")
        #expect(FGSM(epsilon: 0.3).family == "fgsm()")
        #expect(APGD(epsilon: 0.1, norm: .l2).label == "apgd(epsilon=0.1,norm=l2)")
    }

    /// On a trained network: iterative attacks are at least as strong as FGSM, APGD at least as
    /// strong as PGD, and the gradient-free Square attack lowers accuracy too.
    @Test func iterativeAttacksAreStrongerAndSquareWorksWithoutGradients() throws {
        let (model, test) = try trainedSyntheticMLP()
        func accuracy(_ attack: (any Attack)?) -> Double {
            var attackRNG = RandomSource(seed: 5)
            return ClassificationEvaluation.evaluate(
                model: model, images: test.images, labels: test.labels, batchSize: 100,
                transform: attack.map { a in { images, labels in a.perturb(images: images, labels: labels, model: model, rng: &attackRNG) } }
            ).summary.accuracy
        }
        let epsilon: Float = 0.05
        let clean = accuracy(nil), fgsm = accuracy(FGSM(epsilon: epsilon))
        let pgd = accuracy(PGD(epsilon: epsilon, steps: 10)), apgd = accuracy(APGD(epsilon: epsilon, steps: 20))
        let square = accuracy(SquareAttack(epsilon: epsilon, queries: 200))
        #expect(pgd <= fgsm && apgd <= pgd + 0.01, "FGSM \(fgsm), PGD \(pgd), APGD \(apgd)")
        #expect(square < clean - 0.05, "clean \(clean), FGSM \(fgsm), PGD \(pgd), APGD \(apgd), Square \(square)")
    }

    /// APGD on the DLR loss and APGD-T on the trained MLP: both lower the accuracy below the
    /// clean one, APGD-T with all 3 other classes is at least as strong as with 1, and a run is
    /// reproducible from its seed.
    @Test func dlrAndTargetedAPGDAttackATrainedModel() throws {
        let (model, test) = try trainedSyntheticMLP()
        func accuracy(_ attack: (any Attack)?, seed: UInt64 = 5) -> Double {
            var attackRNG = RandomSource(seed: seed)
            return ClassificationEvaluation.evaluate(
                model: model, images: test.images, labels: test.labels, batchSize: 100,
                transform: attack.map { a in { images, labels in a.perturb(images: images, labels: labels, model: model, rng: &attackRNG) } }
            ).summary.accuracy
        }
        let epsilon: Float = 0.05
        let clean = accuracy(nil), ce = accuracy(APGD(epsilon: epsilon, steps: 20))
        let dlr = accuracy(APGD(epsilon: epsilon, steps: 20, loss: .dlr))
        let one = accuracy(APGD(epsilon: epsilon, steps: 20, targetClasses: 1)), all = accuracy(APGD(epsilon: epsilon, steps: 20, targetClasses: 3))
        #expect(dlr < clean - 0.05 && one < clean - 0.05, "clean \(clean), APGD-CE \(ce), APGD-DLR \(dlr), APGD-T(1) \(one), APGD-T(3) \(all)")
        #expect(all <= one, "APGD-T over 3 targets \(all) against 1 target \(one)")
        #expect(accuracy(APGD(epsilon: epsilon, steps: 20, loss: .dlr), seed: 9) == accuracy(APGD(epsilon: epsilon, steps: 20, loss: .dlr), seed: 9))
        #expect(APGD(epsilon: 0.1, targetClasses: 9).label == "apgd(epsilon=0.1,target_classes=9)")
        #expect(APGD(epsilon: 0.1, loss: .dlr).label == "apgd(epsilon=0.1,loss=dlr)")
        #expect(APGD(epsilon: 0.1, targetClasses: 9).problems(classCount: 10).isEmpty)
        #expect(
            APGD(epsilon: 0.1, targetClasses: 9).problems(classCount: 3) == [
                "target_classes needs 4 or more classes (the targeted DLR loss), the dataset has 3"
            ])
        #expect(APGD(epsilon: 0.1, targetClasses: 9).problems(classCount: 5) == ["target_classes must be at most 4 (the classes other than the label), got 9"])
        #expect(APGD(epsilon: 0.1, loss: .ce, targetClasses: 2).problems().contains { $0.hasPrefix("loss ce cannot be targeted") })
    }
}

/// The DLR losses on hand-derived logits, their invariance, and their gradients against finite
/// differences.
@Suite struct DLRLossTests {
    static func logits(_ rows: [[Float]]) -> Tensor { Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0 }) }

    @Test func handDerivedValuesAndGradients() {
        // [3, 1, 2, 0], label 0: margin 3 − 2 = 1, z_π1 − z_π3 = 3 − 1 = 2, loss −1/2; gradient
        // −1/2 at y, +1/2 at the runner-up, +1/4 at π1 (= y), −1/4 at π3.
        // [1, 3, 2, 0], label 0 (misclassified, y is π3): (3 − 1)/(3 − 1) = 1 whatever the logits
        // near it, so the gradient is 0.
        let (loss, gradient) = DLRLoss.untargeted(logits: Self.logits([[3, 1, 2, 0], [1, 3, 2, 0]]), labels: [0, 0])
        #expect(zip(loss, [-0.5, 1]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(loss)")
        #expect(zip(gradient.scalars, [-0.25, -0.25, 0.5, 0, 0, 0, 0, 0]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(gradient.scalars)")
        // Targeted, [3, 1, 2, 0, −1], label 0, target 1: (3 − 1)/(3 − (1 + 0)/2) = 0.8, loss −0.8;
        // gradient −0.4 + 0.32 at y = π1, +0.4 − 0.16 at t = π3, −0.16 at π4.
        let targeted = DLRLoss.targeted(logits: Self.logits([[3, 1, 2, 0, -1]]), labels: [0], targets: [1])
        #expect(abs(targeted.loss[0] + 0.8) < 1e-6)
        #expect(zip(targeted.gradient.scalars, [-0.08, 0.24, 0, -0.16, 0]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(targeted.gradient.scalars)")
    }

    @Test func invariantToShiftAndScaleAndGradientsMatchFiniteDifferences() {
        var rng = RandomSource(seed: 12)
        for _ in 0..<20 {
            let row = (0..<6).map { _ in rng.uniform(-3, 3) }
            let label = Int(rng.uniform(0, 5.99)), target = (label + 1 + Int(rng.uniform(0, 4.99))) % 6
            let base = DLRLoss.untargeted(logits: Self.logits([row]), labels: [label])
            let moved = DLRLoss.untargeted(logits: Self.logits([row.map { 2.5 * $0 + 7 }]), labels: [label])
            #expect(abs(base.loss[0] - moved.loss[0]) < 1e-4)
            let aimed = DLRLoss.targeted(logits: Self.logits([row]), labels: [label], targets: [target])
            for k in 0..<6 {
                let h: Float = 1e-3
                var up = row, down = row
                up[k] += h
                down[k] -= h
                let untargeted =
                    (DLRLoss.untargeted(logits: Self.logits([up]), labels: [label]).loss[0]
                        - DLRLoss.untargeted(logits: Self.logits([down]), labels: [label]).loss[0]) / (2 * h)
                let targetedDifference =
                    (DLRLoss.targeted(logits: Self.logits([up]), labels: [label], targets: [target]).loss[0]
                        - DLRLoss.targeted(logits: Self.logits([down]), labels: [label], targets: [target]).loss[0]) / (2 * h)
                #expect(abs(untargeted - base.gradient.scalars[k]) < 2e-2, "untargeted ∂/∂z\(k): \(untargeted) vs \(base.gradient.scalars[k])")
                #expect(abs(targetedDifference - aimed.gradient.scalars[k]) < 2e-2, "targeted ∂/∂z\(k): \(targetedDifference) vs \(aimed.gradient.scalars[k])")
            }
        }
    }

    /// The model's gradient for a loss given by its logit gradient equals the cross-entropy's
    /// own input gradient when that gradient is the cross-entropy's (softmax − one-hot).
    @Test func inputGradientOfALogitLossMatchesTheCrossEntropyPath() throws {
        let (model, test) = try trainedSyntheticMLP()
        let images = test.images.slice(0..<40), labels = Array(test.labels[0..<40])
        let reference = model.inputGradient(images: images, labels: labels)
        let general = model.inputGradient(images: images) { z, range in
            let classes = z.shape[1]
            var seed = Tensor(shape: z.shape)
            for row in 0..<z.shape[0] {
                let values = z.scalars[(row * classes)..<((row + 1) * classes)], top = values.max()!
                let e = values.map { exp($0 - top) }, sum = e.reduce(0, +)
                for k in 0..<classes { seed.scalars[row * classes + k] = e[k] / sum - (k == labels[range.lowerBound + row] ? 1 : 0) }
            }
            return seed
        }
        #expect(general.logits == reference.logits)
        #expect(zip(general.gradient.scalars, reference.gradient.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
