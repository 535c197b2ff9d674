import Evaluation
import Foundation
import Tensors
import Testing

@Suite struct CalibratorTests {
    /// Logits `[n, classes]` whose labels are drawn from `softmax(z / trueTemperature)`: an
    /// over-confident model when the temperature is above 1.
    static func overconfident(n: Int, classes: Int, trueTemperature: Double, seed: UInt64) -> (Tensor, [Int]) {
        var rng = RandomSource(seed: seed)
        let z = Tensor.normal(shape: [n, classes], using: &rng) * 4
        let p = Kernels.softmax(z * Float(1 / trueTemperature))
        let labels = (0..<n).map { i -> Int in
            var u = Double(rng.nextUnitFloat()), c = 0
            while c < classes - 1 { u -= Double(p.scalars[i * classes + c]); if u < 0 { break }; c += 1 }
            return c
        }
        return (z, labels)
    }

    func nll(_ logits: Tensor, _ labels: [Int]) -> Double { evaluate(CrossEntropy(), logits, labels).scalars[0] }

    @Test func temperatureRecoversTheGeneratingTemperature() {
        let (z, labels) = Self.overconfident(n: 20_000, classes: 5, trueTemperature: 2, seed: 1)
        let fitted = TemperatureScaling().fit(logits: z, labels: labels)
        let t = fitted.parameters[0].values[0]
        #expect(abs(t - 2) < 0.1, "T = \(t)")
        #expect(nll(fitted.apply(z), labels) < nll(z, labels))
        #expect(fitted.apply(z).argMax(axis: 1) == z.argMax(axis: 1))
    }

    @Test func vectorScalingIsAStationaryPointOfItsObjective() {
        let (z, labels) = Self.overconfident(n: 2_000, classes: 3, trueTemperature: 1.5, seed: 2)
        let fitted = VectorScaling().fit(logits: z, labels: labels)
        let weight = fitted.parameters[0].values, bias = fitted.parameters[1].values
        // The penalised objective's finite-difference derivative vanishes at the fit.
        func objective(_ w: [Double], _ b: [Double]) -> Double {
            var scaled = z
            for i in scaled.scalars.indices { scaled.scalars[i] = Float(w[i % 3] * Double(z.scalars[i]) + b[i % 3]) }
            let penalty = 1e-3 / 2 * (zip(w, [1.0, 1, 1]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } + b.reduce(0) { $0 + $1 * $1 })
            return nll(scaled, labels) + penalty
        }
        let h = 1e-3
        for j in 0..<3 {
            var up = weight, down = weight
            up[j] += h; down[j] -= h
            #expect(abs((objective(up, bias) - objective(down, bias)) / (2 * h)) < 2e-3, "weight \(j)")
        }
        #expect(nll(fitted.apply(z), labels) < nll(z, labels))
    }

    @Test func histogramBinningMapsBinsToTheirFrequencies() {
        // Two classes, two bins. Class 1 probabilities 0.8, 0.9 (labels 1, 0) → bin 1 value 0.5;
        // 0.2, 0.1 (labels 0, 0) → bin 0 value 0. Class 0 mirrors it: bin 0 → 0.5, bin 1 → 1.
        let z = logits(probabilities: [[0.2, 0.8], [0.1, 0.9], [0.8, 0.2], [0.9, 0.1]])
        let fitted = HistogramBinning(bins: 2).fit(logits: z, labels: [1, 0, 0, 0])
        #expect(fitted.parameters[0].values == [0.5, 1, 0, 0.5])
        // Sample with p = (0.3, 0.7): class 0 → 0.5, class 1 → 0.5 → renormalised (0.5, 0.5).
        let out = Kernels.softmax(fitted.apply(logits(probabilities: [[0.3, 0.7]]))).scalars
        #expect(abs(out[0] - 0.5) < 1e-6 && abs(out[1] - 0.5) < 1e-6)
        // p = (0.9, 0.1): class 0 → 1, class 1 → 0 → floored at 1e-7 before renormalising.
        let sure = Kernels.softmax(fitted.apply(logits(probabilities: [[0.9, 0.1]]))).scalars
        #expect(abs(Double(sure[1]) - 1e-7) < 1e-9)
    }

    @Test func isotonicFitPoolsViolators() {
        // y = 1, 0, 1, 1 at x = 1, 2, 3, 4: the first two pool to 0.5.
        let fit = IsotonicCalibration.isotonicFit(x: [3, 1, 4, 2], y: [1, 1, 1, 0])
        #expect(fit.x == [1, 2, 3, 4] && fit.y == [0.5, 0.5, 1, 1])
        #expect(IsotonicCalibration.interpolate(2.5, knots: fit) == 0.75)
        #expect(IsotonicCalibration.interpolate(0, knots: fit) == 0.5 && IsotonicCalibration.interpolate(9, knots: fit) == 1)
        // Tied x values are pooled before the violators.
        #expect(IsotonicCalibration.isotonicFit(x: [1, 1, 2], y: [0, 1, 1]).y == [0.5, 1])
    }

    @Test func everyCalibratorLowersTheNLLOfAnOverconfidentModelOnHeldOutData() {
        let (z, labels) = Self.overconfident(n: 6_000, classes: 4, trueTemperature: 2.5, seed: 5)
        let fitZ = z.slice(0..<3_000), testZ = z.slice(3_000..<6_000)
        let fitLabels = Array(labels[0..<3_000]), testLabels = Array(labels[3_000...])
        let before = nll(testZ, testLabels)
        let eceBefore = evaluate(ExpectedCalibrationError(), testZ, testLabels).scalars[0]
        for calibrator in [TemperatureScaling(), VectorScaling(), HistogramBinning(), IsotonicCalibration()] as [any Calibrator] {
            let calibrated = calibrator.fit(logits: fitZ, labels: fitLabels).apply(testZ)
            #expect(nll(calibrated, testLabels) < before, "\(calibrator.label)")
            #expect(evaluate(ExpectedCalibrationError(), calibrated, testLabels).scalars[0] < eceBefore / 2, "\(calibrator.label)")
        }
    }
}

@Suite struct ConfidenceIntervalTests {
    @Test func clopperPearsonMatchesSciPyBetaQuantiles() {
        // scipy.stats.beta.ppf at α = 0.05 (and 0.01 for the last case).
        let cases: [(k: Int, n: Int, level: Double, low: Double, high: Double)] = [
            (5, 10, 0.95, 0.18708602844739855, 0.8129139715526015),
            (0, 10, 0.95, 0, 0.3084971078187607),
            (10, 10, 0.95, 0.6915028921812392, 1),
            (1729, 2000, 0.95, 0.8487154762200193, 0.8792072144443841),
            (3, 37, 0.95, 0.0170435306958188, 0.21909620623800014),
            (3, 37, 0.99, 0.009343786272951278, 0.26634452863265645),
        ]
        for c in cases {
            let (low, high) = ConfidenceInterval.clopperPearson(successes: c.k, trials: c.n, level: c.level)
            #expect(abs(low - c.low) < 1e-9 && abs(high - c.high) < 1e-9, "\(c.k)/\(c.n): \(low) \(high)")
        }
        // I_x(1, 1) is the uniform CDF; I_x(a, b) + I_{1−x}(b, a) = 1.
        #expect(abs(ConfidenceInterval.regularizedIncompleteBeta(0.3, a: 1, b: 1) - 0.3) < 1e-14)
        #expect(
            abs(ConfidenceInterval.regularizedIncompleteBeta(0.2, a: 2.5, b: 7) + ConfidenceInterval.regularizedIncompleteBeta(0.8, a: 7, b: 2.5) - 1) < 1e-14)
    }

    @Test func bootstrapIsSeededAndBracketsTheEstimate() {
        var rng = RandomSource(seed: 8)
        let z = Tensor.normal(shape: [400, 3], using: &rng) * 2
        let labels = (0..<400).map { $0 % 3 }
        let metrics: [any Metric] = [Accuracy(), ExpectedCalibrationError(), AUROC()]
        var a = RandomSource(seed: 1), b = RandomSource(seed: 1)
        let first = ConfidenceInterval.bootstrap(logits: z, labels: labels, metrics: metrics, resamples: 200, level: 0.9, rng: &a)
        let second = ConfidenceInterval.bootstrap(logits: z, labels: labels, metrics: metrics, resamples: 200, level: 0.9, rng: &b)
        #expect(first.map(\.low) == second.map(\.low) && first.map(\.high) == second.map(\.high))
        let estimates = ClassificationEvaluation.score(logits: z, labels: labels, metrics: metrics).metrics.flatMap(\.scalars)
        for (estimate, interval) in zip(estimates, first) {
            #expect(interval.low < estimate && estimate < interval.high + 0.02, "\(estimate) in \(interval)")
        }
        // The accuracy's bootstrap interval is close to the exact binomial one (normal regime).
        let correct = zip(z.argMax(axis: 1), labels).filter { $0 == $1 }.count
        let exact = ConfidenceInterval.clopperPearson(successes: correct, trials: 400, level: 0.9)
        #expect(abs(first[0].low - exact.low) < 0.02 && abs(first[0].high - exact.high) < 0.02)
    }
}
