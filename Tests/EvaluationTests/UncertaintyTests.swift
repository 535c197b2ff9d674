import Datasets
import Evaluation
import Foundation
import Layers
import Tensors
import Testing

@Suite struct UncertaintyTests {
    func score(_ scores: [[Double]], _ score: UncertaintyScore) -> [Double] {
        scores[UncertaintyScore.allCases.firstIndex(of: score)!]
    }

    @Test func scoresInClosedForm() {
        // One sample, two passes over two classes: (1, 0) and (0, 1). Mean (½, ½): entropy log 2,
        // each pass entropy 0 → mutual information log 2; votes split 1–1 → variation ratio ½;
        // variance of p_c over passes ¼ for both classes → ¼; max probability ½.
        let scores = UncertaintyScore.scores(passes: [[1, 0], [0, 1]], classes: 2)
        #expect(abs(score(scores, .entropy)[0] - log(2)) < 1e-12)
        #expect(score(scores, .expectedEntropy)[0] == 0)
        #expect(abs(score(scores, .mutualInformation)[0] - log(2)) < 1e-12)
        #expect(score(scores, .variationRatio)[0] == 0.5)
        #expect(score(scores, .predictiveVariance)[0] == 0.25)
        #expect(score(scores, .maxProbability)[0] == 0.5)
        // Identical passes: all the entropy is aleatoric.
        let same = UncertaintyScore.scores(passes: [[0.5, 0.5], [0.5, 0.5]], classes: 2)
        #expect(abs(score(same, .expectedEntropy)[0] - log(2)) < 1e-12 && score(same, .mutualInformation)[0] == 0)
        #expect(UncertaintyScore.maxProbability.detectionScore(0.9) == 1 - 0.9)
    }

    @Test func detectionWithOutOfDistributionPositive() {
        let detection = OutOfDistributionDetection(inDistribution: [0.1, 0.2, 0.3, 0.9], outOfDistribution: [0.5, 0.8])
        // OOD scores beat 3 of 4 in-distribution scores each → AUROC 6/8.
        #expect(abs(detection.auroc - 0.75) < 1e-12)
        // Catching both OOD samples needs threshold 0.5: in-distribution above it: 0.9 → FPR ¼.
        #expect(detection.falsePositiveRateAt95 == 0.25)
        // Ranking: 0.9 (in), 0.8 (ood), 0.5 (ood): AP = ½ · ½ + ½ · ⅔ = 7/12.
        #expect(abs(detection.aupr - 7.0 / 12) < 1e-12)
    }

    func model(dropout p: Float, seed: UInt64 = 1) throws -> Sequential {
        var rng = RandomSource(seed: seed)
        return try Sequential(
            layers: [
                ("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 16)), ("2", ReLUSpec()),
                ("3", DropoutSpec(p: p)), ("4", LinearSpec(outFeatures: 3)),
            ],
            inputShape: [1, 4, 4], rng: &rng)
    }

    @Test func monteCarloDropoutVariesAcrossPassesAndIsSeeded() throws {
        let net = try model(dropout: 0.5)
        var rng = RandomSource(seed: 9)
        let images = Tensor.normal(shape: [8, 1, 4, 4], using: &rng)
        let predictor = MonteCarloDropout(passes: 5, perLayer: true).predictor(model: net, members: [])
        var a = RandomSource(seed: 4), b = RandomSource(seed: 4)
        let first = predictor.predict(images, rng: &a), second = predictor.predict(images, rng: &b)
        #expect(first.logits.scalars == second.logits.scalars)
        #expect(score(first.scores, .mutualInformation).allSatisfy { $0 > 0 })
        // Layers before the dropout vary not at all across passes; the dropout output and after do.
        #expect(predictor.recordedLayers == ["0", "1", "2", "3", "4"])
        #expect(first.layerVariance[0] == 0 && first.layerVariance[1] == 0 && first.layerVariance[2] == 0)
        #expect(first.layerVariance[3] > 0 && first.layerVariance[4] > 0)
        // Without per-layer recording the passes share the layers before the dropout, computed
        // once: the same predictions, bit for bit, as full passes.
        var c = RandomSource(seed: 4)
        let shared = MonteCarloDropout(passes: 5).predictor(model: net, members: []).predict(images, rng: &c)
        #expect(net.firstStochasticLayer == 3)
        #expect(shared.logits.scalars == first.logits.scalars && shared.scores == first.scores)
        // The mean of the passes' softmax is the predictive distribution.
        let deterministic = Predictor.model(net).predict(images, rng: &a)
        #expect(score(deterministic.scores, .mutualInformation).allSatisfy { $0 == 0 })
    }

    @Test func ensembleAveragesItsMembersSoftmax() throws {
        let members = try [model(dropout: 0, seed: 1), model(dropout: 0, seed: 2)]
        var rng = RandomSource(seed: 5)
        let images = Tensor.normal(shape: [4, 1, 4, 4], using: &rng)
        let output = DeepEnsemble(members: 2).predictor(model: members[0], members: [members[1]]).predict(images, rng: &rng)
        let p0 = Kernels.softmax(members[0].logits(images)).scalars, p1 = Kernels.softmax(members[1].logits(images)).scalars
        let mean = Kernels.softmax(output.logits).scalars
        #expect(zip(mean, zip(p0, p1)).allSatisfy { abs($0 - ($1.0 + $1.1) / 2) < 1e-6 })
        #expect(DeepEnsemble(members: 1).problems() == ["members must be ≥ 2, got 1"])
    }

    @Test func outOfDistributionImagesKeepTheShapeAndRange() {
        var rng = RandomSource(seed: 1)
        let reference = ImageDataset(images: Tensor.normal(shape: [3, 1, 4, 4], using: &rng).clamped(to: 0...1), labels: [0, 1, 2], classCount: 3)
        for source in [UniformImages(), GaussianImages(), ShuffledPixels()] as [any OutOfDistributionSource] {
            var a = RandomSource(seed: 2), b = RandomSource(seed: 2)
            let images = source.images(count: 5, like: reference, rng: &a)
            #expect(images.shape == [5, 1, 4, 4] && images.scalars.allSatisfy { (0...1).contains($0) }, "\(source.label)")
            #expect(images.scalars == source.images(count: 5, like: reference, rng: &b).scalars)
        }
        // Shuffling keeps each image's pixel values.
        var c = RandomSource(seed: 3)
        let shuffled = ShuffledPixels().images(count: 1, like: reference, rng: &c)
        #expect(shuffled.scalars.sorted() == reference.images.slice(0..<1).scalars.sorted())
    }
}
