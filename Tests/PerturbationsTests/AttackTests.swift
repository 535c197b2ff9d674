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
            ]
            for (attack, norm) in attacks {
                let out = attack.perturb(images: x, labels: labels, model: model, rng: &rng)
                #expect(out.scalars.allSatisfy { (0...1).contains($0) }, "\(attack.label)")
                for n in 0..<6 {
                    let delta = (0..<25).map { out.scalars[n * 25 + $0] - x.scalars[n * 25 + $0] }
                    let size = norm == .linf ? delta.map(abs).max()! : delta.reduce(0) { $0 + $1 * $1 }.squareRoot()
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
}
