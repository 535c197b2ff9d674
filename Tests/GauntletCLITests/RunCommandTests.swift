import ArgumentParser
import Catalog
import Cluster
import Datasets
import Foundation
@testable import GauntletCLI
import Grid
import Results
import Runner
import Storage
import Tensors
import Testing

/// A temporary folder holding one experiment file.
/// The cell of the trial that trained `model`, reached through the index's external links.
func trialGroup(_ model: String, in file: HDF5File) throws -> String {
    for id in try file.members(of: "/cells") where try file.attribute("model", on: "/cells/\(id)") == .string(model) {
        return "/cells/\(id)"
    }
    throw StorageError.missing(file: file.path, object: "trial of model \(model)")
}

/// A temporary folder, removed with its contents when the test is done with it.
final class Workspace {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

let syntheticExperiment = """
    schema_version: 1
    name: synthetic_smoke
    seed: 1
    dataset: {type: synthetic, train: 300, validation: 60, test: 120, classes: 4, side: 8, noise: 0.6}
    models:
      - name: mlp
        layers:
          - {type: flatten}
          - {type: linear, out_features: 32}
          - {type: relu}
          - {type: dropout, p: 0.1}
          - {type: linear, out_features: 4}
      - name: cnn
        layers:
          - {type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
          - {type: batchnorm2d}
          - {type: relu}
          - {type: maxpool2d, kernel_size: 2}
          - {type: flatten}
          - {type: linear, out_features: 4}
    training: {optimizer: {type: adam, lr: 0.01}, epochs: 3, batch_size: 32}
    noise: [{type: gaussian_noise, std: 0.2}]
    attacks: [{type: fgsm, epsilon: 0.1}]
    evaluation: {batch_size: 50}
    """

@Suite struct RunCommandTests {
    @Test func runTrainsEvaluatesAndWritesTheResultsFile() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("smoke.yaml", syntheticExperiment)
        var command = try Gauntlet.parseAsRoot(["run", spec, "--output", "\(workspace.directory)/results", "--quiet"])
        try command.run()

        let file = try HDF5File.open("\(workspace.directory)/results/synthetic_smoke/synthetic_smoke.h5")
        #expect(try file.attribute("format_version") == .integer(6))
        #expect(try file.attribute("experiment") == .string("synthetic_smoke"))
        #expect(try file.attribute("complete") == .integer(2))
        #expect(try file.readStrings("/spec") == [syntheticExperiment])
        #expect(try file.members(of: "/cells").count == 2)
        #expect(try file.readStrings("/trials/status") == ["completed", "completed"])
        #expect(try file.readStrings("/table/evaluation").count == 6)
        for model in ["mlp", "cnn"] {
            let group = try trialGroup(model, in: file)
            #expect(try file.attribute("trial_id", on: group) == .string(String(group.dropFirst("/cells/".count))))
            #expect(try file.readStrings("\(group)/spec") == [syntheticExperiment])
            #expect(try file.attribute("status", on: group) == .string("completed"))
            #expect(try file.readStrings("\(group)/metrics/evaluation") == ["clean", "gaussian_noise(std=0.2)", "fgsm(epsilon=0.1)"])
            #expect(try file.readIntegers("\(group)/test_labels").values.count == 120)
            let accuracy = try file.readDoubles("\(group)/metrics/accuracy").values
            #expect(accuracy[0] > 0.8, "\(model) clean accuracy \(accuracy[0])")
            #expect(accuracy[2] < accuracy[0], "FGSM must lower \(model)'s accuracy")
            #expect(try file.shape(of: "\(group)/predictions") == [3, 120])
            #expect(try file.readIntegers("\(group)/learning_curve/epoch").values == [1, 2, 3])
        }
        let cnn = try trialGroup("cnn", in: file), mlp = try trialGroup("mlp", in: file)
        #expect(
            try file.members(of: "\(cnn)/state_dict") == [
                "0.bias", "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight", "5.bias", "5.weight",
            ])
        #expect(try file.readIntegers("\(cnn)/state_dict/1.num_batches_tracked").values == [30])  // 3 epochs × 10 batches
        #expect(try file.shape(of: "\(mlp)/state_dict/1.weight") == [32, 64])
    }

    @Test func aModelStartsFromAnotherRunsWeights() throws {
        let workspace = try Workspace()
        let first = try workspace.write("first.yaml", syntheticExperiment.replacingOccurrences(of: "name: synthetic_smoke", with: "name: first"))
        var run = try Gauntlet.parseAsRoot(["run", first, "--output", "\(workspace.directory)/results", "--in-process", "--quiet"])
        try run.run()
        let index = try HDF5File.open("\(workspace.directory)/results/first/first.h5")
        let cnn = try trialGroup("cnn", in: index)
        let accuracy = try index.readDoubles("\(cnn)/metrics/accuracy").values
        let cellPath = "results/first/cells/\(cnn.dropFirst("/cells/".count)).h5"
        // The CNN again, untrained (0 epochs) but starting from the first run's weights, named
        // relative to the experiment file: the same predictions, so the same accuracies.
        let reloaded = syntheticExperiment.replacingOccurrences(of: "name: synthetic_smoke", with: "name: reloaded")
            .replacingOccurrences(of: "  - name: cnn\n", with: "  - name: cnn\n    weights: \(cellPath)\n")
            .replacingOccurrences(of: "epochs: 3", with: "epochs: 0")
        #expect(reloaded.contains("weights: results/first/cells/"))
        let second = try workspace.write("reloaded.yaml", reloaded)
        run = try Gauntlet.parseAsRoot(["run", second, "--output", "\(workspace.directory)/results", "--in-process", "--quiet"])
        try run.run()
        let again = try HDF5File.open("\(workspace.directory)/results/reloaded/reloaded.h5")
        #expect(try again.readDoubles("\(try trialGroup("cnn", in: again))/metrics/accuracy").values == accuracy)
        // Weights of another architecture: one clear error naming the file and the key, before any run.
        let mismatched = try workspace.write(
            "mismatched.yaml",
            reloaded.replacingOccurrences(of: "out_channels: 4", with: "out_channels: 6")
                .replacingOccurrences(of: "name: reloaded", with: "name: mismatched"))
        run = try Gauntlet.parseAsRoot(["run", mismatched, "--output", "\(workspace.directory)/results", "--quiet"])
        #expect(throws: ExitCode.failure) { try run.run() }
        let trial = try #require(try ResolvedGrid.load(mismatched).trials.first { $0.trial.modelName == "cnn" })
        var rng = RandomSource(seed: 0)
        let model = try trial.model.build(inputShape: [1, 8, 8], normalization: nil, rng: &rng)
        #expect(throws: StateDictFile.Failure.self) { try StateDictFile.load(trial.model, into: model) }
        do { try StateDictFile.load(trial.model, into: model) } catch {
            #expect(
                error.description
                    == "model 'cnn': weights \(workspace.directory)/\(cellPath): state-dict key '0.weight' has shape [4, 1, 3, 3], expected [6, 1, 3, 3]")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(workspace.directory)/results/mismatched/cells"))
    }

    @Test func sweepingTheSeedKeepsTheIndexTableConsistent() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("seeds.yaml", syntheticExperiment.replacingOccurrences(of: "name: synthetic_smoke", with: "name: seeds"))
        var command = try Gauntlet.parseAsRoot(["run", spec, "seed=0,1", "repeats=2", "--output", workspace.directory, "--quiet"])
        try command.run()
        let index = try HDF5File.open("\(workspace.directory)/seeds/seeds.h5")
        #expect(try index.attribute("complete") == .integer(8))  // 2 seeds × 2 models × 2 repeats
        let swept = try index.readStrings("/table/seed_swept"), seeds = try index.readIntegers("/table/seed").values
        let repeats = try index.readIntegers("/table/repeat").values
        #expect(swept.count == 24 && Set(swept) == ["0", "1"])
        for row in 0..<24 where repeats[row] == 0 { #expect(String(seeds[row]) == swept[row]) }
        #expect(Set(seeds).count == 4)
    }

    /// The table `run` prints: with repeats, each metric's mean ± standard deviation and how many
    /// repeats completed of those asked; a missing repeat and a failed trial listed with why.
    @Test func theRunTableSummarisesRepeatsAndNamesFailures() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("table.yaml", syntheticExperiment.replacingOccurrences(of: "name: synthetic_smoke", with: "name: table"))
        var command = try Gauntlet.parseAsRoot(["run", spec, "repeats=3", "--output", workspace.directory, "--quiet"])
        try command.run()
        let grid = try ResolvedGrid.load(spec, overrides: ["repeats=3"])
        var report = try ExperimentRunner(grid: grid, outputDirectory: workspace.directory, log: { _ in }).rebuildIndex()
        #expect(report.cells.count == 6 && report.cells.allSatisfy { $0.summary?.status == .completed })
        // The last repeat of each model is missing.
        report.cells = report.cells.map { $0.trial.trial.repeatIndex == 2 ? ($0.trial, nil) : $0 }
        let table = RunSummary.table(report.cells)
        #expect(table.contains("2/3") && table.contains(" ± ") && table.contains("missing (not run yet) (repeat 2)"), "\(table)")
        // A failed trial shows its message in place of its metrics.
        let mlp = try #require(report.cells.first { $0.trial.trial.modelName == "mlp" && $0.summary != nil })
        var failed = try #require(mlp.summary)
        failed.status = .failed("training diverged: loss is nan")
        let line = RunSummary.table([(mlp.trial, failed)]).split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.hasPrefix("mlp") && line.hasSuffix("FAILED (repeat 0): training diverged: loss is nan"), "\(line)")
    }

    @Test func storeChoosesTheTensorsKept() throws {
        let workspace = try Workspace()
        let text =
            syntheticExperiment
            .replacingOccurrences(of: "name: synthetic_smoke", with: "name: stored")
            .replacingOccurrences(
                of: "evaluation: {batch_size: 50}",
                with: "evaluation: {batch_size: 50}\nstore: {predictions: false, logits: true, weights: false, examples: 70}")
        let spec = try workspace.write("stored.yaml", text)
        var command = try Gauntlet.parseAsRoot(["run", spec, "--output", workspace.directory, "--quiet"])
        try command.run()
        let file = try HDF5File.open("\(workspace.directory)/stored/stored.h5")
        let group = try trialGroup("mlp", in: file)
        #expect(!file.exists("\(group)/predictions") && !file.exists("\(group)/state_dict"))
        let logits = try file.readFloats("\(group)/logits")
        #expect(logits.shape == [3, 120, 4])
        // Examples span two evaluation batches of 50; clean ones are the test images themselves.
        let examples = try file.readFloats("\(group)/examples")
        #expect(examples.shape == [3, 70, 1, 8, 8])
        let plane = 70 * 64
        let clean = Array(examples.values[0..<plane]), noisy = Array(examples.values[plane..<(2 * plane)])
        let adversarial = Array(examples.values[(2 * plane)..<(3 * plane)])
        let test = try SyntheticSource(train: 300, validation: 60, test: 120, classes: 4, side: 8, noise: 0.6).load().test
        #expect(clean == Array(test.images.scalars[0..<plane]))
        #expect(noisy != clean && adversarial.allSatisfy { (0...1).contains($0) })
        #expect(zip(adversarial, clean).allSatisfy { abs($0 - $1) <= 0.1 + 1e-6 })
        // The stored logits reproduce the stored accuracy.
        let classes = 4
        let predicted = (0..<120).map { row in (0..<classes).max { logits.values[row * classes + $0] < logits.values[row * classes + $1] }! }
        let accuracy = Double(zip(predicted, test.labels).filter { $0 == $1 }.count) / 120
        #expect(abs(accuracy - (try file.readDoubles("\(group)/metrics/accuracy").values[0])) < 1e-12)
    }

    @Test func aDivergingTrialIsRecordedAndTheOthersKept() throws {
        let workspace = try Workspace()
        let text =
            syntheticExperiment
            .replacingOccurrences(of: "{type: adam, lr: 0.01}", with: "{type: sgd, lr: 1.0e+12}")
            .replacingOccurrences(of: "name: synthetic_smoke", with: "name: diverging")
        let spec = try workspace.write("diverging.yaml", text)
        var command = try Gauntlet.parseAsRoot(["run", spec, "--output", workspace.directory, "--quiet"])
        #expect(throws: ExitCode.failure) { try command.run() }

        // The MLP's loss overflows to a non-finite value; the batch-normalised CNN stays finite
        // (its logits grow but do not overflow), completes, and keeps its results.
        let file = try HDF5File.open("\(workspace.directory)/diverging/diverging.h5")
        let mlp = try trialGroup("mlp", in: file), cnn = try trialGroup("cnn", in: file)
        #expect(try file.attribute("status", on: mlp) == .string("failed"))
        guard case .string(let message)? = try file.attribute("message", on: mlp) else {
            Issue.record("no failure message")
            return
        }
        #expect(message.hasPrefix("training diverged: loss is "), "\(message)")
        #expect(message.contains("at epoch 1, step "))
        #expect(try file.attribute("status", on: cnn) == .string("completed"))
        #expect(try file.readDoubles("\(cnn)/metrics/accuracy").values.count == 3)
        #expect(try file.readStrings("/spec") == [text])
    }

    @Test func validateAndListNeedNoData() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("v.yaml", syntheticExperiment)
        var validate = try Gauntlet.parseAsRoot(["validate", spec])
        try validate.run()
        var list = try Gauntlet.parseAsRoot(["list"])
        try list.run()
        let bad = try workspace.write("bad.yaml", syntheticExperiment.replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: 2"))
        var invalid = try Gauntlet.parseAsRoot(["validate", bad])
        #expect(throws: ExitCode(2)) { try invalid.run() }
    }
}
