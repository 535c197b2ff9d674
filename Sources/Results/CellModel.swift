import Catalog
import Datasets
import Foundation
import Grid
import Layers
import Spec
import Storage
import Tensors

/// The trained model of one cell file: the experiment stored in the cell, resolved again to
/// find the cell's model, built and loaded with the cell's `/state_dict`.
public struct CellModel {
    /// Why a cell's model cannot be rebuilt: the file and what is wrong.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public var trialID: String
    public var model: ResolvedModel
    public var experiment: ResolvedExperiment
    /// The trained parameters and buffers, by state-dict key.
    public var state: [String: Tensor]

    /// Reads `path` (a cell of a results folder). The stored experiment file is resolved with
    /// the overrides of its run (from the results index beside `cells/`, where present); paths
    /// in it are relative to where the run read it.
    public static func read(_ path: String) throws(Failure) -> CellModel {
        func fail(_ message: String) -> Failure { Failure(description: "\(path): \(message)") }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        let trialID: String, modelName: String, sources: [(path: String, text: String)], experimentName: String
        do {
            let file = try HDF5File.open(path)
            defer { file.close() }
            guard case .string(let id)? = try? file.attribute("trial_id"), case .string(let model)? = try? file.attribute("model") else {
                throw fail("not a Gauntlet cell file (no trial_id and model attributes)")
            }
            if case .string(let status)? = try? file.attribute("status"), status != "completed" {
                throw fail("the trial did not complete (status \(status)); its weights are not a trained model")
            }
            guard file.exists("/state_dict") else {
                throw fail("has no /state_dict: the run stored no weights (store: {weights: true} keeps them)")
            }
            trialID = id
            modelName = model
            if case .string(let name)? = try? file.attribute("experiment") { experimentName = name } else { experimentName = "" }
            sources = zip(try file.readStrings("/spec_sources/path"), try file.readStrings("/spec_sources/text")).map { ($0, $1) }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw fail("\(error)")
        }
        var overrides: [String] = []
        let index = URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("\(experimentName).h5").path
        if !experimentName.isEmpty, FileManager.default.fileExists(atPath: index), let file = try? HDF5File.open(index) {
            if file.exists("/overrides"), let stored = try? file.readStrings("/overrides") { overrides = stored.filter { !$0.isEmpty } }
            file.close()
        }
        let grid: ResolvedGrid
        do { grid = try ResolvedGrid.resolve(try SpecDocument.parse(stored: sources, overrides: overrides)) } catch {
            throw fail("its stored experiment file does not resolve here: \(error.issues.map(\.description).joined(separator: "; "))")
        }
        // The cell's own trial; a grid changed since the run falls back to a trial of the model's name.
        guard
            let trial = grid.trials.first(where: { $0.trial.id == trialID })
                ?? grid.trials.first(where: { $0.trial.modelName == modelName })
        else { throw fail("its stored experiment has no model '\(modelName)'") }
        let model = trial.model
        let state: [String: Tensor]
        do { state = try StateDictFile.read(path) } catch { throw Failure(description: error.description) }
        return CellModel(trialID: trialID, model: model, experiment: trial.experiment, state: state)
    }

    /// The model with the cell's weights.
    public func build() throws(Failure) -> Sequential {
        var rng = RandomSource(seed: 0)
        do {
            let built = try model.build(inputShape: experiment.dataset.sampleShape, normalization: experiment.normalization, rng: &rng)
            try built.loadStateDict(state)
            return built
        } catch {
            throw Failure(description: "model '\(model.name)': \(error)")
        }
    }
}
