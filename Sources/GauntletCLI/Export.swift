import ArgumentParser
import Catalog
import Datasets
import Foundation
import Layers
import Onnx
import Results
import Tensors

/// `gauntlet export SOURCE --onnx OUT.onnx`: a trained model as an ONNX file.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained model as an ONNX file (opset 17) that onnxruntime and other frameworks load.",
        discussion: """
            SOURCE is a cell file of a results folder (results/NAME/cells/ID.h5, run with stored weights), \
            or an experiment file with --model and --weights (a cell or a state-dict HDF5 file). The ONNX \
            model takes [batch, sample shape] pixels in [0, 1] (the normalisation is inside it) and gives \
            the model's outputs (logits). A model imported from ONNX is written as its own file with the \
            trained initialisers.
            """)

    @Argument(help: "A cell file (.h5) or an experiment file (.yaml).")
    var source: String

    @Option(help: "The ONNX file to write.")
    var onnx: String

    @Option(help: "For an experiment file: the model to export (needed when it has several).")
    var model: String?

    @Option(help: "For an experiment file: the HDF5 file with the trained weights under /state_dict (a cell, or a converted PyTorch state dict).")
    var weights: String?

    func run() throws {
        let lowered = source.lowercased()
        let resolved: ResolvedModel, built: Sequential, state: [(key: String, value: Tensor)]
        do {
            if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") {
                (resolved, built) = try fromExperiment()
            } else {
                if model != nil || weights != nil { throw ValidationError("--model and --weights go with an experiment file; a cell file holds both") }
                let cell = try CellModel.read(source)
                resolved = cell.model
                built = try cell.build()
            }
            state = built.stateDict()
        } catch let failure as CellModel.Failure {
            Diagnostics.printError("error: \(failure)")
            throw ExitCode(1)
        } catch let failure as StateDictFile.Failure {
            Diagnostics.printError("error: \(failure)")
            throw ExitCode(1)
        } catch let failure as ExportFailure {
            Diagnostics.printError("error: \(failure.message)")
            throw ExitCode(1)
        }
        let written = Result { () throws(OnnxError) in
            if let file = resolved.onnxFile {
                try OnnxExport.write(try OnnxExport.updatingInitializers(of: file, with: state), to: onnx)
            } else {
                try OnnxExport.write(built, name: resolved.name, to: onnx, producerVersion: Gauntlet.configuration.version)
            }
        }
        if case let .failure(error) = written {
            Diagnostics.printError("error: \(error)")
            throw ExitCode(1)
        }
        print(
            "\(onnx): model '\(resolved.name)', \(built.parameterCount) parameters, input [batch, \(built.inputShape.map(String.init).joined(separator: ", "))]"
        )
    }

    struct ExportFailure: Error {
        var message: String
    }

    func fromExperiment() throws -> (ResolvedModel, Sequential) {
        let grid = try Diagnostics.resolve(source, overrides: [])
        guard let experiment = grid.trials.first?.experiment else { throw ValidationError("\(source) has no cells") }
        let names = experiment.models.map(\.name)
        guard let resolved = model.map({ name in experiment.models.first { $0.name == name } }) ?? (names.count == 1 ? experiment.models.first : nil) else {
            throw ValidationError(
                model == nil
                    ? "\(source) has several models; pick one with --model (\(names.joined(separator: ", ")))"
                    : "no model '\(model!)' in \(source); its models: \(names.joined(separator: ", "))")
        }
        guard let path = weights ?? resolved.weights ?? resolved.onnxFile.map({ _ in "" }) else {
            throw ValidationError("model '\(resolved.name)' has no trained weights: give --weights (a cell file of a run, or a state-dict HDF5 file)")
        }
        var rng = RandomSource(seed: 0)
        let built = try resolved.build(inputShape: experiment.dataset.sampleShape, normalization: experiment.normalization, rng: &rng)
        if !path.isEmpty {
            do { try built.loadStateDict(try StateDictFile.read(path)) } catch let error as ModelError {
                throw ExportFailure(message: "model '\(resolved.name)': weights \(path): \(error)")
            }
        }
        return (resolved, built)
    }
}
