import Catalog
import Datasets
import Evaluation
import Foundation
import Grid
import Layers
import Reporting
@testable import Results
@testable import Runner
import Spec
import Tensors
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
        let outcome = try run(
            Self.text.replacingOccurrences(
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

    /// Calibration and uncertainty in one trial: temperature scaling lowers the validation NLL
    /// and the test ECE of an over-trained, over-confident model; MC dropout and the ensemble
    /// are more uncertain on noisy inputs than on clean ones; evaluations come perturbation by
    /// perturbation, predictor by predictor, uncalibrated first.
    @Test func calibrationAndUncertaintyBehaveAsDocumented() throws {
        let text = """
            schema_version: 1
            name: uncertainty
            seed: 2
            dataset: {type: synthetic, train: 600, validation: 300, test: 400, classes: 4, side: 8, noise: 1.0}
            models:
              - {name: mlp, layers: [{type: flatten}, {type: linear, out_features: 64}, {type: relu}, {type: dropout, p: 0.3}, {type: linear, out_features: 4}]}
            training: {optimizer: {type: adam, lr: 0.01}, epochs: 30, batch_size: 50}
            noise: [{type: gaussian_noise, std: 0.5}]
            metrics: [{type: accuracy}, {type: cross_entropy}, {type: ece}]
            calibration: {methods: [{type: temperature}]}
            uncertainty: {methods: [{type: mc_dropout, passes: 10}, {type: ensemble, members: 3}], ood: [{type: uniform_images}]}
            evaluation: {intervals: {level: 0.9, bootstrap: 40}}
            """
        let outcome = try run(text)
        #expect(outcome.status == .completed)
        let order = outcome.evaluations.map { "\($0.name)|\($0.predictor)|\($0.calibration)" }
        #expect(
            order.prefix(6) == [
                "clean|model|none", "clean|model|temperature", "clean|mc_dropout(passes=10)|none",
                "clean|mc_dropout(passes=10)|temperature", "clean|ensemble(members=3)|none",
                "clean|ensemble(members=3)|temperature",
            ])
        #expect(outcome.evaluations.count == 12)
        func metric(_ name: String, _ evaluation: String, _ predictor: String, _ calibration: String) -> Double {
            outcome.evaluations.first { $0.name == evaluation && $0.predictor == predictor && $0.calibration == calibration }!
                .metrics.first { $0.name == name }!.value
        }
        let fit = outcome.calibrationFits.first { $0.predictor == "model" }!
        #expect(fit.validationLossAfter < fit.validationLossBefore)
        #expect(fit.parameters[0].values[0] > 1, "an over-trained model is over-confident: T = \(fit.parameters[0].values[0])")
        #expect(metric("ece", "clean", "model", "temperature") < metric("ece", "clean", "model", "none"))
        // Temperature scaling never changes the predicted class.
        #expect(outcome.evaluations[0].predictions == outcome.evaluations[1].predictions)
        for predictor in ["mc_dropout(passes=10)", "ensemble(members=3)"] {
            #expect(metric("mean_entropy", "gaussian_noise(std=0.5)", predictor, "none") > metric("mean_entropy", "clean", predictor, "none"), "\(predictor)")
            #expect(metric("mean_mutual_information", "clean", predictor, "none") > 0)
        }
        #expect(metric("mean_mutual_information", "clean", "model", "none") == 0)
        for column in ["accuracy", "ece"] {
            let value = metric(column, "clean", "model", "none")
            #expect(metric("\(column)_low", "clean", "model", "none") < value && value < metric("\(column)_high", "clean", "model", "none") + 0.01)
        }
        #expect(metric("mean_entropy", "clean", "model", "temperature").isNaN)
        // The synthetic images are templates under heavy clipped noise, so uniform noise is only
        // partly out of distribution: detection by entropy is clearly better than chance (≈ 0.75).
        let detections = outcome.detections.filter { $0.score == "entropy" }
        #expect(detections.count == 3 && detections.allSatisfy { $0.detection.auroc > 0.65 }, "\(detections.map(\.detection.auroc))")
    }

    @Test func varianceNetworkLearnsHeteroscedasticNoise() throws {
        let text = """
            schema_version: 1
            name: regression
            seed: 1
            dataset: {type: synthetic_regression, train: 1500, validation: 300, test: 600}
            models:
              - name: gaussian
                loss: gaussian_nll
                layers: [{type: linear, out_features: 32}, {type: relu}, {type: dropout, p: 0.1},
                         {type: linear, out_features: 32}, {type: relu}, {type: linear, out_features: 2}]
              - name: point
                layers: [{type: linear, out_features: 32}, {type: relu}, {type: dropout, p: 0.1},
                         {type: linear, out_features: 32}, {type: relu}, {type: linear, out_features: 1}]
            training: {optimizer: {type: adam, lr: 0.003}, epochs: 30, batch_size: 64}
            uncertainty: {methods: [{type: mc_dropout, passes: 10}]}
            """
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "regression.yaml"))
        #expect(grid.trials.map { $0.model.loss } == [.gaussianNLL, .meanSquaredError])
        let data = try grid.trials[0].experiment.dataset.load()
        let outcomes = grid.trials.map { TrialRunner { _ in }.run($0, data: data) }
        #expect(outcomes.allSatisfy { $0.status == .completed })
        func metric(_ outcome: TrialOutcome, _ predictor: String, _ name: String) -> Double {
            outcome.evaluations.first { $0.predictor == predictor }!.metrics.first { $0.name == name }!.value
        }
        let gaussian = outcomes[0], point = outcomes[1]
        #expect(gaussian.evaluations.map(\.predictor) == ["model", "mc_dropout(passes=10)"])
        #expect(gaussian.learningCurve.allSatisfy { $0.validationAccuracy.isNaN })
        #expect(gaussian.learningCurve.last!.validationLoss < gaussian.learningCurve.first!.validationLoss)
        // Noise std 0.3 · (0.2 + 0.8 |x|/π): R² near its ceiling, 90% intervals covering about 90%.
        #expect(metric(gaussian, "model", "r2") > 0.85)
        #expect((0.84...0.96).contains(metric(gaussian, "model", "coverage_90")))
        // The variance head learns that the noise grows with |x|: the true variance ratio between
        // |x| > 2.5 and |x| < 0.5 is about 12.
        let x = data.test.images.scalars, aleatoric = gaussian.evaluations[0].regression!.aleatoric!
        func meanVariance(_ keep: (Float) -> Bool) -> Double {
            let values = zip(x, aleatoric).filter { keep($0.0) }.map(\.1)
            return values.reduce(0, +) / Double(values.count)
        }
        #expect(meanVariance { abs($0) > 2.5 } > 4 * meanVariance { abs($0) < 0.5 })
        // A point-prediction model has no likelihood alone; MC dropout gives it a variance.
        #expect(metric(point, "model", "gaussian_nll").isNaN && metric(point, "model", "mse").isFinite)
        #expect(metric(point, "mc_dropout(passes=10)", "gaussian_nll").isFinite)
        #expect(metric(point, "mc_dropout(passes=10)", "mean_epistemic_variance") > 0)
        #expect(metric(gaussian, "model", "gaussian_nll") < metric(point, "mc_dropout(passes=10)", "gaussian_nll"))
    }

    @Test func repeatsAreSummarisedByMeanAndSampleStandardDeviation() throws {
        let text = Self.text.replacingOccurrences(of: "seed: 5", with: "seed: 5\nrepeats: 3")
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "runner.yaml"))
        #expect(grid.trials.count == 3)
        let data = try grid.trials[0].experiment.dataset.load()
        var cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)] = []
        for trial in grid.trials {
            let outcome = TrialRunner { _ in }.run(trial, data: data)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-cell-\(UUID().uuidString).h5").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try CellFile.write(
                outcome, trial: trial, grid: grid, testLabels: data.test.labels, provenance: .current(specFile: "runner.yaml"),
                started: Date(), to: path)
            cells.append((trial, CellFile.summary(at: path, trialID: trial.trial.id)))
        }
        // The last repeat is missing: it is listed, and the summary counts two repeats.
        let summary = RepeatSummary(Array(cells.prefix(2)) + [(cells[2].trial, nil)])
        #expect(summary.requestedRepeats == 3 && summary.metrics == ["accuracy", "cross_entropy"])
        #expect(summary.rows.map(\.evaluation) == ["clean", "gaussian_noise(std=0.1)"])
        let accuracies = cells.prefix(2).map { $0.summary!.metrics[1].values[0] }  // cross-entropies
        let mean = (accuracies[0] + accuracies[1]) / 2
        let std = (((accuracies[0] - mean) * (accuracies[0] - mean) + (accuracies[1] - mean) * (accuracies[1] - mean)) / 1).squareRoot()
        #expect(accuracies[0] != accuracies[1])
        #expect(summary.rows[0].repeats == 2 && abs(summary.rows[0].mean[1] - mean) < 1e-12 && abs(summary.rows[0].standardDeviation[1] - std) < 1e-12)
        // One repeat: no spread to report.
        #expect(RepeatSummary(Array(cells.prefix(1))).rows[0].standardDeviation.allSatisfy { $0.isNaN })
    }

    @Test func thresholdsAreTunedOnTheValidationSplit() throws {
        let text =
            Self.text.replacingOccurrences(of: "classes: 3", with: "classes: 2, noise: 1.2")
            .replacingOccurrences(of: "out_features: 3", with: "out_features: 2") + "\nmetrics: [{type: best_threshold}]\n"
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "runner.yaml"))
        let trial = grid.trials[0], data = try trial.experiment.dataset.load()
        let runner = TrialRunner { _ in }
        let training = runner.train(trial, data: data)
        let outcome = runner.evaluate(trial, after: training, data: data)
        let logits = ClassificationEvaluation.evaluate(
            model: try #require(training.model), images: data.validation.images,
            labels: data.validation.labels, batchSize: 500, keepLogits: true
        ).logits!
        var validation = ProbabilityTable()
        validation.append(logits: logits, labels: data.validation.labels)
        let clean = outcome.evaluations[0].metrics
        #expect(clean.map(\.name) == ["threshold_f1", "f1_at_threshold", "f1_oracle"])
        #expect(clean[0].value == BestThreshold().tune(on: validation))
        #expect(clean[1].value <= clean[2].value && clean[1].value > 0.5)
    }

    @Test func heldOutClassesLeaveTrainingAndBecomeTheOutOfDistributionSet() throws {
        let text = Self.text + "\nuncertainty: {ood: [{type: held_out_classes, classes: [2]}]}\n"
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "runner.yaml"))
        let trial = grid.trials[0], data = try trial.experiment.dataset.load()
        #expect(trial.experiment.heldOutClasses == [2])
        let (splits, heldOut) = data.holdingOut([2])
        #expect(!splits.training.labels.contains(2) && !splits.validation.labels.contains(2) && !splits.test.labels.contains(2))
        #expect(heldOut.labels.allSatisfy { $0 == 2 } && heldOut.count + splits.test.count == data.test.count && heldOut.count > 0)
        let outcome = TrialRunner { _ in }.run(trial, data: data)
        #expect(outcome.status == .completed)
        #expect(outcome.evaluations[0].predictions.count == splits.test.count)
        #expect(outcome.outOfDistributionScores.map(\.source) == ["held_out_classes(classes=2)"])
        #expect(outcome.outOfDistributionScores[0].scores[0][0].count == heldOut.count)
        #expect(outcome.detections.allSatisfy { $0.detection.auroc.isFinite })
        // The held-out classes change what is trained, so they are part of the training key.
        let plain = try ResolvedGrid.resolve(try SpecDocument.parse(Self.text, file: "runner.yaml")).trials[0]
        #expect(plain.trainingKey != trial.trainingKey)
    }

    @Test func interpretationExplainsEveryEvaluationAndIsStored() throws {
        let text =
            Self.text.replacingOccurrences(
                of: "{name: linear, layers: [{type: flatten}, {type: linear, out_features: 3}]}",
                with:
                    "{name: cnn, layers: [{type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, name: conv}, {type: relu, name: act}, {type: flatten}, {type: linear, out_features: 3}]}"
            )
                + """

                attacks: [{type: fgsm, epsilon: 0.1}]
                interpret:
                  methods: [{type: saliency}, {type: integrated_gradients, steps: 64}, {type: grad_cam, layer: act}]
                  samples: 3
                  layers: [conv]
                  statistics_samples: 16
                  deletion_steps: 5
                  sensitivity_perturbations: 2
                """
        let (grid, outcome) = try runInGrid(text)
        #expect(outcome.status == .completed)
        let result = try #require(outcome.interpretation)
        #expect(result.evaluations == ["clean", "gaussian_noise(std=0.1)", "fgsm(epsilon=0.1)"])
        #expect(result.targets.map(\.count) == [3, 3, 3])
        #expect(result.methods.map(\.label) == ["saliency", "integrated_gradients(steps=64)", "grad_cam(layer=act)"])
        for method in result.methods {
            #expect(method.maps.map(\.shape) == Array(repeating: [3, 1, 6, 6], count: 3))
            #expect(method.deletion.count == 3 && method.deletion[0].allSatisfy { $0.count == 6 })
            #expect(method.randomizationCorrelation.count == 3 && method.sensitivity.count == 3)
        }
        // 64 midpoint steps: the attributions sum to F(x) − F(0) within 5e-3 logits.
        #expect(result.methods[1].completenessError.flatMap { $0 }.allSatisfy { $0 < 5e-3 })
        #expect(result.layers == ["conv", "act", "2", "3"] && result.relativeChange[0] == [0, 0, 0, 0])
        #expect(result.relativeChange[2].allSatisfy { $0 > 0 })  // FGSM moves every layer
        #expect(result.activations[0].map(\.shape) == Array(repeating: [3, 4, 6, 6], count: 3))
        #expect(result.firstLayerFilters?.shape == [4, 1, 3, 3] && result.weightNames.count == 4)
        #expect(outcome.modelGraph.hasPrefix("digraph \"cnn\" {") && outcome.modelGraph.contains("layer1 [label=\"{act: relu|4×6×6}\"];"))
        // The cell file keeps it all.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-cell-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CellFile.write(outcome, trial: grid.trials[0], grid: grid, testLabels: [], provenance: .current(specFile: "runner.yaml"), started: Date(), to: path)
        #expect(CellFile.summary(at: path, trialID: outcome.trial.id)?.status == .completed)
    }

    /// An AutoAttack evaluation end to end: its per-sample report reaches the record, the cell
    /// file and the report's data unchanged, and `protocol: robustbench` writes RobustBench's row
    /// with the cell's clean and robust accuracies.
    @Test func autoAttackReportsReachTheCellAndTheRobustBenchRow() throws {
        let text = """
            schema_version: 1
            name: ensemble
            seed: 3
            dataset: {type: synthetic, train: 300, validation: 20, test: 24, classes: 4, side: 6, noise: 0.6}
            models:
              - {name: mlp, layers: [{type: flatten}, {type: linear, out_features: 16}, {type: relu}, {type: linear, out_features: 4}]}
            training: {optimizer: {type: adam, lr: 0.01}, epochs: 3, batch_size: 50}
            attacks: [{type: autoattack, epsilon: 0.1, protocol: robustbench}]
            evaluation: {batch_size: 10}
            """
        let (grid, outcome) = try runInGrid(text)
        #expect(outcome.status == .completed)
        let record = try #require(outcome.evaluations.first { $0.kind == .attack })
        let report = try #require(record.attackReport)
        #expect(record.name == "autoattack(epsilon=0.1,protocol=robustbench)")
        #expect(report.brokenBy.count == 24 && report.adversarial?.shape == [24, 1, 6, 6])
        let labels = try grid.trials[0].experiment.dataset.load().test.labels
        #expect(zip(record.predictions, labels).map { $0 != $1 } == report.brokenBy.map { $0 != -1 })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-ensemble-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/cell.h5"
        try CellFile.write(
            outcome, trial: grid.trials[0], grid: grid, testLabels: labels, provenance: .current(specFile: "runner.yaml"), started: Date(), to: path)
        let cell = try ResultsFolder.readCell(path, trialID: outcome.trial.id)
        #expect(cell.ensembles.count == 1)
        #expect(cell.ensembles[0].brokenBy == report.brokenBy && cell.ensembles[0].components == report.components)
        #expect(cell.ensembles[0].robustAccuracyAfter == report.robustAccuracyAfter)
        try RobustBenchRow.write(outcome, trial: grid.trials[0], testLabels: labels, directory: folder)
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/robustbench/\(outcome.trial.id).Linf.json"))
        let row = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let clean = outcome.evaluations[0].predictions
        #expect(row["clean_acc"] as? String == String(format: "%.2f", 100 * Double(zip(clean, labels).filter { $0 == $1 }.count) / 24))
        #expect(row["autoattack_acc"] as? String == String(format: "%.2f", 100 * report.robustAccuracyAfter.last!))
        #expect(row["eps"] as? String == "0.1" && row["threat_model"] as? String == "Linf" && row["n_examples"] as? Int == 24)
        #expect(row["number_forward_passes"] as? Int == 1 && row["dataset"] as? String == "synthetic")
        #expect(RobustBenchRow.epsText(8.0 / 255) == "8/255")
    }

    @Test func zeroEpochsEvaluatesTheInitialisedModel() throws {
        let outcome = try run(Self.text.replacingOccurrences(of: "epochs: 2", with: "epochs: 0"))
        #expect(outcome.status == .completed && outcome.learningCurve.isEmpty && outcome.evaluations.count == 2)
    }

    @Test func divergenceIsAFailureThatSaysWhere() throws {
        // Two layers: products of exploding weights overflow to Inf, and Inf − Inf gives NaN.
        let (grid, outcome) = try runInGrid(
            Self.text
                .replacingOccurrences(of: "lr: 0.1", with: "lr: 1.0e+30")
                .replacingOccurrences(
                    of: "{type: linear, out_features: 3}", with: "{type: linear, out_features: 8}, {type: relu}, {type: linear, out_features: 3}"))
        guard case .failed(let message) = outcome.status else {
            Issue.record("a diverging run completed")
            return
        }
        #expect(message.hasPrefix("training diverged: loss is "))
        #expect(message.contains(" of 4"))  // 64 samples / batch 16
        // What training produced before it failed is kept (here the model summary).
        #expect(outcome.summary.map(\.kind) == ["flatten", "linear", "relu", "linear"])
        // The failure survives the round trip through its cell file, and the table shows it.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-cell-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CellFile.write(
            outcome, trial: grid.trials[0], grid: grid, testLabels: [], provenance: .current(specFile: "runner.yaml"),
            started: Date(), to: path)
        let summary = try #require(CellFile.summary(at: path, trialID: outcome.trial.id))
        #expect(summary.status == outcome.status && summary.model == "linear" && summary.seed == 5)
        #expect(CellFile.summary(at: path, trialID: "another-trial") == nil)
    }

    @Test func severalJobsStartTheCostliestGroupsFirst() throws {
        let text = Self.text.replacingOccurrences(
            of: "models:\n",
            with: """
                repeats: 2
                models:
                  - {name: wide, layers: [{type: flatten}, {type: linear, out_features: 64}, {type: relu}, {type: linear, out_features: 3}]}

                """)
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "runner.yaml"))
        let given: [[ResolvedTrial]] = grid.trials.reversed().map { [$0] }
        let scheduled = ExperimentRunner.longestFirst(given)
        // The wide model costs more per trial; among equals the order given is kept.
        let givenIndices: [Int] = given.map { $0[0].trial.index }
        let wideFirst: [Int] =
            given.filter { $0[0].model.name == "wide" }.map { $0[0].trial.index }
            + given.filter { $0[0].model.name == "linear" }.map { $0[0].trial.index }
        #expect(scheduled.map { $0[0].trial.index } == wideFirst)
        #expect(wideFirst != givenIndices)
        let wide = grid.trials.first { $0.model.name == "wide" }!.estimatedFLOPs, linear = grid.trials.first { $0.model.name == "linear" }!.estimatedFLOPs
        #expect(wide > linear)
        // Default jobs: one per core, one per group at most, and total / costliest at most
        // (here the two wide trials make 2 × wide of 2 × (wide + linear): two jobs, never more).
        #expect(ExperimentRunner.defaultJobs(given, cores: 2) == 2)
        #expect(wide > 10 * linear)  // 36·64 + 64·3 against 36·3 multiply-accumulates per sample
        #expect(ExperimentRunner.defaultJobs(given, cores: 8) == 2)
        #expect(ExperimentRunner.defaultJobs(Array(given.prefix(1)), cores: 8) == 1)
        // One costly group beside a cheap one: one job with every core in BLAS.
        let lopsided = [given.first { $0[0].model.name == "wide" }!, given.first { $0[0].model.name == "linear" }!]
        #expect(ExperimentRunner.defaultJobs(lopsided, cores: 2) == 1)
    }

    @Test func uncertaintyMethodsCanBeLimitedToTheCleanSplit() throws {
        let text =
            Self.text
            .replacingOccurrences(
                of: "{type: flatten}, {type: linear, out_features: 3}", with: "{type: flatten}, {type: dropout, p: 0.3}, {type: linear, out_features: 3}")
            + "\nattacks: [{type: fgsm, epsilon: 0.1}]\nuncertainty: {methods: [{type: mc_dropout, passes: 4}], evaluations: clean}\n"
        let (grid, outcome) = try runInGrid(text)
        let byEvaluation = Dictionary(grouping: outcome.evaluations, by: \.name).mapValues { $0.map(\.predictor) }
        #expect(byEvaluation["clean"] == ["model", "mc_dropout(passes=4)"])
        #expect(byEvaluation["gaussian_noise(std=0.1)"] == ["model"])
        #expect(byEvaluation["fgsm(epsilon=0.1)"] == ["model"])
        // The cost estimate counts the MC passes of the clean split only.
        let everywhere = try ResolvedGrid.resolve(
            try SpecDocument.parse(
                text.replacingOccurrences(of: "evaluations: clean", with: "evaluations: all"),
                file: "runner.yaml"))
        #expect(grid.trials[0].estimatedFLOPs < everywhere.trials[0].estimatedFLOPs)
        let (_, all) = try runInGrid(text.replacingOccurrences(of: "evaluations: clean", with: "evaluations: all"))
        #expect(Set(all.evaluations.filter { $0.name != "clean" }.map(\.predictor)) == ["model", "mc_dropout(passes=4)"])
    }
}
