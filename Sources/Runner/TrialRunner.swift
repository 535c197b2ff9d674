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

    /// Runs one trial on its cell's data; failures are recorded in the outcome, never thrown.
    public func run(_ resolved: ResolvedTrial, data: DatasetSplits) -> TrialOutcome {
        var outcome = TrialOutcome(trial: resolved.trial, status: .completed)
        do {
            try execute(resolved, data: data, into: &outcome)
        } catch let failure as TrialFailure {
            outcome.status = .failed(failure.description)
        } catch {
            outcome.status = .failed("\(error)")
        }
        return outcome
    }

    private func execute(_ resolvedTrial: ResolvedTrial, data: DatasetSplits, into outcome: inout TrialOutcome) throws {
        let trial = resolvedTrial.trial, experiment = resolvedTrial.experiment
        let root = RandomSource(seed: trial.seed)
        let resolved = resolvedTrial.model
        let label = trial.label
        var initRNG = root.derived("init/\(resolved.name)")
        let model = try resolved.build(inputShape: data.training.sampleShape, normalization: experiment.normalization, rng: &initRNG)
        outcome.summary = model.summary()
        let training = experiment.spec.training
        let optimizer = experiment.optimizer.makeOptimizer()
        var shuffleRNG = root.derived("shuffle")
        var dropoutRNG = root.derived("dropout")
        let evaluationBatch = experiment.spec.evaluation.batchSize
        let started = Date()
        let baseRate = optimizer.learningRate
        for epoch in stride(from: 1, through: training.epochs, by: 1) {
            let epochStart = Date()
            optimizer.learningRate = experiment.schedule.rate(base: baseRate, epoch: epoch - 1, epochs: training.epochs)
            var order: RandomSource? = training.shuffle ? shuffleRNG : nil
            let batches = data.training.batches(size: training.batchSize, shuffledWith: &order)
            if let order { shuffleRNG = order }
            var lossSum = 0.0
            for (step, batch) in batches.enumerated() {
                let loss = model.trainStep(images: batch.images, labels: batch.labels, optimizer: optimizer, rng: &dropoutRNG)
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
            outcome.learningCurve.append(record)
            log("[\(label)] epoch \(epoch)/\(training.epochs): train loss \(fmt(record.trainLoss)), validation accuracy \(fmt(record.validationAccuracy)) (\(fmt(record.seconds, 1)) s)")
        }
        outcome.trainingSeconds = Date().timeIntervalSince(started)
        outcome.stateDict = model.stateDict()

        let evaluationStart = Date()
        let test = data.test
        let store = trial.spec.store
        var nonFinite: String?
        func evaluate(_ name: String, _ kind: EvaluationRecord.Kind, transform: ((Tensor, [Int]) -> Tensor)?) {
            let start = Date()
            let result = ClassificationEvaluation.evaluate(model: model, images: test.images, labels: test.labels,
                                                           batchSize: evaluationBatch, metrics: experiment.metrics,
                                                           keepLogits: store.logits, keepExamples: store.examples, transform: transform)
            if !result.summary.meanLoss.isFinite { nonFinite = nonFinite ?? name }
            outcome.evaluations.append(EvaluationRecord(
                name: name, kind: kind, metrics: zip(experiment.metrics, result.metrics).map { ($0.name, $1) },
                predictions: result.summary.predictions, logits: result.logits, examples: result.examples,
                seconds: Date().timeIntervalSince(start)))
        }
        evaluate("clean", .clean, transform: nil)
        for (index, corruption) in experiment.corruptions.enumerated() {
            var rng = root.derived("noise-\(index)")
            evaluate(corruption.label, .corruption) { images, _ in corruption.apply(to: images, rng: &rng) }
        }
        for (index, attack) in experiment.attacks.enumerated() {
            var rng = root.derived("attack-\(index)")
            evaluate(attack.label, .attack) { images, labels in attack.perturb(images: images, labels: labels, model: model, rng: &rng) }
        }
        outcome.evaluationSeconds = Date().timeIntervalSince(evaluationStart)
        if let broken = nonFinite {
            throw TrialFailure(description: "evaluation '\(broken)' produced a non-finite loss (the model outputs NaN or Inf)")
        }
    }
}

func fmt(_ value: Double, _ decimals: Int = 4) -> String {
    String(format: "%.\(decimals)f", value)
}
