import Catalog
import Datasets
import Evaluation
import Foundation
import Grid
import Layers
import Perturbations
import Results
import Spec
import Tensors

extension TrialRunner {
    /// Evaluates a trained regression model clean and under every corruption, with every
    /// predictor (the model, each uncertainty method): the experiment's regression metrics,
    /// the mean of every per-sample variance score, and the predictions themselves.
    func evaluateRegression(_ resolvedTrial: ResolvedTrial, model: Sequential, members: [Sequential], data: DatasetSplits,
                            into outcome: inout TrialOutcome) {
        let trial = resolvedTrial.trial, experiment = resolvedTrial.experiment
        let root = RandomSource(seed: trial.seed)
        let evaluationStart = Date()
        let test = data.test, targets = test.targets!
        let store = trial.spec.store
        let batchSize = experiment.spec.evaluation.batchSize
        let predictors = [Predictor.model(model)] + experiment.uncertaintyMethods.map { $0.predictor(model: model, members: members) }
        outcome.uncertaintyScores = RegressionEvaluation.Score.allCases.map(\.rawValue)
        outcome.recordedLayers = predictors.flatMap(\.recordedLayers).isEmpty ? [] : model.layers.map(\.name)
        var nonFinite: String?
        func evaluate(_ name: String, _ kind: EvaluationRecord.Kind, describe: (inout EvaluationRecord) -> Void = { _ in },
                      transform: ((Tensor, Range<Int>) -> Tensor)?) {
            let start = Date()
            let (outputs, examples) = RegressionEvaluation.predict(
                predictors, inputs: test.images, targets: targets, loss: resolvedTrial.model.loss, batchSize: batchSize,
                keepExamples: store.examples, rng: root.derived("predictors/\(name)"), transform: transform)
            let seconds = Date().timeIntervalSince(start)
            for (predictor, output) in zip(predictors, outputs) {
                let results = RegressionEvaluation.score(output.batch, metrics: experiment.metrics, batchSize: batchSize)
                if output.batch.mean.contains(where: { !$0.isFinite }) { nonFinite = nonFinite ?? name }
                var metrics: [(String, Double)] = []
                var arrays: [(String, MetricArray)] = []
                for (metric, result) in zip(experiment.metrics, results) {
                    metrics += zip(metric.columns.map(\.name), result.scalars).map { ($0, $1) }
                    arrays += result.arrays.map { (metric.name, $0) }
                }
                let scores = output.scores
                metrics += zip(RegressionEvaluation.Score.allCases, scores).map { score, values in
                    ("mean_\(score.rawValue)", values.reduce(0, +) / Double(max(1, values.count)))
                }
                var record = EvaluationRecord(name: name, kind: kind, metrics: metrics, predictions: [],
                                              logits: nil, examples: examples, seconds: seconds)
                record.arrays = arrays
                record.predictor = predictor.label
                record.regression = output.batch
                record.uncertainty = scores
                if !outcome.recordedLayers.isEmpty {
                    record.layerVariance = output.layerVariance.isEmpty ? outcome.recordedLayers.map { _ in .nan } : output.layerVariance
                }
                describe(&record)
                outcome.evaluations.append(record)
                let suffix = predictors.count > 1 ? " [\(predictor.label)]" : ""
                let shown = zip(experiment.metrics.flatMap(\.columns), results.flatMap(\.scalars)).prefix(3)
                    .map { "\($0.name) \(fmt($1))" }.joined(separator: ", ")
                log("[\(trial.label)] \(name)\(suffix): \(shown) (\(fmt(seconds, 1)) s)")
            }
        }
        // Label shifts are rejected for regression when the experiment is resolved.
        Self.cleanAndCorrupted(experiment.corruptions, root: root, labels: []) { name, kind, describe, transform, _ in
            evaluate(name, kind, describe: describe, transform: transform)
        }
        outcome.evaluationSeconds = Date().timeIntervalSince(evaluationStart)
        outcome.stageSeconds.append(("evaluations", outcome.evaluationSeconds))
        if let broken = nonFinite {
            outcome.status = .failed("evaluation '\(broken)' produced a non-finite prediction (the model outputs NaN or Inf)")
        }
    }
}
