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

/// Why a trial stopped early.
public struct TrialFailure: Error, CustomStringConvertible {
    public var description: String
}

/// Trains one model and evaluates it clean, under every corruption and under every attack.
///
/// Random streams derive from the trial seed by purpose (`init`, `shuffle`, `dropout`,
/// `noise-<i>`, `attack-<i>`), so adding an evaluation never changes another's numbers.
public struct TrialRunner {
    /// Receives one human-readable line per step worth reporting.
    public var log: (String) -> Void

    public init(log: @escaping (String) -> Void) {
        self.log = log
    }

    /// A trained model, or why training failed, with what training produced either way.
    public struct Training {
        public var model: Sequential?
        /// Models trained besides the trial's own, with their own seeds (ensemble members 1, 2, …).
        public var members: [Sequential] = []
        public var failure: String?
        public var learningCurve: [EpochRecord] = []
        public var summary: [LayerSummary] = []
        /// The model graph in Graphviz DOT.
        public var graph = ""
        public var stateDict: [(key: String, value: Tensor)] = []
        public var seconds = 0.0
    }

    /// Runs one trial on its cell's data; failures are recorded in the outcome, never thrown.
    public func run(_ resolved: ResolvedTrial, data: DatasetSplits) -> TrialOutcome {
        evaluate(resolved, after: train(resolved, data: data, extraModels: resolved.experiment.extraModels), data: data)
    }

    /// Trains the trial's model, and `extraModels` more of the same architecture whose random
    /// streams derive from the trial seed and `ensemble-member-<m>` (m = 1, 2, …). Trials with
    /// equal `ResolvedTrial.trainingKey`s get identical results, so the runner trains once for all of them.
    public func train(_ resolvedTrial: ResolvedTrial, data: DatasetSplits, extraModels: Int = 0) -> Training {
        let data = data.holdingOut(resolvedTrial.experiment.heldOutClasses).splits
        var training = Training()
        let started = Date()
        do {
            let root = RandomSource(seed: resolvedTrial.trial.seed)
            // Into `training` itself, so that a failure keeps the learning curve so far.
            try train(resolvedTrial, data: data, root: root, label: resolvedTrial.trial.label, into: &training)
            training.stateDict = training.model!.stateDict()
            for member in stride(from: 1, through: extraModels, by: 1) {
                var memberTraining = Training()
                try train(resolvedTrial, data: data, root: root.derived("ensemble-member-\(member)"),
                          label: "\(resolvedTrial.trial.label) member \(member + 1)", into: &memberTraining)
                training.members.append(memberTraining.model!)
            }
        } catch let failure as TrialFailure {
            training.failure = failure.description
        } catch {
            training.failure = "\(error)"
        }
        training.seconds = Date().timeIntervalSince(started)
        if training.failure != nil { training.model = nil }
        return training
    }

    /// Evaluates a trained model clean, under every corruption and every attack of the trial,
    /// with every predictor (the model, each uncertainty method) and every calibration method;
    /// then tests the uncertainty scores on the out-of-distribution sets.
    public func evaluate(_ resolvedTrial: ResolvedTrial, after training: Training, data: DatasetSplits) -> TrialOutcome {
        var outcome = TrialOutcome(trial: resolvedTrial.trial, status: .completed)
        outcome.learningCurve = training.learningCurve
        outcome.summary = training.summary
        outcome.stateDict = training.stateDict
        outcome.modelGraph = training.graph
        outcome.trainingSeconds = training.seconds
        outcome.stageSeconds.append(("training", training.seconds))
        guard let model = training.model else {
            outcome.status = .failed(training.failure ?? "training failed")
            return outcome
        }
        if resolvedTrial.experiment.task == .regression {
            evaluateRegression(resolvedTrial, model: model, members: training.members, data: data, into: &outcome)
            return outcome
        }
        let trial = resolvedTrial.trial, experiment = resolvedTrial.experiment
        let fullTest = data.test
        let data = data.holdingOut(experiment.heldOutClasses).splits
        let root = RandomSource(seed: trial.seed)
        let evaluationStart = Date()
        let test = data.test
        let store = trial.spec.store
        let evaluationBatch = experiment.spec.evaluation.batchSize
        let predictors = [Predictor.model(model)]
            + experiment.uncertaintyMethods.map { $0.predictor(model: model, members: training.members) }
        let keepsUncertainty = !experiment.uncertaintyMethods.isEmpty || !experiment.outOfDistributionSources.isEmpty
        outcome.recordedLayers = predictors.flatMap(\.recordedLayers).isEmpty ? [] : model.layers.map(\.name)
        // Validation outputs of every predictor, when calibrators or thresholds are fitted on them.
        let validation = data.validation
        let validationOutputs = experiment.calibrators.isEmpty && !experiment.metrics.contains(where: { $0 is BestThreshold }) ? []
            : ClassificationEvaluation.predict(predictors, images: validation.images, count: validation.count, batchSize: evaluationBatch,
                                               rng: root.derived("calibration")).outputs
        let fits = fitCalibrators(experiment.calibrators, predictors: predictors, validation: validationOutputs, labels: validation.labels,
                                  label: trial.label, into: &outcome)
        let metricsFor = tunedMetrics(experiment.metrics, predictors: predictors, validation: validationOutputs, labels: validation.labels, fits: fits)
        var stageStart = Date()
        func endStage(_ name: String) {
            outcome.stageSeconds.append((name, Date().timeIntervalSince(stageStart)))
            stageStart = Date()
        }
        if !validationOutputs.isEmpty { outcome.stageSeconds.append(("calibration", Date().timeIntervalSince(evaluationStart))) }
        var cleanScores: [[[Double]]] = []
        var nonFinite: String?
        // The first inputs of every evaluation as the model saw them, for the `interpret` section.
        let interpretation = trial.spec.interpret
        let kept = interpretation.isPresent ? max(store.examples, interpretation.samples, interpretation.statisticsSamples) : store.examples
        var explainedInputs: [(name: String, images: Tensor)] = []
        func evaluate(_ name: String, _ kind: EvaluationRecord.Kind, describe: (inout EvaluationRecord) -> Void = { _ in },
                      transform: ((Tensor, Range<Int>) -> Tensor)?, resampled: [Int]? = nil) {
            let start = Date()
            // A label shift evaluates the test split resampled: its images and labels, in that order.
            let images = resampled.map { test.images.gathering(rows: $0) } ?? test.images
            let labels = resampled.map { $0.map { test.labels[$0] } } ?? test.labels
            // With `uncertainty.evaluations: clean`, the uncertainty methods predict the clean split only.
            let predictors = kind == .clean || experiment.spec.uncertainty.evaluations == .all ? predictors : [predictors[0]]
            let (outputs, firstInputs) = ClassificationEvaluation.predict(
                predictors, images: images, count: labels.count, batchSize: evaluationBatch, keepExamples: kept,
                rng: root.derived("predictors/\(name)"), withScores: keepsUncertainty, transform: transform)
            // Explanations target the test split's own first samples (their labels), so a resampled evaluation is not explained.
            if interpretation.isPresent, resampled == nil, let firstInputs { explainedInputs.append((name, firstInputs)) }
            let examples = store.examples == 0 ? nil : firstInputs.map { $0.slice(0..<min(store.examples, $0.shape[0])) }
            if kind == .clean { cleanScores = outputs.map(\.scores) }
            let seconds = Date().timeIntervalSince(start)
            for (predictor, output) in zip(predictors, outputs) {
                let calibrated = [("none", output.logits)] + fits[predictor.label, default: []].map { ($0.label, $0.fitted.apply(output.logits)) }
                for (calibration, logits) in calibrated {
                    let metrics = metricsFor[predictor.label]?[calibration] ?? experiment.metrics
                    let (summary, results) = ClassificationEvaluation.score(logits: logits, labels: labels,
                                                                            metrics: metrics, batchSize: evaluationBatch)
                    if !summary.meanLoss.isFinite { nonFinite = nonFinite ?? name }
                    var columns: [(String, Double)] = []
                    var arrays: [(String, MetricArray)] = []
                    for (metric, result) in zip(metrics, results) {
                        columns += zip(metric.columns.map(\.name), result.scalars).map { ($0, $1) }
                        arrays += result.arrays.map { (metric.name, $0) }
                    }
                    if let intervals = experiment.spec.evaluation.intervals {
                        columns += confidenceIntervals(intervals, summary: summary, logits: logits, labels: labels, metrics: metrics,
                                                       rng: root.derived("bootstrap/\(name)/\(predictor.label)/\(calibration)"))
                    }
                    let uncalibrated = calibration == "none"
                    if keepsUncertainty {
                        columns += zip(UncertaintyScore.allCases, output.scores).map { score, values in
                            ("mean_\(score.rawValue)", uncalibrated ? values.reduce(0, +) / Double(max(1, values.count)) : .nan)
                        }
                    }
                    var record = EvaluationRecord(name: name, kind: kind, metrics: columns, predictions: summary.predictions,
                                                  logits: store.logits ? logits : nil, examples: examples, seconds: seconds)
                    record.arrays = arrays
                    record.sampleIndices = resampled
                    record.predictor = predictor.label
                    record.calibration = calibration
                    if keepsUncertainty && uncalibrated { record.uncertainty = output.scores }
                    if !outcome.recordedLayers.isEmpty {
                        record.layerVariance = output.layerVariance.isEmpty || !uncalibrated ? outcome.recordedLayers.map { _ in .nan } : output.layerVariance
                    }
                    describe(&record)
                    outcome.evaluations.append(record)
                    let suffix = predictors.count > 1 || calibration != "none" ? " [\([predictor.label, calibration].filter { $0 != "none" }.joined(separator: ", "))]" : ""
                    log("[\(trial.label)] \(name)\(suffix): accuracy \(fmt(summary.accuracy)) (\(fmt(seconds, 1)) s)")
                }
            }
        }
        Self.cleanAndCorrupted(experiment.corruptions, root: root, labels: test.labels) { evaluate($0, $1, describe: $2, transform: $3, resampled: $4) }
        endStage("evaluations")
        for (index, attack) in experiment.attacks.enumerated() {
            var rng = root.derived("attack-\(index)")
            evaluate(attack.label, .attack, describe: { record in
                record.type = type(of: attack).kind
                record.budget = attack.budget
                record.family = attack.family
            }) { images, range in attack.perturb(images: images, labels: Array(test.labels[range]), model: model, rng: &rng) }
        }
        if !experiment.attacks.isEmpty { endStage("attacks") }
        if interpretation.isPresent {
            outcome.interpretation = interpret(resolvedTrial, model: model, inputs: explainedInputs, labels: test.labels)
            endStage("interpretation")
        }
        if !experiment.outOfDistributionSources.isEmpty {
            detectOutOfDistribution(experiment.outOfDistributionSources, predictors: predictors, clean: cleanScores, test: test, fullTest: fullTest,
                                    batchSize: evaluationBatch, root: root, label: trial.label, into: &outcome)
            endStage("out_of_distribution")
        }
        outcome.evaluationSeconds = Date().timeIntervalSince(evaluationStart)
        if let broken = nonFinite {
            outcome.status = .failed("evaluation '\(broken)' produced a non-finite loss (the model outputs NaN or Inf)")
        }
        return outcome
    }

    /// Runs `evaluate` clean, then under every corruption with its own random stream
    /// (`noise-<i>`), describing each corrupted evaluation's kind and severity. A label shift
    /// passes the resampled test-sample indices (drawn from `labels` with stream `noise-<i>/labels`)
    /// instead of a transform.
    static func cleanAndCorrupted(
        _ corruptions: [any Corruption], root: RandomSource, labels: [Int],
        _ evaluate: (String, EvaluationRecord.Kind, (inout EvaluationRecord) -> Void, ((Tensor, Range<Int>) -> Tensor)?, [Int]?) -> Void
    ) {
        evaluate("clean", .clean, { _ in }, nil, nil)
        for (index, corruption) in corruptions.enumerated() {
            var rng = root.derived("noise-\(index)")
            let describe: (inout EvaluationRecord) -> Void = { record in
                record.type = type(of: corruption).kind
                record.severity = corruption.severity
            }
            if let shift = corruption as? any LabelShift {
                var labelRNG = root.derived("noise-\(index)/labels")
                evaluate(corruption.label, .corruption, describe, nil, shift.resample(labels: labels, rng: &labelRNG))
            } else {
                evaluate(corruption.label, .corruption, describe, { images, _ in corruption.apply(to: images, rng: &rng) }, nil)
            }
        }
    }

    /// `<column>_low` and `<column>_high` of every metric column: exact binomial for accuracy,
    /// the percentile bootstrap for the others (NaN when `bootstrap` is 0).
    private func confidenceIntervals(_ intervals: IntervalSpec, summary: ClassificationAccumulator, logits: Tensor, labels: [Int], metrics: [any Metric],
                                     rng: RandomSource) -> [(String, Double)] {
        var rng = rng
        let columns = metrics.flatMap(\.columns).map(\.name)
        let bootstrapped = intervals.bootstrap > 0
            ? ConfidenceInterval.bootstrap(logits: logits, labels: labels, metrics: metrics, resamples: intervals.bootstrap,
                                           level: intervals.level, rng: &rng)
            : columns.map { _ in (low: Double.nan, high: Double.nan) }
        return zip(columns, bootstrapped).flatMap { column, interval -> [(String, Double)] in
            let (low, high) = column == "accuracy"
                ? ConfidenceInterval.clopperPearson(successes: summary.correct, trials: summary.count, level: intervals.level) : interval
            return [("\(column)_low", low), ("\(column)_high", high)]
        }
    }

    /// Fits every calibration method on every predictor's validation outputs, recording the
    /// fitted parameters and the validation NLL and ECE before and after.
    private func fitCalibrators(_ calibrators: [any Calibrator], predictors: [Predictor], validation outputs: [ClassificationEvaluation.Output],
                                labels: [Int], label: String, into outcome: inout TrialOutcome) -> [String: [(label: String, fitted: any FittedCalibrator)]] {
        guard !calibrators.isEmpty else { return [:] }
        let measures: [any Metric] = [CrossEntropy(), ExpectedCalibrationError()]
        var fits: [String: [(label: String, fitted: any FittedCalibrator)]] = [:]
        for (predictor, output) in zip(predictors, outputs) {
            let before = ClassificationEvaluation.score(logits: output.logits, labels: labels, metrics: measures).metrics
            for calibrator in calibrators {
                let fitted = calibrator.fit(logits: output.logits, labels: labels)
                let after = ClassificationEvaluation.score(logits: fitted.apply(output.logits), labels: labels, metrics: measures).metrics
                fits[predictor.label, default: []].append((calibrator.label, fitted))
                outcome.calibrationFits.append(CalibrationFit(
                    predictor: predictor.label, method: calibrator.label, parameters: fitted.parameters,
                    validationLossBefore: before[0].scalars[0], validationLossAfter: after[0].scalars[0],
                    validationECEBefore: before[1].scalars[0], validationECEAfter: after[1].scalars[0]))
                let shown = fitted.parameters.count == 1 && fitted.parameters[0].values.count == 1
                    ? ", \(fitted.parameters[0].name) \(fmt(fitted.parameters[0].values[0]))" : ""
                log("[\(label)] \(calibrator.label) on \(predictor.label)\(shown): validation NLL \(fmt(before[0].scalars[0])) → \(fmt(after[0].scalars[0])), ECE \(fmt(before[1].scalars[0])) → \(fmt(after[1].scalars[0]))")
            }
        }
        return fits
    }

    /// The experiment's metrics per predictor and calibration method, with every
    /// `best_threshold` tuned on the validation outputs of that predictor after that calibration.
    private func tunedMetrics(_ metrics: [any Metric], predictors: [Predictor], validation outputs: [ClassificationEvaluation.Output],
                              labels: [Int], fits: [String: [(label: String, fitted: any FittedCalibrator)]]) -> [String: [String: [any Metric]]] {
        guard metrics.contains(where: { $0 is BestThreshold }), !outputs.isEmpty else { return [:] }
        var tuned: [String: [String: [any Metric]]] = [:]
        for (predictor, output) in zip(predictors, outputs) {
            let calibrated = [("none", output.logits)] + fits[predictor.label, default: []].map { ($0.label, $0.fitted.apply(output.logits)) }
            for (calibration, logits) in calibrated {
                var samples = ProbabilityTable()
                samples.append(logits: logits, labels: labels)
                tuned[predictor.label, default: [:]][calibration] = metrics.map { metric -> any Metric in
                    guard var threshold = metric as? BestThreshold else { return metric }
                    threshold.tunedThreshold = threshold.tune(on: samples)
                    return threshold
                }
            }
        }
        return tuned
    }

    /// Scores every out-of-distribution set with every predictor and compares each uncertainty
    /// score with its values on the clean test split (OOD is the positive class).
    private func detectOutOfDistribution(_ sources: [any OutOfDistributionSource], predictors: [Predictor], clean: [[[Double]]],
                                         test: ImageDataset, fullTest: ImageDataset, batchSize: Int, root: RandomSource, label: String,
                                         into outcome: inout TrialOutcome) {
        for (index, source) in sources.enumerated() {
            var rng = root.derived("ood-\(index)")
            // A held-out-class source picks its images from the full test split.
            let reference = source.heldOutClasses.isEmpty ? test : fullTest
            let images = source.images(count: source.samples ?? reference.count, like: reference, rng: &rng)
            let (outputs, _) = ClassificationEvaluation.predict(predictors, images: images, count: images.shape[0], batchSize: batchSize,
                                                                rng: root.derived("predictors/ood-\(index)"), withScores: true)
            outcome.outOfDistributionScores.append((source.label, outputs.map(\.scores)))
            for (p, predictor) in predictors.enumerated() {
                for (k, score) in UncertaintyScore.allCases.enumerated() {
                    let detection = OutOfDistributionDetection(inDistribution: clean[p][k].map(score.detectionScore),
                                                               outOfDistribution: outputs[p].scores[k].map(score.detectionScore))
                    outcome.detections.append(DetectionRecord(source: source.label, predictor: predictor.label, score: score.rawValue, detection: detection))
                }
                let best = outcome.detections.suffix(UncertaintyScore.allCases.count).max { $0.detection.auroc < $1.detection.auroc }!
                log("[\(label)] OOD \(source.label) [\(predictor.label)]: best AUROC \(fmt(best.detection.auroc)) by \(best.score), FPR at 95% TPR \(fmt(best.detection.falsePositiveRateAt95))")
            }
        }
    }

    private func train(_ resolvedTrial: ResolvedTrial, data: DatasetSplits, root: RandomSource, label: String,
                       into result: inout Training) throws {
        let trial = resolvedTrial.trial, experiment = resolvedTrial.experiment
        // Fault injection for the isolation tests: crash the process on this trial with a real
        // invalid memory access (a raised signal can be survived; this cannot).
        if ProcessInfo.processInfo.environment["GAUNTLET_CRASH_TRIAL"] == trial.id {
            UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 0
        }
        let resolved = resolvedTrial.model
        var initRNG = root.derived("init/\(resolved.name)")
        let model = try resolved.build(inputShape: data.training.sampleShape, normalization: experiment.normalization, rng: &initRNG)
        do { try StateDictFile.load(resolved, into: model) } catch { throw TrialFailure(description: error.description) }
        result.summary = model.summary()
        result.graph = model.graphDOT(title: resolved.name)
        let training = experiment.spec.training
        let optimizer = experiment.optimizer.makeOptimizer()
        var shuffleRNG = root.derived("shuffle")
        var dropoutRNG = root.derived("dropout")
        var attackRNG = root.derived("adversarial-training")
        let evaluationBatch = experiment.spec.evaluation.batchSize
        let baseRate = optimizer.learningRate
        for epoch in stride(from: 1, through: training.epochs, by: 1) {
            let epochStart = Date()
            optimizer.learningRate = experiment.schedule.rate(base: baseRate, epoch: epoch - 1, epochs: training.epochs)
            var order: RandomSource? = training.shuffle ? shuffleRNG : nil
            let batches = data.training.batches(size: training.batchSize, shuffledWith: &order)
            if let order { shuffleRNG = order }
            var lossSum = 0.0
            for (step, batch) in batches.enumerated() {
                var images = batch.images
                if let attack = experiment.trainingAttack, let adversarial = training.adversarial {
                    let count = min(batch.labels.count, Int((adversarial.ratio * Double(batch.labels.count)).rounded(.up)))
                    let attacked = attack.perturb(images: images.slice(0..<count), labels: Array(batch.labels[0..<count]), model: model, rng: &attackRNG)
                    images.scalars.replaceSubrange(0..<attacked.count, with: attacked.scalars)
                }
                let loss = model.trainStep(inputs: images, supervision: batch.supervision, loss: resolvedTrial.model.loss, optimizer: optimizer, rng: &dropoutRNG)
                guard loss.isFinite else {
                    throw TrialFailure(description: "training diverged: loss is \(loss) at epoch \(epoch), step \(step + 1) of \(batches.count)")
                }
                lossSum += Double(loss)
            }
            let validation = Self.validate(model, on: data.validation, loss: resolvedTrial.model.loss, batchSize: evaluationBatch)
            let record = EpochRecord(epoch: epoch, learningRate: Double(optimizer.learningRate), trainLoss: lossSum / Double(max(1, batches.count)),
                                     validationLoss: validation.loss, validationAccuracy: validation.accuracy,
                                     seconds: Date().timeIntervalSince(epochStart))
            result.learningCurve.append(record)
            let shown = experiment.task == .classification
                ? "validation accuracy \(fmt(record.validationAccuracy))" : "validation \(resolvedTrial.model.loss.rawValue) \(fmt(record.validationLoss))"
            log("[\(label)] epoch \(epoch)/\(training.epochs): train loss \(fmt(record.trainLoss)), \(shown) (\(fmt(record.seconds, 1)) s)")
        }
        result.model = model
    }

    /// The training loss and accuracy (NaN for regression) of the model on a validation split.
    static func validate(_ model: Sequential, on split: ImageDataset, loss: Loss, batchSize: Int) -> (loss: Double, accuracy: Double) {
        guard let targets = split.targets else {
            let summary = ClassificationEvaluation.evaluate(model: model, images: split.images, labels: split.labels, batchSize: batchSize).summary
            return (summary.meanLoss, summary.accuracy)
        }
        let (outputs, _) = RegressionEvaluation.predict([.model(model)], inputs: split.images, targets: targets, loss: loss,
                                                        batchSize: batchSize, rng: RandomSource(seed: 0))
        return (RegressionEvaluation.loss(outputs[0].batch, loss), .nan)
    }
}

func fmt(_ value: Double, _ decimals: Int = 4) -> String {
    String(format: "%.\(decimals)f", value)
}
