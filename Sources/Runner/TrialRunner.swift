import Catalog
import Spec
import Datasets
import Evaluation
import Foundation
import Grid
import Layers
import Perturbations
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
        public var failure: String?
        public var learningCurve: [EpochRecord] = []
        public var summary: [LayerSummary] = []
        public var stateDict: [(key: String, value: Tensor)] = []
        public var seconds = 0.0
    }

    /// Runs one trial on its cell's data; failures are recorded in the outcome, never thrown.
    public func run(_ resolved: ResolvedTrial, data: DatasetSplits) -> TrialOutcome {
        evaluate(resolved, after: train(resolved, data: data), data: data)
    }

    /// Trains the trial's model. Trials with equal `trainingKey`s get identical results, so the
    /// runner trains once for all of them.
    public func train(_ resolvedTrial: ResolvedTrial, data: DatasetSplits) -> Training {
        var training = Training()
        do {
            try train(resolvedTrial, data: data, into: &training)
        } catch let failure as TrialFailure {
            training.failure = failure.description
        } catch {
            training.failure = "\(error)"
        }
        if training.failure != nil { training.model = nil }
        return training
    }

    /// Evaluates a trained model clean, under every corruption and every attack of the trial.
    public func evaluate(_ resolvedTrial: ResolvedTrial, after training: Training, data: DatasetSplits) -> TrialOutcome {
        var outcome = TrialOutcome(trial: resolvedTrial.trial, status: .completed)
        outcome.learningCurve = training.learningCurve
        outcome.summary = training.summary
        outcome.stateDict = training.stateDict
        outcome.trainingSeconds = training.seconds
        guard let model = training.model else {
            outcome.status = .failed(training.failure ?? "training failed")
            return outcome
        }
        let trial = resolvedTrial.trial, experiment = resolvedTrial.experiment
        let root = RandomSource(seed: trial.seed)
        let evaluationStart = Date()
        let test = data.test
        let store = trial.spec.store
        let evaluationBatch = experiment.spec.evaluation.batchSize
        var nonFinite: String?
        func evaluate(_ name: String, _ kind: EvaluationRecord.Kind, describe: (inout EvaluationRecord) -> Void = { _ in },
                      transform: ((Tensor, [Int]) -> Tensor)?) {
            let start = Date()
            let result = ClassificationEvaluation.evaluate(model: model, images: test.images, labels: test.labels,
                                                           batchSize: evaluationBatch, metrics: experiment.metrics,
                                                           keepLogits: store.logits, keepExamples: store.examples, transform: transform)
            if !result.summary.meanLoss.isFinite { nonFinite = nonFinite ?? name }
            var record = EvaluationRecord(
                name: name, kind: kind, metrics: zip(experiment.metrics, result.metrics).map { ($0.name, $1) },
                predictions: result.summary.predictions, logits: result.logits, examples: result.examples,
                seconds: Date().timeIntervalSince(start))
            describe(&record)
            outcome.evaluations.append(record)
            log("[\(trial.label)] \(name): accuracy \(fmt(result.summary.accuracy)) (\(fmt(record.seconds, 1)) s)")
        }
        evaluate("clean", .clean, transform: nil)
        for (index, corruption) in experiment.corruptions.enumerated() {
            var rng = root.derived("noise-\(index)")
            evaluate(corruption.label, .corruption, describe: { record in
                record.type = type(of: corruption).kind
                record.severity = corruption.severity
            }) { images, _ in corruption.apply(to: images, rng: &rng) }
        }
        for (index, attack) in experiment.attacks.enumerated() {
            var rng = root.derived("attack-\(index)")
            evaluate(attack.label, .attack, describe: { record in
                record.type = type(of: attack).kind
                record.budget = attack.budget
                record.family = attack.family
            }) { images, labels in attack.perturb(images: images, labels: labels, model: model, rng: &rng) }
        }
        outcome.evaluationSeconds = Date().timeIntervalSince(evaluationStart)
        if let broken = nonFinite {
            outcome.status = .failed("evaluation '\(broken)' produced a non-finite loss (the model outputs NaN or Inf)")
        }
        return outcome
    }

    private func train(_ resolvedTrial: ResolvedTrial, data: DatasetSplits, into result: inout Training) throws {
        let trial = resolvedTrial.trial, experiment = resolvedTrial.experiment
        // Fault injection for the isolation tests: crash the process on this trial with a real
        // invalid memory access (a raised signal can be survived; this cannot).
        if ProcessInfo.processInfo.environment["GAUNTLET_CRASH_TRIAL"] == trial.id {
            UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 0
        }
        let root = RandomSource(seed: trial.seed)
        let resolved = resolvedTrial.model
        let label = trial.label
        var initRNG = root.derived("init/\(resolved.name)")
        let model = try resolved.build(inputShape: data.training.sampleShape, normalization: experiment.normalization, rng: &initRNG)
        result.summary = model.summary()
        let training = experiment.spec.training
        let optimizer = experiment.optimizer.makeOptimizer()
        var shuffleRNG = root.derived("shuffle")
        var dropoutRNG = root.derived("dropout")
        var attackRNG = root.derived("adversarial-training")
        let evaluationBatch = experiment.spec.evaluation.batchSize
        let started = Date()
        defer { result.seconds = Date().timeIntervalSince(started) }
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
                let loss = model.trainStep(images: images, labels: batch.labels, optimizer: optimizer, rng: &dropoutRNG)
                guard loss.isFinite else {
                    throw TrialFailure(description: "training diverged: loss is \(loss) at epoch \(epoch), step \(step + 1) of \(batches.count)")
                }
                lossSum += Double(loss)
            }
            let validation = ClassificationEvaluation.evaluate(model: model, images: data.validation.images,
                                                               labels: data.validation.labels, batchSize: evaluationBatch).summary
            let record = EpochRecord(epoch: epoch, learningRate: Double(optimizer.learningRate), trainLoss: lossSum / Double(max(1, batches.count)),
                                     validationLoss: validation.meanLoss, validationAccuracy: validation.accuracy,
                                     seconds: Date().timeIntervalSince(epochStart))
            result.learningCurve.append(record)
            log("[\(label)] epoch \(epoch)/\(training.epochs): train loss \(fmt(record.trainLoss)), validation accuracy \(fmt(record.validationAccuracy)) (\(fmt(record.seconds, 1)) s)")
        }
        result.stateDict = model.stateDict()
        result.model = model
    }

    /// What determines a trial's trained model: its dataset, model, training settings, evaluation
    /// batch size (validation passes use it) and seed. Trials with equal keys train identically.
    public static func trainingKey(_ resolved: ResolvedTrial) -> String {
        let spec = resolved.trial.spec
        return [spec.dataset.canonicalParameters, spec.models[resolved.trial.modelIndex].canonical, spec.training.canonical,
                String(spec.evaluation.batchSize), String(resolved.trial.seed)].joined(separator: "\n")
    }
}

func fmt(_ value: Double, _ decimals: Int = 4) -> String {
    String(format: "%.\(decimals)f", value)
}
