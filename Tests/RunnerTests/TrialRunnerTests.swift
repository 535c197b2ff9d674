import Foundation
import Catalog
import Datasets
import Grid
import Runner
import Spec
import Testing

@Suite struct TrialRunnerTests {
    static let text = """
        schema_version: 1
        name: runner
        seed: 5
        dataset: {type: synthetic, train: 64, validation: 16, test: 32, classes: 3, side: 6}
        models:
          - {name: linear, layers: [{type: flatten}, {type: linear, out_features: 3}]}
        training: {optimizer: {type: sgd, lr: 0.1}, epochs: 2, batch_size: 16}
        noise: [{type: gaussian_noise, std: 0.1}]
        """

    func run(_ text: String) throws -> TrialOutcome {
        try runInGrid(text).outcome
    }

    func runInGrid(_ text: String) throws -> (grid: ResolvedGrid, outcome: TrialOutcome) {
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "runner.yaml"))
        let trial = grid.trials[0]
        return (grid, TrialRunner { _ in }.run(trial, data: try trial.experiment.dataset.load()))
    }

    @Test func sameSeedSameResultsAndEveryEvaluationRecorded() throws {
        let first = try run(Self.text), second = try run(Self.text)
        #expect(first.status == .completed)
        #expect(first.evaluations.map(\.name) == ["clean", "gaussian_noise(std=0.1)"])
        #expect(first.evaluations.map(\.predictions) == second.evaluations.map(\.predictions))
        #expect(first.learningCurve.map(\.trainLoss) == second.learningCurve.map(\.trainLoss))
        #expect(first.stateDict.map(\.value) == second.stateDict.map(\.value))
        let reseeded = try run(Self.text.replacingOccurrences(of: "seed: 5", with: "seed: 6"))
        #expect(reseeded.stateDict.map(\.value) != first.stateDict.map(\.value))
    }

    @Test func theScheduleSetsEachEpochsLearningRate() throws {
        let outcome = try run(Self.text.replacingOccurrences(
            of: "training: {optimizer: {type: sgd, lr: 0.1}, epochs: 2, batch_size: 16}",
            with: "training: {optimizer: {type: sgd, lr: 0.1}, schedule: {type: step, step_size: 1, gamma: 0.5}, epochs: 3, batch_size: 16}"))
        #expect(outcome.learningCurve.map(\.learningRate).map { Float($0) } == [0.1, 0.05, 0.025])
        #expect(try run(Self.text).learningCurve.map(\.learningRate).map { Float($0) } == [0.1, 0.1])
    }

    /// Adversarial training with FGSM (random start) on the same data and seed: the model holds
    /// up better under the attack than the normally trained one, and the run records the
    /// evaluation's attack metadata.
    @Test func adversarialTrainingRaisesRobustAccuracy() throws {
        let base = """
            schema_version: 1
            name: adversarial
            seed: 3
            dataset: {type: synthetic, train: 600, validation: 50, test: 300, classes: 4, side: 8, noise: 0.6}
            models:
              - {name: mlp, layers: [{type: flatten}, {type: linear, out_features: 32}, {type: relu}, {type: linear, out_features: 4}]}
            training: {optimizer: {type: adam, lr: 0.01}, epochs: 4, batch_size: 50}
            attacks: [{type: pgd, epsilon: 0.1, steps: 10}]
            """
        let adversarial = base.replacingOccurrences(
            of: "batch_size: 50}",
            with: "batch_size: 50, adversarial: {attack: {type: fgsm, epsilon: 0.1, random_start: true}, ratio: 1}}")
        let plain = try run(base), hardened = try run(adversarial)
        let robust = { (outcome: TrialOutcome) in outcome.evaluations[1].metrics.first { $0.name == "accuracy" }!.value }
        #expect(robust(hardened) > robust(plain) + 0.05, "PGD accuracy: plain \(robust(plain)), adversarially trained \(robust(hardened))")
        #expect(hardened.evaluations[1].type == "pgd" && hardened.evaluations[1].budget == 0.1 && hardened.evaluations[1].family == "pgd(steps=10)")
    }

    @Test func zeroEpochsEvaluatesTheInitialisedModel() throws {
        let outcome = try run(Self.text.replacingOccurrences(of: "epochs: 2", with: "epochs: 0"))
        #expect(outcome.status == .completed && outcome.learningCurve.isEmpty && outcome.evaluations.count == 2)
    }

    @Test func divergenceIsAFailureThatSaysWhere() throws {
        // Two layers: products of exploding weights overflow to Inf, and Inf − Inf gives NaN.
        let (grid, outcome) = try runInGrid(Self.text
            .replacingOccurrences(of: "lr: 0.1", with: "lr: 1.0e+30")
            .replacingOccurrences(of: "{type: linear, out_features: 3}", with: "{type: linear, out_features: 8}, {type: relu}, {type: linear, out_features: 3}"))
        guard case .failed(let message) = outcome.status else {
            Issue.record("a diverging run completed")
            return
        }
        #expect(message.hasPrefix("training diverged: loss is "))
        #expect(message.contains(" of 4"))   // 64 samples / batch 16
        // The failure survives the round trip through its cell file, and the table shows it.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-cell-\(UUID().uuidString).h5").path
        try CellFile.write(outcome, trial: grid.trials[0], grid: grid, testLabels: [], provenance: .current(specFile: "runner.yaml"),
                           started: Date(), to: path)
        let summary = try #require(CellFile.summary(at: path, trialID: outcome.trial.id))
        #expect(summary.status == outcome.status && summary.model == "linear" && summary.seed == 5)
        #expect(CellFile.summary(at: path, trialID: "another-trial") == nil)
        #expect(ExperimentRunner.table([(grid.trials[0], summary)]).contains("linear  FAILED: training diverged"))
    }
}
