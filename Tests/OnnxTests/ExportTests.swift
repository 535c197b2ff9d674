import Catalog
import Datasets
import Foundation
import Layers
import OnnxProto
import SwiftProtobuf
import Tensors
import Testing

@testable import Onnx

/// Models written by `OnnxExport` and read back by the importer give the same logits and input
/// gradients. With `GAUNTLET_EXPORT_DIR` set, each model is also left there as `NAME/model.onnx`
/// with `input.pb` and Gauntlet's `output.pb`, for `scripts/check_onnx_export.py` to run in
/// onnxruntime.
struct ExportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every exportable kind in one graph: branches, merges, both normalisations and pools,
    /// attention, token layers and all activations.
    static var everyKind: [ModelNode] {
        [
            ModelNode(name: "stem", spec: Conv2dSpec(outChannels: 8, kernelSize: 3, padding: 1)),
            ModelNode(name: "bn", spec: BatchNorm2dSpec()),
            ModelNode(name: "act", spec: LeakyReLUSpec(negativeSlope: 0.1)),
            ModelNode(name: "dw", spec: Conv2dSpec(outChannels: 8, kernelSize: 3, padding: 2, dilation: 2, groups: 8)),
            ModelNode(name: "gn", spec: GroupNormSpec(numGroups: 2)),
            ModelNode(name: "hs", spec: HardswishSpec()),
            ModelNode(name: "mul", spec: MultiplySpec(), inputs: ["act", "hs"]),
            ModelNode(name: "cat", spec: ConcatSpec(), inputs: ["mul", "stem"]),
            ModelNode(name: "avg", spec: AvgPool2dSpec(kernelSize: 3, stride: 2, padding: 1)),
            ModelNode(name: "max", spec: MaxPool2dSpec(kernelSize: 2), inputs: ["cat"]),
            ModelNode(name: "asym", spec: Conv2dSpec(outChannels: 16, kernelSize: 2, pads: [0, 1, 1, 0]), inputs: ["max"]),
            ModelNode(name: "sum", spec: AddSpec(), inputs: ["avg", "asym"]),
            ModelNode(name: "ada", spec: AdaptiveAvgPool2dSpec(outputSize: 2)),
            ModelNode(name: "tok", spec: ReshapeSpec(shape: [16, 4])),
            ModelNode(name: "perm", spec: PermuteSpec(dims: [1, 0])),
            ModelNode(name: "ln", spec: LayerNormSpec()),
            ModelNode(name: "mha", spec: MultiheadAttentionSpec(heads: 2)),
            ModelNode(name: "gelu", spec: GELUSpec(approximate: .tanh)),
            ModelNode(name: "silu", spec: SiLUSpec()),
            ModelNode(name: "q", spec: LinearSpec(outFeatures: 4), inputs: ["ln"]),
            ModelNode(name: "mm", spec: MatMulSpec(), inputs: ["q", "q"]),
            ModelNode(name: "join", spec: ConcatSpec(dim: 1), inputs: ["silu", "mm"]),
            ModelNode(name: "lin", spec: LinearSpec(outFeatures: 8)),
            ModelNode(name: "erf", spec: GELUSpec()),
            ModelNode(name: "sig", spec: SigmoidSpec()),
            ModelNode(name: "tanh", spec: TanhSpec(), inputs: ["lin"]),
            ModelNode(name: "both", spec: AddSpec(), inputs: ["sig", "tanh", "erf"]),
            ModelNode(name: "pick", spec: GatherSpec(dim: 0, indices: [3, 0])),
            ModelNode(name: "cut", spec: SliceSpec(dim: 1, start: 1, end: 7)),
            ModelNode(name: "soft", spec: SoftmaxSpec()),
            ModelNode(name: "flat", spec: FlattenSpec()),
            ModelNode(name: "bn1", spec: BatchNorm1dSpec()),
            ModelNode(name: "relu", spec: ReLUSpec()),
            ModelNode(name: "drop", spec: DropoutSpec(p: 0.3)),
            ModelNode(name: "fc", spec: LinearSpec(outFeatures: 5)),
        ]
    }

    /// The quickstart's two models as the experiment file declares them, a built-in ResNet-20,
    /// a ViT with class token and position embedding, and every kind in one graph.
    static func models() throws -> [(String, Sequential)] {
        let grid = try ResolvedGrid.load(root.appendingPathComponent("experiments/quickstart.yaml").path)
        let experiment = try #require(grid.trials.first?.experiment)
        var rng = RandomSource(seed: 7)
        var models: [(String, Sequential)] = []
        for resolved in experiment.models {
            models.append(
                (
                    "quickstart-\(resolved.name)",
                    try resolved.build(inputShape: experiment.dataset.sampleShape, normalization: experiment.normalization, rng: &rng)
                ))
        }
        let cifar = InputNormalization(mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26])
        models.append(
            (
                "resnet20",
                try Sequential(
                    nodes: ResNetSpec(depth: 20, width: 4).nodes(inputShape: [3, 32, 32], outputs: 10), inputShape: [3, 32, 32], normalization: cifar, rng: &rng
                )
            ))
        models.append(
            (
                "vit",
                try Sequential(
                    nodes: VisionTransformerSpec(patch: 7, dim: 16, depth: 2, heads: 2, dropout: 0.1, attentionDropout: 0.1).nodes(
                        inputShape: [1, 28, 28], outputs: 10),
                    inputShape: [1, 28, 28], rng: &rng)
            ))
        models.append(("every-kind", try Sequential(nodes: everyKind, inputShape: [3, 12, 12], rng: &rng)))
        // Batch norm's statistics and affine parameters away from their initial values, so that a
        // mix-up between them shows.
        for (_, model) in models {
            for (_, _, layer) in model.layers {
                for buffer in layer.buffers where buffer.name == "running_mean" || buffer.name == "running_var" {
                    let values = Tensor.uniform(
                        shape: buffer.value.shape, low: buffer.name == "running_mean" ? -0.5 : 0.5, high: buffer.name == "running_mean" ? 0.5 : 2, using: &rng)
                    try layer.setBuffer(buffer.name, to: values)
                }
                for parameter in layer.parameters where parameter.value.shape.count == 1 {
                    parameter.value = Tensor.uniform(shape: parameter.value.shape, low: 0.5, high: 1.5, using: &rng)
                }
            }
        }
        return models
    }

    @Test func exportedModelsRoundTrip() throws {
        let keep = ProcessInfo.processInfo.environment["GAUNTLET_EXPORT_DIR"]
        let folder = URL(fileURLWithPath: keep ?? NSTemporaryDirectory()).appendingPathComponent(keep == nil ? "gauntlet-export-\(UUID())" : "")
        defer { if keep == nil { try? FileManager.default.removeItem(at: folder) } }
        var rng = RandomSource(seed: 11)
        for (name, model) in try Self.models() {
            let directory = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("model.onnx").path
            try OnnxExport.write(model, name: name, to: path)
            let input = Tensor.uniform(shape: [3] + model.inputShape, low: 0, high: 1, using: &rng)
            let logits = model.logits(input)

            let imported = try OnnxModel.load(path: path)
            #expect(imported.opset == 17)
            #expect(imported.input.name == "input" && imported.input.shape == [nil] + model.inputShape.map { $0 }, "\(name): \(imported.input.shapeText)")
            let again = try imported.makeModel()
            // The state dict keeps Gauntlet's keys as initialiser names.
            let keys = Set(again.stateDict().map(\.key))
            for (key, _) in model.stateDict() where !key.hasSuffix("num_batches_tracked") {
                #expect(keys.contains(key), "\(name): initialiser \(key)")
            }
            let roundTrip = again.logits(input)
            let scale = max(1, logits.scalars.map(abs).max()!)
            #expect(roundTrip.shape == logits.shape)
            #expect(roundTrip.maxAbsDifference(logits) <= 1e-5 * scale, "\(name): logits differ by \(roundTrip.maxAbsDifference(logits))")

            // Input gradients of the exported graph equal the model's.
            func inputGradient(_ model: Sequential) throws -> Tensor {
                let tape = Tape()
                let leaf = tape.leaf(input, requiresGradient: true)
                var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
                let output = model.forward(leaf, context: &context)
                tape.backward(from: output.crossEntropy(labels: [0, 1, 2]))
                return try #require(tape.gradient(of: leaf))
            }
            let expected = try inputGradient(model), got = try inputGradient(again)
            let gradientScale = expected.scalars.map(abs).max()!
            #expect(
                got.maxAbsDifference(expected) <= 1e-4 * gradientScale,
                "\(name): input gradients differ by \(got.maxAbsDifference(expected)) of \(gradientScale)")

            let inputData: Data = try GraphWriter.tensor("input", input.scalars, dims: input.shape).serializedBytes()
            let outputData: Data = try GraphWriter.tensor("output", logits.scalars, dims: logits.shape).serializedBytes()
            try inputData.write(to: directory.appendingPathComponent("input.pb"))
            try outputData.write(to: directory.appendingPathComponent("output.pb"))
        }
    }

    /// A fine-tuned imported model is written as its own file with the new initialisers.
    @Test func importedModelKeepsItsFileWithNewWeights() throws {
        let source = Self.root.appendingPathComponent("Tests/OnnxTests/Fixtures/separable-opset17/model.onnx").path
        let model = try OnnxModel.load(path: source).makeModel()
        var rng = RandomSource(seed: 3)
        for parameter in model.namedParameters.map(\.parameter) {
            parameter.value = parameter.value + Tensor.uniform(shape: parameter.value.shape, low: -0.1, high: 0.1, using: &rng)
        }
        let path = NSTemporaryDirectory() + "gauntlet-updated-\(UUID()).onnx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try OnnxExport.write(try OnnxExport.updatingInitializers(of: source, with: model.stateDict()), to: path)
        let input = Tensor.uniform(shape: [2, 1, 28, 28], low: 0, high: 1, using: &rng)
        let reread = try OnnxModel.load(path: path).makeModel()
        #expect(reread.logits(input).maxAbsDifference(model.logits(input)) < 1e-6)
        #expect(throws: OnnxError.self) { try OnnxExport.updatingInitializers(of: source, with: [("no.such.key", Tensor(shape: [1]))]) }
    }

    /// A layer with no ONNX form is refused with its name; nothing is written.
    @Test func unsupportedLayerIsRefused() throws {
        struct Custom: LayerSpec, Equatable {
            static let kind = "custom"
            static let summary = "test"
            static let defaults: [String: String] = [:]
            func problems() -> [String] { [] }
            func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] { inputShape }
            func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { ReLU() }
        }
        var rng = RandomSource(seed: 0)
        let model = try Sequential(layers: [("odd", Custom())], inputShape: [4], rng: &rng)
        let path = NSTemporaryDirectory() + "gauntlet-refused-\(UUID()).onnx"
        #expect {
            try OnnxExport.write(model, name: "m", to: path)
        } throws: { error in
            "\(error)".contains("layer 'odd' (custom) has no ONNX form")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
