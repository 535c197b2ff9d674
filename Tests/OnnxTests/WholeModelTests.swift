import Foundation
import Layers
import OnnxProto
import SwiftProtobuf
import Tensors
import Testing

@testable import Onnx

/// PyTorch models exported to ONNX (scripts/make_onnx_fixtures.py: a residual network, a ViT and
/// a depthwise-separable network, each by the TorchScript exporter at opset 17 and by
/// torch.export at opset 18): logits against PyTorch's and onnxruntime's, input gradients
/// against PyTorch's autograd, FGSM signs where the gradient is not tiny.
struct WholeModelTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func tensor(_ folder: URL, _ name: String) throws -> Tensor {
        let proto = try Onnx_TensorProto(serializedBytes: try Data(contentsOf: folder.appendingPathComponent(name)))
        return try OnnxValue.decode(proto) { _ in Data() }.value.tensor
    }

    @Test(arguments: ["resnet-opset17", "resnet-opset18", "vit-opset17", "vit-opset18", "separable-opset17", "separable-opset18"])
    func importedModelMatchesPyTorch(_ name: String) throws {
        let folder = Self.fixtures.appendingPathComponent(name)
        let imported = try OnnxModel.load(path: folder.appendingPathComponent("model.onnx").path)
        #expect(imported.input.name == "image")
        #expect(imported.input.shape.first == .some(nil), "the batch axis is symbolic")
        let model = try imported.makeModel()
        #expect(model.inputShape == [1, 28, 28])
        let input = try Self.tensor(folder, "input.pb")
        let logits = model.logits(input)
        let torch = try Self.tensor(folder, "logits.pb"), runtime = try Self.tensor(folder, "onnxruntime_logits.pb")
        #expect(logits.shape == [4, 10])
        #expect(logits.maxAbsDifference(torch) < 1e-4, "PyTorch: \(logits.maxAbsDifference(torch))")
        #expect(logits.maxAbsDifference(runtime) < 1e-4, "onnxruntime: \(logits.maxAbsDifference(runtime))")
        // One sample at a time gives the same logits (the batch axis is a batch).
        #expect(model.logits(input.slice(2..<3)).maxAbsDifference(logits.slice(2..<3)) < 1e-5)

        let tape = Tape()
        let leaf = tape.leaf(input, requiresGradient: true)
        var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
        let output = model.forward(leaf, context: &context)
        tape.backward(from: output, seed: try Self.tensor(folder, "projection.pb"))
        let gradient = try #require(tape.gradient(of: leaf))
        let reference = try Self.tensor(folder, "input_gradient.pb")
        let scale = reference.scalars.map(abs).max()!
        #expect(gradient.maxAbsDifference(reference) <= 1e-3 * scale, "input gradient: \(gradient.maxAbsDifference(reference)) of \(scale)")
        // FGSM's step is the gradient's sign: equal wherever the gradient is not tiny.
        let disagreements = zip(gradient.scalars, reference.scalars).filter { abs($1) > 1e-3 * scale && ($0 > 0) != ($1 > 0) }.count
        #expect(disagreements == 0)
    }

    /// Training updates the imported initializers (fine-tuning), keyed by their ONNX names.
    @Test func initializersAreTrainableParameters() throws {
        let folder = Self.fixtures.appendingPathComponent("resnet-opset17")
        let model = try OnnxModel.load(path: folder.appendingPathComponent("model.onnx").path).makeModel()
        let keys = model.stateDict().map(\.key)
        #expect(keys.contains("fc.weight") && keys.contains("fc.bias"))
        #expect(model.parameterCount > 5000)
        let input = try Self.tensor(folder, "input.pb")
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .training, rng: RandomSource(seed: 0), parametersRequireGradients: true)
        let loss = model.forward(tape.leaf(input), context: &context).crossEntropy(labels: [0, 1, 2, 3])
        tape.backward(from: loss)
        model.collectGradients(from: context)
        let fc = try #require(model.namedParameters.first { $0.key == "fc.weight" }?.parameter)
        let gradient = try #require(fc.gradient)
        #expect(gradient.shape == [10, 16])
        #expect(gradient.scalars.contains { $0 != 0 })
    }
}

extension WholeModelTests {
    /// A few optimizer steps on one batch lower its loss: the imported weights train.
    @Test(arguments: ["resnet-opset17", "vit-opset18", "separable-opset17"])
    func fineTuningLowersTheLoss(_ name: String) throws {
        let folder = Self.fixtures.appendingPathComponent(name)
        let model = try OnnxModel.load(path: folder.appendingPathComponent("model.onnx").path).makeModel()
        let input = try Self.tensor(folder, "input.pb")
        let labels = [3, 1, 4, 1]
        let optimizer = Adam(spec: AdamSpec(lr: 0.01))
        var rng = RandomSource(seed: 1)
        let first = model.trainStep(images: input, labels: labels, optimizer: optimizer, rng: &rng)
        var last = first
        for _ in 0..<15 { last = model.trainStep(images: input, labels: labels, optimizer: optimizer, rng: &rng) }
        #expect(last < 0.5 * first, "loss \(first) → \(last)")
    }
}
