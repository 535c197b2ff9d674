import Datasets
import Evaluation
import Foundation
import Layers
import Tensors
import Testing

/// Regression metrics against scikit-learn and SciPy (fixtures from
/// scripts/make_metric_fixtures.py) and closed forms; regression predictors in closed form.
@Suite struct RegressionTests {
    struct Case {
        var name: String
        var batch: RegressionBatch
        var expected: [String: Double]
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sklearn-regression.json")
        let root = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { entry in
            func numbers(_ key: String) -> [Double] { (entry[key] as! [NSNumber]).map(\.doubleValue) }
            return Case(
                name: entry["name"] as! String,
                batch: RegressionBatch(
                    mean: numbers("mean"), aleatoric: numbers("variance"), targets: numbers("y"),
                    targetCount: entry["targets"] as! Int),
                expected: (entry["expected"] as! [String: NSNumber]).mapValues(\.doubleValue))
        }
    }()

    /// The metric's scalars, fed in three uneven slices through merged accumulators.
    func scalars(_ metric: any Metric, _ batch: RegressionBatch) -> [Double] {
        var total = metric.makeAccumulator()
        let cuts = [0, batch.count / 5, batch.count / 2, batch.count]
        for (low, high) in zip(cuts, cuts.dropFirst()) {
            var part = metric.makeAccumulator()
            part.add(batch.slice(low..<high))
            total.merge(part)
        }
        return total.result.scalars
    }

    @Test func metricsMatchScikitLearnAndSciPy() {
        #expect(Self.cases.count == 3)
        for c in Self.cases {
            let checks: [(any Metric, [String])] = [
                (MeanSquaredError(), ["mse"]), (MeanAbsoluteError(), ["mae"]), (R2Score(), ["r2"]),
                (GaussianNLL(), ["gaussian_nll"]), (IntervalCoverage(), ["coverage_90", "interval_width_90"]),
            ]
            for (metric, keys) in checks {
                #expect(metric.columns.map(\.name) == keys)
                for (value, key) in zip(scalars(metric, c.batch), keys) {
                    #expect(abs(value - c.expected[key]!) < 1e-9, "\(c.name) \(key): \(value) vs \(c.expected[key]!)")
                }
            }
        }
    }

    @Test func closedForms() {
        // Predicting every target's mean gives R² = 0; exact predictions R² = 1, MSE = MAE = 0.
        let targets: [Double] = [1, 2, 3, 6]
        let atMean = RegressionBatch(mean: Array(repeating: 3, count: 4), targets: targets, targetCount: 1)
        #expect(abs(scalars(R2Score(), atMean)[0]) < 1e-12)
        #expect(scalars(MeanSquaredError(), atMean)[0] == (4 + 1 + 0 + 9) / 4.0)
        #expect(scalars(MeanAbsoluteError(), atMean)[0] == (2 + 1 + 0 + 3) / 4.0)
        let exact = RegressionBatch(mean: targets, targets: targets, targetCount: 1)
        #expect(scalars(R2Score(), exact)[0] == 1 && scalars(MeanSquaredError(), exact)[0] == 0)
        // A target one standard deviation from the mean: NLL = ½ log 2πσ² + ½.
        let one = RegressionBatch(mean: [0], aleatoric: [4], targets: [2], targetCount: 1)
        #expect(abs(scalars(GaussianNLL(), one)[0] - (0.5 * log(2 * Double.pi * 4) + 0.5)) < 1e-12)
        // Normal quantiles of the central intervals (Abramowitz & Stegun, table 26.5).
        #expect(abs(scalars(IntervalCoverage(level: 0.95), one)[1] - 2 * 1.959963984540054 * 2) < 1e-9)
        #expect(IntervalCoverage(level: 0.95).columns.map(\.name) == ["coverage_95", "interval_width_95"])
        #expect(IntervalCoverage(level: 0.95).columns[0].ideal == 0.95)
        // |2 − 0| ≤ 1.96 · 2 is inside; at 50% (z = 0.674) it is outside.
        #expect(scalars(IntervalCoverage(level: 0.95), one)[0] == 1 && scalars(IntervalCoverage(level: 0.5), one)[0] == 0)
        #expect(IntervalCoverage(level: 1.5).problems(classCount: 0) == ["level must be in (0, 1), got 1.5"])
    }

    @Test func varianceIsAleatoricPlusEpistemicAndNeededForLikelihood() {
        let both = RegressionBatch(mean: [0, 1], aleatoric: [1, 2], epistemic: [0.5, 0.25], targets: [0, 0], targetCount: 1)
        #expect(both.variance == [1.5, 2.25])
        let point = RegressionBatch(mean: [0, 1], targets: [0, 0], targetCount: 1)
        #expect(point.variance == nil)
        #expect(scalars(GaussianNLL(), point)[0].isNaN)
        #expect(scalars(IntervalCoverage(), point).allSatisfy { $0.isNaN })
        #expect(scalars(MeanSquaredError(), point)[0] == 0.5)
    }

    /// A one-layer model `x ↦ (w₀ x + b₀, w₁ x + b₁)`: a mean and a log-variance head.
    func gaussianModel(weights: [Float], biases: [Float]) throws -> Sequential {
        var rng = RandomSource(seed: 0)
        let model = try Sequential(layers: [("0", LinearSpec(outFeatures: 2))], inputShape: [1], rng: &rng)
        try model.loadStateDict(["0.weight": Tensor(shape: [2, 1], scalars: weights), "0.bias": Tensor(shape: [2], scalars: biases)])
        return model
    }

    @Test func ensembleSplitsAleatoricAndEpistemicVariance() throws {
        // Member 1 predicts (2x, log 1), member 2 (2x + 1, log 4) at x = 3: means 6 and 7.
        let first = try gaussianModel(weights: [2, 0], biases: [0, 0])
        let second = try gaussianModel(weights: [2, 0], biases: [1, log(4)])
        let ensemble = DeepEnsemble(members: 2).predictor(model: first, members: [second])
        var rng = RandomSource(seed: 1)
        let (batch, _) = ensemble.predictRegression(Tensor(shape: [1, 1], scalars: [3]), targets: 1, loss: .gaussianNLL, rng: &rng)
        #expect(abs(batch.mean[0] - 6.5) < 1e-6)
        #expect(abs(batch.aleatoric![0] - 2.5) < 1e-6)  // (1 + 4) / 2
        #expect(abs(batch.epistemic![0] - 0.25) < 1e-6)  // population variance of {6, 7}
        #expect(abs(batch.variance![0] - 2.75) < 1e-6)
        // The model alone: its own variance head, no epistemic part.
        var again = RandomSource(seed: 1)
        let alone = Predictor.model(second).predictRegression(Tensor(shape: [1, 1], scalars: [3]), targets: 1, loss: .gaussianNLL, rng: &again)
        #expect(abs(alone.batch.mean[0] - 7) < 1e-6 && abs(alone.batch.aleatoric![0] - 4) < 1e-5 && alone.batch.epistemic == nil)
        // A point-prediction (MSE) model gives no variance at all.
        let point = Predictor.model(first).predictRegression(Tensor(shape: [1, 1], scalars: [3]), targets: 1, loss: .meanSquaredError, rng: &again)
        #expect(point.batch.variance == nil)
    }

    @Test func evaluationScoresEverySampleAndTheLoss() throws {
        let model = try gaussianModel(weights: [1, 0], biases: [0, 0])
        let inputs = Tensor(shape: [5, 1], scalars: [0, 1, 2, 3, 4])
        let targets = Tensor(shape: [5, 1], scalars: [1, 1, 2, 3, 5])
        let (outputs, _) = RegressionEvaluation.predict(
            [.model(model)], inputs: inputs, targets: targets, loss: .gaussianNLL,
            batchSize: 2, rng: RandomSource(seed: 0))
        let batch = outputs[0].batch
        #expect(batch.mean == [0, 1, 2, 3, 4] && batch.targets == [1, 1, 2, 3, 5])
        // σ² = 1 everywhere: NLL = ½ log 2π + ½ · mean squared error (2/5).
        #expect(abs(RegressionEvaluation.loss(batch, .gaussianNLL) - (0.5 * log(2 * Double.pi) + 0.2)) < 1e-9)
        #expect(abs(RegressionEvaluation.loss(batch, .meanSquaredError) - 0.4) < 1e-9)
        let scores = outputs[0].scores
        #expect(scores.count == RegressionEvaluation.Score.allCases.count)
        #expect(scores[0].allSatisfy { abs($0 - 1) < 1e-9 } && scores[1].allSatisfy { $0.isNaN } && scores[2] == scores[0])
    }
}
