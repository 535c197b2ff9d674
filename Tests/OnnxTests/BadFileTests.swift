import Foundation
import Layers
import OnnxProto
import SwiftProtobuf
import Tensors
import Testing

@testable import Onnx

/// Files that are not models Gauntlet can run: each gives one line naming the file (and the
/// node where there is one), at import, before anything runs.
struct BadFileTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// A one-input graph of `nodes` (x: [batch, 4] float), output `y`, opset 17.
    static func model(_ nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto] = [], inputShape: [Int64?] = [nil, 4]) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        input.type.tensorType.elemType = 1
        input.type.tensorType.shape.dim = inputShape.map { extent in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let extent { dim.dimValue = extent } else { dim.dimParam = "batch" }
            return dim
        }
        var output = Onnx_ValueInfoProto()
        output.name = "y"
        model.graph.input = [input]
        model.graph.output = [output]
        model.graph.node = nodes
        model.graph.initializer = initializers
        return model
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "") -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.input = inputs
        node.output = outputs
        node.name = name
        return node
    }

    func write(_ model: Onnx_ModelProto, _ name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try model.serializedData().write(to: url)
        return url.path
    }

    func expectError(_ path: String, _ fragments: [String], sampleShape: [Int]? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try OnnxModel.load(path: path).makeModel(sampleShape: sampleShape)
            Issue.record("\(path) was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.file == path, sourceLocation: sourceLocation)
            #expect(!error.description.contains("\n"), "one line: \(error.description)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.description.contains(fragment), "'\(fragment)' not in: \(error.description)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func aValidGraphImports() throws {
        let path = try write(Self.model([Self.node("Relu", ["x"], ["y"])]), "relu.onnx")
        let model = try OnnxModel.load(path: path).makeModel()
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
        #expect(
            model.forward(tape.leaf(Tensor(shape: [2, 4], scalars: [-1, 2, -3, 4, 5, -6, 7, -8])), context: &context).value.scalars == [0, 2, 0, 4, 5, 0, 7, 0])
    }

    @Test func truncatedAndForeignFiles() throws {
        let fixture = WholeModelTests.fixtures.appendingPathComponent("resnet-opset17/model.onnx")
        let bytes = try Data(contentsOf: fixture)
        let truncated = folder.appendingPathComponent("truncated.onnx")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        expectError(truncated.path, ["is not an ONNX model"])
        let text = folder.appendingPathComponent("notes.onnx")
        try Data("these are not the weights you are looking for\n".utf8).write(to: text)
        expectError(text.path, ["is not an ONNX model"])
        expectError(folder.appendingPathComponent("absent.onnx").path, ["cannot be read"])
    }

    @Test func cyclesAndDanglingInputs() throws {
        let cycle = Self.model([Self.node("Relu", ["x", "b"], ["a"], name: "first"), Self.node("Add", ["a", "x"], ["b"]), Self.node("Relu", ["b"], ["y"])])
        expectError(try write(cycle, "cycle.onnx"), ["cycle"])
        let dangling = Self.model([Self.node("Add", ["x", "ghost"], ["y"], name: "adder")])
        expectError(try write(dangling, "dangling.onnx"), ["node 'adder' (Add) reads 'ghost'", "dangling"])
    }

    @Test func missingExternalData() throws {
        var weight = Onnx_TensorProto()
        weight.name = "w"
        weight.dataType = 1
        weight.dims = [4, 4]
        weight.dataLocation = .external
        var location = Onnx_StringStringEntryProto()
        location.key = "location"
        location.value = "weights.bin"
        weight.externalData = [location]
        let model = Self.model([Self.node("MatMul", ["x", "w"], ["y"])], initializers: [weight])
        let path = try write(model, "external.onnx")
        expectError(path, ["external data file 'weights.bin' is missing"])
        // Present, the file's bytes are the weights.
        let values = (0..<16).map { Float($0) }
        try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: folder.appendingPathComponent("weights.bin"))
        let imported = try OnnxModel.load(path: path).makeModel()
        #expect(imported.stateDict().first { $0.key == "w" }?.value.scalars == values)
    }

    @Test func unsupportedOpsNameNodeDomainAndOpset() throws {
        let custom = Self.model([Self.node("FancyOp", ["x"], ["y"], name: "mystery")])
        expectError(
            try write(custom, "custom.onnx"),
            ["node 'mystery' (FancyOp)", "domain 'ai.onnx'", "opset 17", "op FancyOp is not supported", "supported ops: Abs, Add"])
        var foreign = Self.node("Relu", ["x"], ["y"], name: "vendor")
        foreign.domain = "com.microsoft"
        expectError(try write(Self.model([foreign]), "foreign.onnx"), ["node 'vendor' (Relu)", "domain 'com.microsoft'"])
        var attribute = Onnx_AttributeProto()
        attribute.name = "ceil_mode"
        attribute.type = .int
        attribute.i = 1
        var pool = Self.node("MaxPool", ["x"], ["y"], name: "pool")
        attribute.name = "ceil_mode"
        var kernel = Onnx_AttributeProto()
        kernel.name = "kernel_shape"
        kernel.type = .ints
        kernel.ints = [2, 2]
        pool.attribute = [attribute, kernel]
        expectError(try write(Self.model([pool], inputShape: [nil, 1, 4, 4]), "pool.onnx"), ["node 'pool' (MaxPool)", "ceil_mode 1 is not supported"])
    }

    @Test func inputShapesAreCheckedAgainstTheSamples() throws {
        let path = try write(Self.model([Self.node("Relu", ["x"], ["y"])], inputShape: [nil, 3, 32, 32]), "cifar.onnx")
        expectError(path, ["input 'x' has shape [batch, 3, 32, 32]", "samples of 1×28×28"], sampleShape: [1, 28, 28])
    }

    /// A reshape to a constant batch of 1 (an export without a dynamic batch axis).
    @Test func batchOfOneOnlyIsRefused() throws {
        var shape = Onnx_TensorProto()
        shape.name = "shape"
        shape.dataType = 7
        shape.dims = [2]
        shape.int64Data = [1, -1]
        let model = Self.model([Self.node("Reshape", ["x", "shape"], ["y"], name: "flat")], initializers: [shape])
        expectError(try write(model, "batch1.onnx"), ["does not run a batch of independent samples", "dynamic_axes"])
    }
}
