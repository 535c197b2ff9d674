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
                try train(
                    resolvedTrial, data: data, root: root.derived("ensemble-member-\(member)"),
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
    /// with every predictor (the model, each uncertainty method) and every calibration method
    /// (`EvaluationPipeline`); explains it (`interpret`); then tests the uncertainty scores on
    /// the out-of-distribution sets. Regression models are evaluated clean and corrupted.
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
        let trial = resolvedTrial.trial, experiment = resolvedTrial.experiment
        let regression = experiment.task == .regression
        let fullTest = data.test
        let data = regression ? data : data.holdingOut(experiment.heldOutClasses).splits
        let root = RandomSource(seed: trial.seed)
        let evaluationStart = Date()
        let test = data.test, store = trial.spec.store, interpretation = trial.spec.interpret
        let predictors = [Predictor.model(model)] + experiment.uncertaintyMethods.map { $0.predictor(model: model, members: training.members) }
        let task: EvaluationPipeline.Task =
            regression
            ? .regression(inputs: test.images, targets: test.targets!, loss: resolvedTrial.model.loss)
            : .classification(images: test.images, labels: test.labels, validation: (data.validation.images, data.validation.labels))
        var pipeline = EvaluationPipeline(
            task: task, predictors: predictors, layerNames: model.perSampleLayerNames, metrics: experiment.metrics,
            batchSize: experiment.spec.evaluation.batchSize, root: root, label: trial.label, log: log)
        pipeline.calibrators = experiment.calibrators
        pipeline.intervals = experiment.spec.evaluation.intervals.map { ($0.level, $0.bootstrap) }
        pipeline.uncertaintyOnEveryEvaluation = experiment.spec.uncertainty.evaluations == .all
        pipeline.keepsUncertainty = !experiment.uncertaintyMethods.isEmpty || !experiment.outOfDistributionSources.isEmpty
        pipeline.storesLogits = store.logits
        pipeline.storedExamples = store.examples
        if interpretation.isPresent { pipeline.explainedInputs = max(interpretation.samples, interpretation.statisticsSamples) }
        var results = EvaluationPipeline.Results()
        /// The outcome with what the pipeline produced.
        func finished() -> TrialOutcome {
            var finished = outcome
            finished.evaluations = results.evaluations
            finished.calibrationFits = results.calibrationFits
            finished.detections = results.detections
            finished.outOfDistributionScores = results.outOfDistributionScores
            finished.recordedLayers = results.recordedLayers
            if let failure = results.failure { finished.status = .failed(failure) }
            return finished
        }
        let cleanAndCorrupted: [EvaluationCase]
        do {
            cleanAndCorrupted = try Self.cleanAndCorrupted(
                experiment.corruptions, root: root, labels: regression ? [] : test.labels, sampleShape: test.sampleShape)
        } catch {
            outcome.status = .failed("\(error)")
            return finished()
        }
        if regression {
            outcome.uncertaintyScores = RegressionEvaluation.Score.allCases.map(\.rawValue)
            pipeline.evaluate(cleanAndCorrupted, fitted: EvaluationPipeline.Fitted(), into: &results)
            outcome.evaluationSeconds = Date().timeIntervalSince(evaluationStart)
            outcome.stageSeconds.append(("evaluations", outcome.evaluationSeconds))
            return finished()
        }
        let fitted = pipeline.fit(into: &results)
        var stageStart = Date()
        func endStage(_ name: String) {
            outcome.stageSeconds.append((name, Date().timeIntervalSince(stageStart)))
            stageStart = Date()
        }
        if fitted.ran { outcome.stageSeconds.append(("calibration", Date().timeIntervalSince(evaluationStart))) }
        pipeline.evaluate(cleanAndCorrupted, fitted: fitted, into: &results)
        endStage("evaluations")
        if !experiment.attacks.isEmpty {
            pipeline.evaluate(Self.attacked(experiment.attacks, model: model, labels: test.labels, root: root), fitted: fitted, into: &results)
            endStage("attacks")
        }
        if interpretation.isPresent {
            outcome.interpretation = interpret(resolvedTrial, model: model, inputs: results.explainedInputs, labels: test.labels)
            endStage("interpretation")
        }
        if !experiment.outOfDistributionSources.isEmpty {
            let sets = experiment.outOfDistributionSources.enumerated().map { index, source in
                (
                    label: source.label,
                    images: { () -> Tensor in
                        var rng = root.derived("ood-\(index)")
                        // A held-out-class source picks its images from the full test split.
                        let reference = source.heldOutClasses.isEmpty ? test : fullTest
                        return source.images(count: source.samples ?? reference.count, like: reference, rng: &rng)
                    }
                )
            }
            pipeline.detectOutOfDistribution(sets, into: &results)
            endStage("out_of_distribution")
        }
        outcome.evaluationSeconds = Date().timeIntervalSince(evaluationStart)
        return finished()
    }

    /// The clean evaluation, then every corruption with its own random stream (`noise-<i>`); a
    /// kind that resamples the test split (a label shift) draws its indices from `labels` with
    /// stream `noise-<i>/labels` instead of changing images.
    static func cleanAndCorrupted(_ corruptions: [any Corruption], root: RandomSource, labels: [Int], sampleShape: [Int]) throws -> [EvaluationCase] {
        try [.clean]
            + corruptions.enumerated().map { index, corruption in
                var evaluationCase = EvaluationCase(
                    name: corruption.label, kind: .corruption, type: corruption.evaluationType,
                    severity: corruption.severity)
                var labelRNG = root.derived("noise-\(index)/labels")
                if let precomputed = try corruption.precomputedTestImages(labels: labels, sampleShape: sampleShape) {
                    evaluationCase.transform = { _, range in precomputed.images(range) }
                } else if let indices = corruption.resampledTestIndices(labels: labels, rng: &labelRNG) {
                    evaluationCase.resampled = indices
                } else {
                    var rng = root.derived("noise-\(index)")
                    evaluationCase.transform = { images, _ in corruption.apply(to: images, rng: &rng) }
                }
                return evaluationCase
            }
    }

    /// Every attack on the model, each with its own random stream (`attack-<i>`), against the
    /// test labels of each batch.
    static func attacked(_ attacks: [any Attack], model: Sequential, labels: [Int], root: RandomSource) -> [EvaluationCase] {
        attacks.enumerated().map { index, attack in
            var rng = root.derived("attack-\(index)")
            if let ensemble = attack as? any ReportingAttack {
                let reports = AttackReportCollector()
                var evaluation = EvaluationCase(
                    name: attack.label, kind: .attack, type: type(of: attack).kind, budget: attack.budget, family: attack.family,
                    transform: { images, range in
                        let (adversarial, report) = ensemble.perturbReporting(images: images, labels: Array(labels[range]), model: model, rng: &rng)
                        reports.append(report)
                        return adversarial
                    })
                evaluation.reports = reports
                return evaluation
            }
            return EvaluationCase(
                name: attack.label, kind: .attack, type: type(of: attack).kind, budget: attack.budget, family: attack.family,
                transform: { images, range in attack.perturb(images: images, labels: Array(labels[range]), model: model, rng: &rng) })
        }
    }

    private func train(
        _ resolvedTrial: ResolvedTrial, data: DatasetSplits, root: RandomSource, label: String,
        into result: inout Training
    ) throws {
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
        var augmentationRNG = root.derived("augmentation")
        let evaluationBatch = experiment.spec.evaluation.batchSize
        let baseRate = optimizer.learningRate
        for epoch in stride(from: 1, through: training.epochs, by: 1) {
            let epochStart = Date()
            optimizer.learningRate = experiment.schedule.rate(base: baseRate, epoch: epoch - 1, epochs: training.epochs)
            var order: RandomSource? = training.shuffle ? shuffleRNG : nil
            let batches = data.training.loader(batchSize: training.batchSize, shuffledWith: &order)
            if let order { shuffleRNG = order }
            var lossSum = 0.0
            var step = 0
            while let batch = try nextBatch(batches, epoch: epoch) {
                defer { step += 1 }
                var images = batch.images
                if let augmentation = training.augmentation {
                    images = Augmentation.apply(images, padding: augmentation.randomCrop, flip: augmentation.horizontalFlip, rng: &augmentationRNG)
                }
                if let attack = experiment.trainingAttack, let adversarial = training.adversarial {
                    let count = min(batch.labels.count, Int((adversarial.ratio * Double(batch.labels.count)).rounded(.up)))
                    let attacked = attack.perturb(images: images.slice(0..<count), labels: Array(batch.labels[0..<count]), model: model, rng: &attackRNG)
                    images.scalars.replaceSubrange(0..<attacked.count, with: attacked.scalars)
                }
                let loss = model.trainStep(
                    inputs: images, supervision: batch.supervision, loss: resolvedTrial.model.loss, optimizer: optimizer, rng: &dropoutRNG)
                guard loss.isFinite else {
                    throw TrialFailure(description: "training diverged: loss is \(loss) at epoch \(epoch), step \(step + 1) of \(batches.count)")
                }
                lossSum += Double(loss)
            }
            let validation = Self.validate(model, on: data.validation, loss: resolvedTrial.model.loss, batchSize: evaluationBatch)
            let record = EpochRecord(
                epoch: epoch, learningRate: Double(optimizer.learningRate), trainLoss: lossSum / Double(max(1, batches.count)),
                validationLoss: validation.loss, validationAccuracy: validation.accuracy,
                seconds: Date().timeIntervalSince(epochStart))
            result.learningCurve.append(record)
            let shown =
                experiment.task == .classification
                ? "validation accuracy \(fmt(record.validationAccuracy))" : "validation \(resolvedTrial.model.loss.rawValue) \(fmt(record.validationLoss))"
            log("[\(label)] epoch \(epoch)/\(training.epochs): train loss \(fmt(record.trainLoss)), \(shown) (\(fmt(record.seconds, 1)) s)")
        }
        result.model = model
    }

    /// The loader's next training batch; an image that cannot be decoded fails the trial with
    /// its path.
    private func nextBatch(_ loader: BatchLoader, epoch: Int) throws -> Batch? {
        switch Result(catching: { () throws(DatasetError) in try loader.next() }) {
        case .success(let batch): return batch
        case .failure(let error): throw TrialFailure(description: "training data, epoch \(epoch): \(error)")
        }
    }

    /// The training loss and accuracy (NaN for regression) of the model on a validation split.
    static func validate(_ model: Sequential, on split: ImageDataset, loss: Loss, batchSize: Int) -> (loss: Double, accuracy: Double) {
        guard let targets = split.targets else {
            let summary = ClassificationEvaluation.evaluate(model: model, images: split.images, labels: split.labels, batchSize: batchSize).summary
            return (summary.meanLoss, summary.accuracy)
        }
        let (outputs, _) = RegressionEvaluation.predict(
            [.model(model)], inputs: split.images, targets: targets, loss: loss,
            batchSize: batchSize, rng: RandomSource(seed: 0))
        return (RegressionEvaluation.loss(outputs[0].batch, loss), .nan)
    }
}

func fmt(_ value: Double, _ decimals: Int = 4) -> String {
    String(format: "%.\(decimals)f", value)
}
