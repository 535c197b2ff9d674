import Datasets
import Evaluation
import Layers
import Perturbations
import Tensors
import Testing

@Suite struct GaussianNoiseTests {
    @Test func noiseHasItsStandardDeviationAndStaysInRange() {
        let gray = Tensor(shape: [10, 1, 20, 20], repeating: 0.5)
        var rng = RandomSource(seed: 1)
        let noisy = GaussianNoise(std: 0.1).apply(to: gray, rng: &rng)
        let deltas = zip(noisy.scalars, gray.scalars).map { Double($0 - $1) }
        let std = (deltas.reduce(0) { $0 + $1 * $1 } / Double(deltas.count)).squareRoot()
        #expect(abs(std - 0.1) < 0.005)
        var clippedRNG = RandomSource(seed: 1)
        #expect(GaussianNoise(std: 1).apply(to: gray, rng: &clippedRNG).scalars.allSatisfy { (0...1).contains($0) })
        var again = RandomSource(seed: 1)
        #expect(GaussianNoise(std: 0.1).apply(to: gray, rng: &again) == noisy)
        #expect(GaussianNoise(std: 0).problems().count == 1 && GaussianNoise(std: 0.3).problems().isEmpty)
        #expect(GaussianNoise(std: 0.1).label == "gaussian_noise(std=0.1)")
    }
}

@Suite struct FGSMTests {
    /// A linear model `z = W x + b`: the cross-entropy gradient is `Wᵀ (softmax(z) − onehot(y))`.
    @Test func stepFollowsTheSignOfTheHandComputedGradient() throws {
        var rng = RandomSource(seed: 2)
        let model = try Sequential(layers: [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 3))], inputShape: [1, 2, 2], rng: &rng)
        let x = Tensor.uniform(shape: [2, 1, 2, 2], low: 0.2, high: 0.8, using: &rng)
        let labels = [2, 0]
        let adversarial = FGSM(epsilon: 0.1).perturb(images: x, labels: labels, model: model, rng: &rng)
        let w = (model.layers[1].layer as! Linear).weight.value
        let p = Kernels.softmax(model.logits(x))
        for n in 0..<2 {
            for i in 0..<4 {
                var gradient: Float = 0
                for k in 0..<3 { gradient += w[k, i] * (p[n, k] - (k == labels[n] ? 1 : 0)) }
                let step = adversarial.scalars[n * 4 + i] - x.scalars[n * 4 + i]
                #expect(abs(step - 0.1 * (gradient > 0 ? 1 : -1)) < 1e-6)
            }
        }
    }

    @Test func inputGradientsDriveAccuracyDown() throws {
        let (model, test) = try trainedSyntheticMLP()
        func accuracy(_ transform: ((Tensor, [Int]) -> Tensor)?) -> Double {
            ClassificationEvaluation.evaluate(model: model, images: test.images, labels: test.labels, batchSize: 64, transform: transform).summary.accuracy
        }
        let clean = accuracy(nil)
        var attackRNG = RandomSource(seed: 5)
        let attacked = accuracy { images, labels in FGSM(epsilon: 0.1).perturb(images: images, labels: labels, model: model, rng: &attackRNG) }
        // The same budget in random sign directions: what is left without the gradient.
        var signRNG = RandomSource(seed: 6)
        let randomSigns = accuracy { images, _ in
            var out = images
            for i in 0..<out.count { out.scalars[i] = min(1, max(0, out.scalars[i] + (signRNG.nextUnitFloat() < 0.5 ? 0.1 : -0.1))) }
            return out
        }
        #expect(clean > 0.9)
        #expect(attacked < clean - 0.3, "clean \(clean), FGSM \(attacked)")
        #expect(attacked < randomSigns - 0.2, "random signs \(randomSigns), FGSM \(attacked)")
    }

    @Test func budgetAndRangeAreRespected() throws {
        var rng = RandomSource(seed: 7)
        let model = try Sequential(layers: [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 2))], inputShape: [1, 3, 3], rng: &rng)
        let x = Tensor.uniform(shape: [4, 1, 3, 3], using: &rng)
        let y = FGSM(epsilon: 0.3).perturb(images: x, labels: [0, 1, 0, 1], model: model, rng: &rng)
        #expect(y.scalars.allSatisfy { (0...1).contains($0) })
        #expect(y.maxAbsDifference(x) <= 0.3 + 1e-6)
        #expect(FGSM(epsilon: 1.5).problems().first?.contains("pixel units") == true)
    }
}
