import Evaluation
import Foundation
import Tensors
import Testing

/// Metric values against scikit-learn and SciPy on seeded random logits
/// (`Fixtures/sklearn-metrics.json`, written by `scripts/make_metric_fixtures.py`).
@Suite struct ScikitLearnFixtureTests {
    struct Case: Sendable {
        var name: String
        var classes: Int
        var labels: [Int]
        var logits: Tensor
        /// Every expected value as a list (a scalar is a list of one).
        var expected: [String: [Double]]

        func number(_ key: String) -> Double { expected[key]![0] }
        func numbers(_ key: String) -> [Double] { expected[key]! }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sklearn-metrics.json")
        let root = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { entry in
            let classes = entry["classes"] as! Int
            let labels = entry["labels"] as! [Int]
            let logits = (entry["logits"] as! [NSNumber]).map(\.floatValue)
            return Case(
                name: entry["name"] as! String, classes: classes, labels: labels,
                logits: Tensor(shape: [labels.count, classes], scalars: logits),
                expected: (entry["expected"] as! [String: Any]).mapValues { value in
                    (value as? [NSNumber])?.map(\.doubleValue) ?? [(value as! NSNumber).doubleValue]
                })
        }
    }()

    func result(_ metric: any Metric, _ c: Case, batches: Int = 3) -> MetricResult {
        // Fed in uneven batches through merged accumulators, as evaluations do.
        var total = metric.makeAccumulator()
        let size = (c.labels.count + batches - 1) / batches
        for start in stride(from: 0, to: c.labels.count, by: size) {
            let range = start..<min(start + size, c.labels.count)
            var part = metric.makeAccumulator()
            part.add(logits: c.logits.slice(range), labels: Array(c.labels[range]))
            total.merge(part)
        }
        return total.result
    }

    @Test(arguments: ["multiclass", "binary", "binary_ties", "multiclass_ties"])
    func classificationMetricsMatchScikitLearn(_ name: String) {
        let c = Self.cases.first { $0.name == name }!
        for average in ClassAverage.allCases {
            for (metric, key) in [
                (Precision(average: average) as any Metric, "precision"), (Recall(average: average), "recall"), (F1Score(average: average), "f1"),
            ] {
                #expect(abs(result(metric, c).scalars[0] - c.number("\(key)_\(average.rawValue)")) < 1e-12, "\(name) \(key) \(average)")
            }
        }
        let counts = result(ConfusionMatrix(), c).arrays[0]
        #expect(counts.values == c.numbers("confusion_matrix") && counts.layout == .fixed([c.classes, c.classes]))
        // Probabilities come from Float32 softmax: agreement to about 1e-6 relative.
        #expect(abs(result(CrossEntropy(), c).scalars[0] - c.number("log_loss")) < 2e-6, "\(name) log loss")
        #expect(abs(result(BrierScore(), c).scalars[0] - c.number("brier_score")) < 2e-6, "\(name) brier")
        // Ranking metrics depend on which scores tie. Mathematically tied probabilities of three
        // classes come out of Float32 and Float64 softmax with different ties, so the tied
        // three-class case is compared on everything else (two-class ties are exact: see the script).
        if name == "multiclass_ties" { return }
        #expect(abs(result(AUROC(), c).scalars[0] - c.number("auroc")) < 1e-9, "\(name) auroc")
        #expect(abs(result(AveragePrecision(), c).scalars[0] - c.number("average_precision")) < 1e-9, "\(name) average precision")
        if c.classes > 2 {
            #expect(abs(result(AUROC(average: .weighted), c).scalars[0] - c.number("auroc_weighted")) < 1e-9)
            #expect(abs(result(AveragePrecision(average: .weighted), c).scalars[0] - c.number("average_precision_weighted")) < 1e-9)
        } else {
            // scikit-learn's binary Brier score is half of the two-class sum over classes.
            #expect(abs(result(BrierScore(), c).scalars[0] / 2 - c.number("brier_score_binary_sklearn")) < 2e-6)
            #expect(abs(result(BestThreshold(), c).scalars[1] - c.number("best_f1")) < 1e-12)
            #expect(abs(result(BestThreshold(criterion: .youden), c).scalars[1] - c.number("best_youden_j")) < 1e-12)
        }
    }

    @Test(arguments: ["binary", "binary_ties"])
    func rocCurveMatchesScikitLearnPointForPoint(_ name: String) {
        let c = Self.cases.first { $0.name == name }!
        let arrays = result(AUROC(curvePoints: 100_000), c).arrays
        let fpr = arrays.first { $0.name == "fpr" }!.values, tpr = arrays.first { $0.name == "tpr" }!.values
        let expectedFPR = c.numbers("roc_fpr"), expectedTPR = c.numbers("roc_tpr")
        #expect(fpr.count == expectedFPR.count)
        #expect(zip(fpr, expectedFPR).allSatisfy { abs($0 - $1) < 1e-12 } && zip(tpr, expectedTPR).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test(arguments: ["multiclass", "binary", "binary_ties", "multiclass_ties"])
    func temperatureMatchesSciPyMinimiser(_ name: String) {
        let c = Self.cases.first { $0.name == name }!
        let fitted = TemperatureScaling().fit(logits: c.logits, labels: c.labels)
        let temperature = fitted.parameters[0].values[0]
        #expect(abs(temperature - c.number("temperature")) / c.number("temperature") < 1e-5, "\(name): \(temperature)")
    }

    @Test(arguments: ["multiclass", "binary", "binary_ties"])
    func isotonicRegressionMatchesScikitLearn(_ name: String) {
        let c = Self.cases.first { $0.name == name }!
        let probabilities = Kernels.softmax(c.logits).scalars.map(Double.init)
        let half = c.labels.count / 2
        let p0 = (0..<c.labels.count).map { probabilities[$0 * c.classes] }
        let knots = IsotonicCalibration.isotonicFit(x: Array(p0[..<half]), y: c.labels[..<half].map { $0 == 0 ? 1 : 0 })
        let predicted = p0[half...].map { IsotonicCalibration.interpolate($0, knots: knots) }
        let expected = c.numbers("isotonic_class0_predictions")
        #expect(predicted.count == expected.count)
        // scikit-learn fits on Float64 softmax, these on Float32: knots may differ in the 7th digit.
        #expect(zip(predicted, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(name)")
    }
}
