import Foundation
import Layers
import Tensors

/// A trained model's evaluation: every evaluation case (clean, corrupted, attacked) with every
/// predictor (the model, each uncertainty method) and, for classification, every calibration
/// method, scored with the experiment's metrics; classification and regression share it.
///
/// Steps that kinds declare by capability, never by name: calibrators (`Calibrator`) are fitted
/// on the validation split, as are metrics that are `TunedOnValidation` (after each
/// calibration); `intervals` adds confidence intervals to every metric column; the uncertainty
/// scores of every predictor detect out-of-distribution sets (`detectOutOfDistribution`).
///
/// Random streams derive from `root` by purpose (`calibration`, `predictors/<case name>`,
/// `bootstrap/<case>/<predictor>/<calibration>`, `predictors/ood-<i>`), so adding an
/// evaluation never changes another's numbers.
public struct EvaluationPipeline {
    /// What the model predicts, with the data it is scored against.
    public enum Task {
        /// The test split's images and class labels, and the validation split that calibrators
        /// and tuned metrics are fitted on.
        case classification(images: Tensor, labels: [Int], validation: (images: Tensor, labels: [Int]))
        /// The test split's inputs and regression targets `[N, T]`, and the model's training loss
        /// (whether its outputs carry a log-variance half).
        case regression(inputs: Tensor, targets: Tensor, loss: Loss)
    }

    public var task: Task
    /// The model first, then each uncertainty method's predictor.
    public var predictors: [Predictor]
    /// The model's layer names, recorded per evaluation where a predictor measures their
    /// activation variance.
    public var layerNames: [String]
    public var metrics: [any Metric]
    public var calibrators: [any Calibrator] = []
    /// Confidence intervals of every metric column: the level, and bootstrap resamples (0: the
    /// exact interval of accuracy only). Classification only.
    public var intervals: (level: Double, bootstrap: Int)?
    /// Whether every evaluation runs every predictor (else the uncertainty methods predict the
    /// clean split only).
    public var uncertaintyOnEveryEvaluation = true
    /// Whether the per-sample uncertainty scores are kept (uncertainty methods or
    /// out-of-distribution sets present).
    public var keepsUncertainty = false
    public var batchSize: Int
    /// Whether records keep the logits, and how many first inputs as the model saw them.
    public var storesLogits = false
    public var storedExamples = 0
    /// How many first inputs of every evaluation to hand back for explanations (nil: none).
    public var explainedInputs: Int?
    public var root: RandomSource
    /// The trial's label, which starts every log line.
    public var label: String
    public var log: (String) -> Void

    public init(
        task: Task, predictors: [Predictor], layerNames: [String], metrics: [any Metric], batchSize: Int, root: RandomSource,
        label: String, log: @escaping (String) -> Void
    ) {
        self.task = task
        self.predictors = predictors
        self.layerNames = layerNames
        self.metrics = metrics
        self.batchSize = batchSize
        self.root = root
        self.label = label
        self.log = log
    }

    /// What the evaluation produced.
    public struct Results {
        public var evaluations: [EvaluationRecord] = []
        public var calibrationFits: [CalibrationFit] = []
        public var detections: [DetectionRecord] = []
        /// Per out-of-distribution set: its label, and per predictor every score of every sample.
        public var outOfDistributionScores: [(source: String, scores: [[[Double]]])] = []
        /// The layers of `EvaluationRecord.layerVariance` (none when no predictor records any).
        public var recordedLayers: [String] = []
        /// The first inputs of the test split's own evaluations, as the model saw them.
        public var explainedInputs: [(name: String, images: Tensor)] = []
        /// Why the evaluation failed (an evaluation's outputs were not finite), or nil.
        public var failure: String?
        /// The clean evaluation's uncertainty scores, per predictor (out-of-distribution detection
        /// compares with them).
        var cleanScores: [[[Double]]] = []

        public init() {}
    }

    /// Fitted on the validation split: each predictor's calibrations, and the metrics per
    /// predictor and calibration with every `TunedOnValidation` metric tuned.
    public struct Fitted {
        var calibrations: [String: [(label: String, fitted: any FittedCalibrator)]] = [:]
        var metrics: [String: [String: [any Metric]]] = [:]
        /// Whether anything was fitted (the validation split was predicted).
        public var ran = false

        /// Nothing fitted: every predictor uncalibrated, every metric as given.
        public init() {}

        init(ran: Bool) { self.ran = ran }
    }

    /// Fits the calibrators and the `TunedOnValidation` metrics on the validation split, recording
    /// each calibration's parameters and its validation NLL and ECE before and after.
    public func fit(into results: inout Results) -> Fitted {
        guard case .classification(_, _, let validation) = task,
            !calibrators.isEmpty || metrics.contains(where: { $0 is any TunedOnValidation })
        else { return Fitted() }
        let outputs = ClassificationEvaluation.predict(
            predictors, images: validation.images, count: validation.labels.count,
            batchSize: batchSize, rng: root.derived("calibration")
        ).outputs
        var fitted = Fitted(ran: true)
        let measures: [any Metric] = [CrossEntropy(), ExpectedCalibrationError()]
        for (predictor, output) in zip(predictors, outputs) where !calibrators.isEmpty {
            let before = ClassificationEvaluation.score(logits: output.logits, labels: validation.labels, metrics: measures).metrics
            for calibrator in calibrators {
                let fit = calibrator.fit(logits: output.logits, labels: validation.labels)
                let after = ClassificationEvaluation.score(logits: fit.apply(output.logits), labels: validation.labels, metrics: measures).metrics
                fitted.calibrations[predictor.label, default: []].append((calibrator.label, fit))
                results.calibrationFits.append(
                    CalibrationFit(
                        predictor: predictor.label, method: calibrator.label, parameters: fit.parameters,
                        validationLossBefore: before[0].scalars[0], validationLossAfter: after[0].scalars[0],
                        validationECEBefore: before[1].scalars[0], validationECEAfter: after[1].scalars[0]))
                let shown =
                    fit.parameters.count == 1 && fit.parameters[0].values.count == 1
                    ? ", \(fit.parameters[0].name) \(Self.format(fit.parameters[0].values[0]))" : ""
                log(
                    "[\(label)] \(calibrator.label) on \(predictor.label)\(shown): validation NLL \(Self.format(before[0].scalars[0])) → "
                        + "\(Self.format(after[0].scalars[0])), ECE \(Self.format(before[1].scalars[0])) → \(Self.format(after[1].scalars[0]))")
            }
        }
        guard metrics.contains(where: { $0 is any TunedOnValidation }) else { return fitted }
        for (predictor, output) in zip(predictors, outputs) {
            for (calibration, logits) in calibrated(output.logits, predictor: predictor, fitted: fitted) {
                var samples = ProbabilityTable()
                samples.append(logits: logits, labels: validation.labels)
                fitted.metrics[predictor.label, default: [:]][calibration] = metrics.map { metric in
                    (metric as? any TunedOnValidation)?.tuned(on: samples) ?? metric
                }
            }
        }
        return fitted
    }

    /// Every case in order, each with every predictor (and calibration), appended to `results`.
    public func evaluate(_ cases: [EvaluationCase], fitted: Fitted, into results: inout Results) {
        if results.recordedLayers.isEmpty, !predictors.flatMap(\.recordedLayers).isEmpty { results.recordedLayers = layerNames }
        for evaluationCase in cases {
            switch task {
            case .classification(let images, let labels, _):
                classify(evaluationCase, images: images, labels: labels, fitted: fitted, into: &results)
            case .regression(let inputs, let targets, let loss):
                regress(evaluationCase, inputs: inputs, targets: targets, loss: loss, into: &results)
            }
        }
    }

    /// The record of one predictor's outputs on one case, with what the case says of itself.
    private func record(
        _ evaluationCase: EvaluationCase, metrics: [(String, Double)], arrays: [(String, MetricArray)], predictions: [Int],
        examples: Tensor?, seconds: Double
    ) -> EvaluationRecord {
        var record = EvaluationRecord(
            name: evaluationCase.name, kind: evaluationCase.kind, metrics: metrics, predictions: predictions,
            examples: examples, seconds: seconds)
        record.arrays = arrays
        record.type = evaluationCase.type
        record.severity = evaluationCase.severity
        record.budget = evaluationCase.budget
        record.family = evaluationCase.family
        return record
    }

    /// The logits uncalibrated (`none`), then after each of the predictor's fitted calibrations.
    private func calibrated(_ logits: Tensor, predictor: Predictor, fitted: Fitted) -> [(String, Tensor)] {
        [("none", logits)] + fitted.calibrations[predictor.label, default: []].map { ($0.label, $0.fitted.apply(logits)) }
    }

    private func classify(
        _ evaluationCase: EvaluationCase, images testImages: Tensor, labels testLabels: [Int], fitted: Fitted,
        into results: inout Results
    ) {
        let name = evaluationCase.name, start = Date()
        let images = evaluationCase.resampled.map { testImages.gathering(rows: $0) } ?? testImages
        let labels = evaluationCase.resampled.map { $0.map { testLabels[$0] } } ?? testLabels
        let predictors = evaluationCase.kind == .clean || uncertaintyOnEveryEvaluation ? self.predictors : [self.predictors[0]]
        let kept = max(storedExamples, explainedInputs ?? 0)
        let (outputs, firstInputs) = ClassificationEvaluation.predict(
            predictors, images: images, count: labels.count, batchSize: batchSize, keepExamples: kept,
            rng: root.derived("predictors/\(name)"), withScores: keepsUncertainty, transform: evaluationCase.transform)
        // Explanations target the test split's own first samples (their labels), so a resampled evaluation is not explained.
        if explainedInputs != nil, evaluationCase.resampled == nil, let firstInputs { results.explainedInputs.append((name, firstInputs)) }
        let examples = storedExamples == 0 ? nil : firstInputs.map { $0.slice(0..<min(storedExamples, $0.shape[0])) }
        if evaluationCase.kind == .clean { results.cleanScores = outputs.map(\.scores) }
        let seconds = Date().timeIntervalSince(start)
        for (predictor, output) in zip(predictors, outputs) {
            for (calibration, logits) in calibrated(output.logits, predictor: predictor, fitted: fitted) {
                let metrics = fitted.metrics[predictor.label]?[calibration] ?? self.metrics
                let (summary, scored) = ClassificationEvaluation.score(logits: logits, labels: labels, metrics: metrics, batchSize: batchSize)
                if !summary.meanLoss.isFinite, results.failure == nil {
                    results.failure = "evaluation '\(name)' produced a non-finite loss (the model outputs NaN or Inf)"
                }
                var (columns, arrays) = Self.columns(metrics, scored)
                if let intervals {
                    columns += confidenceIntervals(
                        intervals, summary: summary, logits: logits, labels: labels, metrics: metrics,
                        rng: root.derived("bootstrap/\(name)/\(predictor.label)/\(calibration)"))
                }
                let uncalibrated = calibration == "none"
                if keepsUncertainty {
                    columns += zip(UncertaintyScore.allCases, output.scores).map { score, values in
                        ("mean_\(score.rawValue)", uncalibrated ? values.reduce(0, +) / Double(max(1, values.count)) : .nan)
                    }
                }
                var record = record(
                    evaluationCase, metrics: columns, arrays: arrays, predictions: summary.predictions, examples: examples,
                    seconds: seconds)
                record.logits = storesLogits ? logits : nil
                record.sampleIndices = evaluationCase.resampled
                record.predictor = predictor.label
                record.calibration = calibration
                if predictor.label == predictors[0].label, uncalibrated { record.attackReport = evaluationCase.reports?.report }
                if keepsUncertainty && uncalibrated { record.uncertainty = output.scores }
                if !results.recordedLayers.isEmpty {
                    record.layerVariance = output.layerVariance.isEmpty || !uncalibrated ? results.recordedLayers.map { _ in .nan } : output.layerVariance
                }
                results.evaluations.append(record)
                let suffix =
                    predictors.count > 1 || calibration != "none"
                    ? " [\([predictor.label, calibration].filter { $0 != "none" }.joined(separator: ", "))]" : ""
                log("[\(label)] \(name)\(suffix): accuracy \(Self.format(summary.accuracy)) (\(Self.format(seconds, 1)) s)")
            }
        }
    }

    private func regress(_ evaluationCase: EvaluationCase, inputs: Tensor, targets: Tensor, loss: Loss, into results: inout Results) {
        let name = evaluationCase.name, start = Date()
        let (outputs, examples) = RegressionEvaluation.predict(
            predictors, inputs: inputs, targets: targets, loss: loss, batchSize: batchSize,
            keepExamples: storedExamples, rng: root.derived("predictors/\(name)"), transform: evaluationCase.transform)
        let seconds = Date().timeIntervalSince(start)
        for (predictor, output) in zip(predictors, outputs) {
            let scored = RegressionEvaluation.score(output.batch, metrics: metrics, batchSize: batchSize)
            if output.batch.mean.contains(where: { !$0.isFinite }), results.failure == nil {
                results.failure = "evaluation '\(name)' produced a non-finite prediction (the model outputs NaN or Inf)"
            }
            var (columns, arrays) = Self.columns(metrics, scored)
            let scores = output.scores
            columns += zip(RegressionEvaluation.Score.allCases, scores).map { score, values in
                ("mean_\(score.rawValue)", values.reduce(0, +) / Double(max(1, values.count)))
            }
            var record = record(evaluationCase, metrics: columns, arrays: arrays, predictions: [], examples: examples, seconds: seconds)
            record.predictor = predictor.label
            record.regression = output.batch
            record.uncertainty = scores
            if !results.recordedLayers.isEmpty {
                record.layerVariance = output.layerVariance.isEmpty ? results.recordedLayers.map { _ in .nan } : output.layerVariance
            }
            results.evaluations.append(record)
            let suffix = predictors.count > 1 ? " [\(predictor.label)]" : ""
            let shown = zip(metrics.flatMap(\.columns), scored.flatMap(\.scalars)).prefix(3)
                .map { "\($0.name) \(Self.format($1))" }.joined(separator: ", ")
            log("[\(label)] \(name)\(suffix): \(shown) (\(Self.format(seconds, 1)) s)")
        }
    }

    /// Every metric's columns with their values, and its arrays, in the metrics' order.
    private static func columns(_ metrics: [any Metric], _ scored: [MetricResult]) -> (columns: [(String, Double)], arrays: [(String, MetricArray)]) {
        var columns: [(String, Double)] = []
        var arrays: [(String, MetricArray)] = []
        for (metric, result) in zip(metrics, scored) {
            columns += zip(metric.columns.map(\.name), result.scalars).map { ($0, $1) }
            arrays += result.arrays.map { (metric.name, $0) }
        }
        return (columns, arrays)
    }

    /// `<column>_low` and `<column>_high` of every metric column: exact binomial for accuracy,
    /// the percentile bootstrap for the others (NaN when `bootstrap` is 0).
    private func confidenceIntervals(
        _ intervals: (level: Double, bootstrap: Int), summary: ClassificationAccumulator, logits: Tensor,
        labels: [Int], metrics: [any Metric], rng: RandomSource
    ) -> [(String, Double)] {
        var rng = rng
        let columns = metrics.flatMap(\.columns).map(\.name)
        let bootstrapped =
            intervals.bootstrap > 0
            ? ConfidenceInterval.bootstrap(
                logits: logits, labels: labels, metrics: metrics, resamples: intervals.bootstrap,
                level: intervals.level, rng: &rng)
            : columns.map { _ in (low: Double.nan, high: Double.nan) }
        return zip(columns, bootstrapped).flatMap { column, interval -> [(String, Double)] in
            let (low, high) =
                column == "accuracy"
                ? ConfidenceInterval.clopperPearson(successes: summary.correct, trials: summary.count, level: intervals.level) : interval
            return [("\(column)_low", low), ("\(column)_high", high)]
        }
    }

    /// Scores every out-of-distribution set (its images made when its turn comes) with every
    /// predictor, and compares each uncertainty score with its values on the clean test split
    /// (out-of-distribution is the positive class). Classification only, after the clean case.
    public func detectOutOfDistribution(_ sets: [(label: String, images: () -> Tensor)], into results: inout Results) {
        for (index, set) in sets.enumerated() {
            let images = set.images()
            let (outputs, _) = ClassificationEvaluation.predict(
                predictors, images: images, count: images.shape[0], batchSize: batchSize,
                rng: root.derived("predictors/ood-\(index)"), withScores: true)
            results.outOfDistributionScores.append((set.label, outputs.map(\.scores)))
            for (p, predictor) in predictors.enumerated() {
                for (k, score) in UncertaintyScore.allCases.enumerated() {
                    let detection = OutOfDistributionDetection(
                        inDistribution: results.cleanScores[p][k].map(score.detectionScore),
                        outOfDistribution: outputs[p].scores[k].map(score.detectionScore))
                    results.detections.append(
                        DetectionRecord(
                            source: set.label, predictor: predictor.label, score: score.rawValue,
                            detection: detection))
                }
                let best = results.detections.suffix(UncertaintyScore.allCases.count).max { $0.detection.auroc < $1.detection.auroc }!
                log(
                    "[\(label)] OOD \(set.label) [\(predictor.label)]: best AUROC \(Self.format(best.detection.auroc)) by \(best.score), "
                        + "FPR at 95% TPR \(Self.format(best.detection.falsePositiveRateAt95))")
            }
        }
    }

    /// A number for log lines, with `decimals` digits after the point.
    static func format(_ value: Double, _ decimals: Int = 4) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
