import ArgumentParser
import Foundation
@testable import GauntletCLI
import Layers
import Onnx
import Results
import Storage
import Tensors
import Testing

/// `gauntlet export` and `gauntlet inspect`.
@Suite struct ModelFileCommandTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../OnnxTests/Fixtures/resnet-opset17/model.onnx").standardizedFileURL.path

    /// A trained cell's model written as ONNX gives the cell's model's logits; so does the same
    /// model exported from the experiment file with the cell as weights.
    @Test func exportWritesTheTrainedModel() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("smoke.yaml", syntheticExperiment)
        var run = try Gauntlet.parseAsRoot(["run", spec, "--output", "\(workspace.directory)/results", "--in-process", "--quiet"])
        try run.run()
        let index = try HDF5File.open("\(workspace.directory)/results/synthetic_smoke/synthetic_smoke.h5")
        var rng = RandomSource(seed: 5)
        let input = Tensor.uniform(shape: [4, 1, 8, 8], low: 0, high: 1, using: &rng)
        for name in ["mlp", "cnn"] {
            let cell = "\(workspace.directory)/results/synthetic_smoke/cells/\(try trialGroup(name, in: index).dropFirst("/cells/".count)).h5"
            let trained = try CellModel.read(cell).build()
            let stored = try StateDictFile.read(cell)
            for (key, value) in trained.stateDict() { #expect(stored[key] == value, "\(name): \(key)") }
            let output = "\(workspace.directory)/\(name).onnx"
            var export = try Gauntlet.parseAsRoot(["export", cell, "--onnx", output])
            try export.run()
            let imported = try OnnxModel.load(path: output).makeModel()
            #expect(imported.logits(input).maxAbsDifference(trained.logits(input)) < 1e-5, "\(name)")

            let fromSpec = "\(workspace.directory)/\(name)-spec.onnx"
            export = try Gauntlet.parseAsRoot(["export", spec, "--model", name, "--weights", cell, "--onnx", fromSpec])
            try export.run()
            #expect(try OnnxModel.load(path: fromSpec).makeModel().logits(input).maxAbsDifference(trained.logits(input)) < 1e-5)
        }
        // Files that hold no trained model: one error each, nothing written.
        let nowhere = "\(workspace.directory)/nothing.onnx"
        for arguments in [
            ["export", "\(workspace.directory)/results/synthetic_smoke/synthetic_smoke.h5", "--onnx", nowhere],
            ["export", "\(workspace.directory)/missing.h5", "--onnx", nowhere],
        ] {
            var command = try Gauntlet.parseAsRoot(arguments)
            #expect(throws: ExitCode.failure, "\(arguments)") { try command.run() }
        }
        // Usage problems: several models and none picked; no weights for the model.
        for arguments in [["export", spec, "--onnx", nowhere], ["export", spec, "--model", "cnn", "--onnx", nowhere]] {
            var command = try Gauntlet.parseAsRoot(arguments)
            #expect(throws: ValidationError.self, "\(arguments)") { try command.run() }
        }
        #expect(!FileManager.default.fileExists(atPath: nowhere))
    }

    /// The node table of an imported ResNet: op types, shapes, parameters (weights counted in
    /// the node that reads them) and FLOPs from the shapes by hand.
    @Test func inspectShowsAnOnnxModel() throws {
        let text = try Inspect.render(onnx: Self.fixture, sampleShape: nil, dotOnly: false)
        let rows = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        // The first convolution: 1 → 8 channels, 3×3, on 28×28: 8·784·9 MACs, 8·9 + 8 parameters.
        #expect(rows.contains(["/conv1/Conv", "Conv", "8×28×28", "80", "0.113"]))
        // The projection shortcut: 8 → 16 channels, 1×1, stride 2: 16·196·8 MACs, 128 + 16 parameters.
        #expect(rows.contains(["/layer2/shortcut/shortcut.0/Conv", "Conv", "16×14×14", "144", "0.050"]))
        #expect(rows.contains(["/fc/Gemm", "Gemm", "10", "170", "0.000"]))
        #expect(text.contains("input 'image' [batch, 1, 28, 28], output 'logits'"))
        #expect(text.contains("5050 parameters"))
        let dot = try Inspect.render(onnx: Self.fixture, sampleShape: nil, dotOnly: true)
        #expect(dot.hasPrefix("digraph \"model\" {"))
        #expect(dot.contains("input -> layer") && !dot.contains("fc.weight"))
        #expect(throws: OnnxError.self) { try Inspect.render(onnx: Self.fixture, sampleShape: [3, 32, 32], dotOnly: false) }
    }
}
