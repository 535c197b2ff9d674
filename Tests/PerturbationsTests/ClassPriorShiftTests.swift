import Foundation
import Perturbations
import Tensors
import Testing

/// The class-prior shift against its definition: π'(k) ∝ imbalance^(−k/(K−1)).
@Suite struct ClassPriorShiftTests {
    /// 10 balanced classes of 300 samples, labels in a scrambled order.
    let labels = (0..<3000).map { ($0 * 7) % 10 }

    @Test func priorFollowsTheExponentialProfile() {
        let prior = ClassPriorShift(imbalance: 10).prior(classes: 10)
        #expect(abs(prior.reduce(0, +) - 1) < 1e-12)
        #expect(abs(prior[0] / prior[9] - 10) < 1e-9)
        // Geometric: equal ratios between neighbours, 10^(1/9).
        for k in 0..<9 { #expect(abs(prior[k] / prior[k + 1] - pow(10, 1.0 / 9)) < 1e-9) }
        #expect(ClassPriorShift(imbalance: 1).prior(classes: 4) == [0.25, 0.25, 0.25, 0.25])
        let reversed = ClassPriorShift(imbalance: 10, reverse: true).prior(classes: 10)
        #expect(abs(reversed[9] / reversed[0] - 10) < 1e-9)
    }

    @Test func resampledLabelsHaveTheTargetFrequencies() {
        var rng = RandomSource(seed: 3)
        let shift = ClassPriorShift(imbalance: 10)
        let indices = shift.resample(labels: labels, rng: &rng)
        #expect(indices.count == labels.count && indices.allSatisfy { labels.indices.contains($0) })
        let prior = shift.prior(classes: 10)
        var counts = [Double](repeating: 0, count: 10)
        for index in indices { counts[labels[index]] += 1 }
        for k in 0..<10 {
            // Binomial standard deviation √(Nπ(1 − π)); five of them is far outside chance.
            let expected = Double(labels.count) * prior[k]
            #expect(abs(counts[k] - expected) < 5 * (expected * (1 - prior[k])).squareRoot(), "class \(k): \(counts[k]) vs \(expected)")
        }
    }

    @Test func seededAndImageFree() {
        var a = RandomSource(seed: 5), b = RandomSource(seed: 5), c = RandomSource(seed: 6)
        let shift = ClassPriorShift(imbalance: 4)
        #expect(shift.resample(labels: labels, rng: &a) == shift.resample(labels: labels, rng: &b))
        #expect(shift.resample(labels: labels, rng: &a) != shift.resample(labels: labels, rng: &c))
        let images = Tensor(shape: [2, 1, 2, 2], scalars: [0, 0.25, 0.5, 1, 1, 0.5, 0.25, 0])
        var rng = RandomSource(seed: 1)
        #expect(shift.apply(to: images, rng: &rng).scalars == images.scalars)
        #expect(ClassPriorShift(imbalance: 0.5).problems() == ["imbalance must be a finite number ≥ 1, got 0.5"])
        #expect(shift.label == "class_prior(imbalance=4)")
    }
}
