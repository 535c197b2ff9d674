import Foundation
import Layers
import OnnxProto
import SwiftProtobuf
import Tensors

/// The nodes of an imported graph and its constants, shared by its layers: shape arithmetic
/// that depends on the batch is evaluated here once the shapes are known.
final class OnnxProgram: @unchecked Sendable {
    let file: String
    /// The default domain's opset.
    let opset: Int
    let nodes: [OnnxNode]
    /// The node producing each value, by value name.
    let producer: [String: Int]
    /// Initializers and values folded at import.
    let constants: [String: OnnxValue]
    /// The shapes of the initializers that are nodes (parameters and buffers).
    let initializerShapes: [String: [Int]]

    init(file: String, opset: Int, nodes: [OnnxNode], constants: [String: OnnxValue], initializerShapes: [String: [Int]]) {
        self.file = file
        self.opset = opset
        self.nodes = nodes
        var producer: [String: Int] = [:]
        for (index, node) in nodes.enumerated() { for output in node.outputs where !output.isEmpty { producer[output] = index } }
        self.producer = producer
        self.constants = constants
        self.initializerShapes = initializerShapes
    }

    /// The constant `name`, computed from constants and the shapes of the tensors in
    /// `leafShapes` (values of the pass whose shapes shape arithmetic reads).
    func evaluate(_ name: String, leafShapes: [String: [Int]]) throws -> OnnxValue {
        var memo: [String: OnnxValue] = [:]
        func value(_ name: String) throws -> OnnxValue {
            if let v = constants[name] ?? memo[name] { return v }
            guard let index = producer[name] else { throw Unsupported("value '\(name)' is not a constant") }
            let node = nodes[index]
            let shapeOnly = OnnxStatic.shapeOnly.contains(node.opType)
            var values: [OnnxValue?] = []
            var shapes: [[Int]?] = []
            for input in node.inputs {
                guard !input.isEmpty else {
                    values.append(nil)
                    shapes.append(nil)
                    continue
                }
                if shapeOnly {
                    let shape = try leafShapes[input] ?? initializerShapes[input] ?? value(input).shape
                    values.append(nil)
                    shapes.append(shape)
                } else {
                    let v = try value(input)
                    values.append(v)
                    shapes.append(v.shape)
                }
            }
            let outputs = try Self.fold(node, opset: opset, values: values, shapes: shapes)
            for (output, v) in zip(node.outputs, outputs) { memo[output] = v }
            guard let v = memo[name] else { throw Unsupported("\(node.described) gives no value '\(name)'") }
            return v
        }
        return try value(name)
    }

    /// A node's outputs from constant inputs: shape arithmetic in `OnnxStatic`, any other op
    /// through its layer on float constants.
    static func fold(_ node: OnnxNode, opset: Int, values: [OnnxValue?], shapes: [[Int]?]) throws -> [OnnxValue] {
        if OnnxStatic.ops.contains(node.opType) {
            let integerInputs = values.contains { $0 != nil && $0!.type != .float }
            let structural = [
                "Constant", "Identity", "Shape", "Size", "Cast", "Gather", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Range", "Expand",
                "ConstantOfShape", "Slice", "Transpose", "Flatten", "Where", "Equal", "Less", "Greater", "Not", "ReduceProd", "Mod",
            ]
            if integerInputs || structural.contains(node.opType) || OnnxOperators.attributes[node.opType] == nil {
                return try OnnxStatic.evaluate(node, opset: opset, values: values, shapes: shapes)
            }
        }
        try OnnxOperators.check(node, opset: opset)
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
        let operands = values.map { Operand(variable: nil, constant: $0) }
        return try node.outputs.indices.map { output in
            OnnxValue(try OnnxOperators.forward(node, opset: opset, output: output, operands: operands, context: &context).value)
        }
    }
}

/// The input an imported model declares.
public struct OnnxModelInput: Sendable, Equatable {
    public var name: String
    /// Each axis's extent, or nil for a symbolic one (its name in `symbols`).
    public var shape: [Int?]
    public var symbols: [String?]

    /// `[batch, 1, 28, 28]`-style text, symbolic axes by name.
    public var shapeText: String {
        "[" + zip(shape, symbols).map { extent, symbol in extent.map(String.init) ?? symbol ?? "?" }.joined(separator: ", ") + "]"
    }
}

/// An ONNX model imported as a graph of Gauntlet layers (`Sequential`): every initializer read
/// by the model's tensors is a node (trainable, or a buffer for batch norm statistics) keyed by
/// its ONNX name; every other node's output is a layer named after the ONNX node; shape
/// arithmetic is folded at import where constant.
public final class OnnxModel: @unchecked Sendable {
    public let file: String
    public let input: OnnxModelInput
    public let outputName: String
    /// The default domain's opset.
    public let opset: Int
    public let producer: String
    /// Initializers stored in another floating-point type, converted to Float32, with counts by type.
    public let conversions: [String: Int]
    /// The graph as layer nodes, in an order where each comes after those it reads.
    public let nodes: [ModelNode]

    /// Reads and checks `path`. `bind` gives constant values to graph inputs after the first
    /// (the importer runs models of one input); `output` picks one of several graph outputs.
    public static func load(path: String, bind: [String: OnnxValue] = [:], output: String? = nil) throws(OnnxError) -> OnnxModel {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw OnnxError(file: path, "cannot be read: \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
        }
        let proto: Onnx_ModelProto
        do { proto = try Onnx_ModelProto(serializedBytes: data) } catch {
            throw OnnxError(file: path, "is not an ONNX model (its protobuf does not parse: \(error))")
        }
        do {
            return try OnnxModel(proto: proto, file: path, directory: url.deletingLastPathComponent(), bind: bind, output: output)
        } catch let error as Unsupported {
            throw OnnxError(file: path, error.message)
        } catch let error as OnnxError {
            throw error
        } catch {
            throw OnnxError(file: path, "\(error)")
        }
    }

    init(proto: Onnx_ModelProto, file: String, directory: URL, bind: [String: OnnxValue], output chosen: String?) throws {
        self.file = file
        guard proto.hasGraph, !proto.graph.node.isEmpty || !proto.graph.output.isEmpty else {
            throw Unsupported("is not an ONNX model (it has no graph)")
        }
        let graph = proto.graph
        var opset: Int?
        for entry in proto.opsetImport {
            if entry.domain.isEmpty || entry.domain == "ai.onnx" { opset = Int(entry.version) }
        }
        // Older opsets are read where an op's meaning is the same: the attributes that changed
        // it (legacy broadcast, consumed_inputs, is_test) are refused by `OnnxOperators.check`.
        guard let opset else { throw Unsupported("declares no opset of the default ONNX domain") }
        guard (1...23).contains(opset) else { throw Unsupported("opset \(opset) is not supported (1 to 23 are)") }
        self.opset = opset
        self.producer = [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")

        // Initializers (external data read beside the file).
        var conversions: [String: Int] = [:]
        func decode(_ tensor: Onnx_TensorProto) throws -> OnnxValue {
            let (value, converted) = try OnnxValue.decode(tensor) { external in
                let path = directory.appendingPathComponent(external.location).standardizedFileURL
                guard path.path.hasPrefix(directory.standardizedFileURL.path), !external.location.hasPrefix("/") else {
                    throw Unsupported("tensor '\(tensor.name)': external data location '\(external.location)' is outside the model's folder")
                }
                guard let handle = try? FileHandle(forReadingFrom: path) else {
                    throw Unsupported("tensor '\(tensor.name)': external data file '\(external.location)' is missing")
                }
                defer { try? handle.close() }
                try handle.seek(toOffset: UInt64(external.offset))
                let bytes = try external.length.map { try handle.read(upToCount: $0) ?? Data() } ?? handle.readToEnd() ?? Data()
                if let length = external.length, bytes.count != length {
                    throw Unsupported("tensor '\(tensor.name)': external data file '\(external.location)' ends before offset \(external.offset) + \(length)")
                }
                return bytes
            }
            if let converted { conversions[converted, default: 0] += 1 }
            return value
        }
        var initializers: [String: OnnxValue] = [:]
        for tensor in graph.initializer {
            guard !tensor.name.isEmpty else { throw Unsupported("an initializer has no name") }
            initializers[tensor.name] = try decode(tensor)
        }
        for (name, value) in bind { initializers[name] = value }

        // The input: the first graph input that is not an initializer.
        let inputs = graph.input.filter { initializers[$0.name] == nil }
        guard let input = inputs.first else { throw Unsupported("has no input (every graph input is an initializer)") }
        if inputs.count > 1 {
            throw Unsupported("has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); Gauntlet runs models of one input")
        }
        guard input.type.tensorType.elemType == OnnxDataType.float.rawValue || !input.type.tensorType.hasElemType else {
            throw Unsupported("input '\(input.name)' has element type \(OnnxDataType.name(of: input.type.tensorType.elemType)); Gauntlet feeds float inputs")
        }
        let dims = input.type.tensorType.shape.dim
        self.input = OnnxModelInput(
            name: input.name,
            shape: dims.map { dim in
                if case let .dimValue(extent)? = dim.value, extent > 0 { return Int(extent) }
                return nil
            },
            symbols: dims.map { dim in
                if case let .dimParam(symbol)? = dim.value { return symbol }
                return nil
            })
        guard let first = graph.output.first else { throw Unsupported("has no output") }
        let output: Onnx_ValueInfoProto
        if let chosen {
            guard let match = graph.output.first(where: { $0.name == chosen }) else {
                throw Unsupported("has no output '\(chosen)'; its outputs: \(graph.output.map(\.name).joined(separator: ", "))")
            }
            output = match
        } else if graph.output.count > 1 {
            throw Unsupported(
                "has \(graph.output.count) outputs (\(graph.output.map(\.name).joined(separator: ", "))); name the one Gauntlet runs (output:)")
        } else {
            output = first
        }
        self.outputName = output.name

        // Nodes, their attributes decoded; each value produced once.
        var allNodes: [OnnxNode] = []
        var producerOf: [String: Int] = [:]
        for proto in graph.node {
            let node = try OnnxNode(proto, decode: decode)
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw Unsupported("\(node.described): domain '\(node.domain)' is not supported (only the default ONNX domain, opset \(opset))")
            }
            for name in node.outputs where !name.isEmpty {
                guard producerOf[name] == nil, initializers[name] == nil, name != input.name else {
                    throw Unsupported("\(node.described): value '\(name)' is produced more than once")
                }
                producerOf[name] = allNodes.count
            }
            allNodes.append(node)
        }

        // The nodes the output depends on, in an order where each comes after its inputs
        // (depth first from the output, so the output's node is last); cycles and dangling
        // inputs are refused.
        var order: [Int] = []
        var state = [UInt8](repeating: 0, count: allNodes.count)  // 0 new, 1 on the path, 2 done
        guard let last = producerOf[output.name] else {
            throw Unsupported("output '\(output.name)' is not computed by any node")
        }
        var stack: [(node: Int, next: Int)] = [(last, 0)]
        state[last] = 1
        while let top = stack.last {
            let node = allNodes[top.node]
            if top.next < node.inputs.count {
                stack[stack.count - 1].next += 1
                let name = node.inputs[top.next]
                if name.isEmpty || name == input.name || initializers[name] != nil { continue }
                guard let source = producerOf[name] else {
                    throw Unsupported("\(node.described) reads '\(name)', which no node, initializer or input gives (a dangling input)")
                }
                if state[source] == 1 { throw Unsupported("the graph has a cycle through \(allNodes[source].described)") }
                if state[source] == 0 {
                    state[source] = 1
                    stack.append((source, 0))
                }
            } else {
                state[top.node] = 2
                order.append(top.node)
                stack.removeLast()
            }
        }
        let nodes = order.map { allNodes[$0] }

        // Which values are constants (known at import, or from shapes alone) and which are
        // tensors of the pass; which initializers are nodes.
        let weightSlots: [String: Set<Int>] = [
            "Conv": [1, 2], "Gemm": [1, 2], "BatchNormalization": [1, 2, 3, 4], "LayerNormalization": [1, 2], "MatMul": [0, 1], "PRelu": [1],
        ]
        var bufferNames: Set<String> = []
        var parameterNames: Set<String> = []
        for node in nodes {
            for (slot, name) in node.inputs.enumerated() where !name.isEmpty {
                guard let value = initializers[name], bind[name] == nil, value.type == .float else { continue }
                if OnnxStatic.shapeOnly.contains(node.opType) { continue }
                if node.opType == "BatchNormalization" && slot >= 3 {
                    bufferNames.insert(name)
                } else if weightSlots[node.opType]?.contains(slot) == true || value.count > 1 {
                    parameterNames.insert(name)
                }
            }
        }
        bufferNames.subtract(parameterNames)
        let nodeInitializers = parameterNames.union(bufferNames)
        var constants = initializers.filter { !nodeInitializers.contains($0.key) }
        // For each constant not yet known: the pass's values whose shapes it reads.
        var leaves: [String: Set<String>] = [:]
        var isTensor: Set<String> = nodeInitializers.union([input.name])
        var batchShaped: Set<String> = [input.name]  // tensors whose shape can depend on the batch
        var constantNodes: Set<Int> = []
        for (index, node) in nodes.enumerated() {
            let present = node.inputs.filter { !$0.isEmpty }
            let isShapeOnly = OnnxStatic.shapeOnly.contains(node.opType)
            let readsTensor = present.contains { isTensor.contains($0) }
            if isShapeOnly || !readsTensor {
                guard OnnxStatic.ops.contains(node.opType) || OnnxOperators.attributes[node.opType] != nil else {
                    throw unsupported(node, opset: opset, "op \(node.opType) is not supported")
                }
                var reads: Set<String> = []
                for name in present {
                    if isTensor.contains(name) {
                        if batchShaped.contains(name) { reads.insert(name) }
                    } else {
                        reads.formUnion(leaves[name] ?? [])
                    }
                }
                constantNodes.insert(index)
                for output in node.outputs where !output.isEmpty { leaves[output] = reads }
            } else {
                do { try OnnxOperators.check(node, opset: opset) } catch let error as Unsupported {
                    throw unsupported(node, opset: opset, error.message)
                }
                for output in node.outputs where !output.isEmpty {
                    isTensor.insert(output)
                    batchShaped.insert(output)
                }
            }
        }
        guard isTensor.contains(output.name) else { throw Unsupported("output '\(output.name)' does not depend on the input") }
        let initializerShapes = Dictionary(uniqueKeysWithValues: nodeInitializers.map { ($0, initializers[$0]!.shape) })
        // Fold the constants that read no shapes of the pass.
        let folding = OnnxProgram(file: file, opset: opset, nodes: nodes, constants: constants, initializerShapes: initializerShapes)
        for index in constantNodes.sorted() {
            for name in nodes[index].outputs where !name.isEmpty && (leaves[name] ?? []).isEmpty {
                do { constants[name] = try folding.evaluate(name, leafShapes: [:]) } catch let error as Unsupported {
                    throw unsupported(nodes[index], opset: opset, error.message)
                }
            }
        }
        let program = OnnxProgram(file: file, opset: opset, nodes: nodes, constants: constants, initializerShapes: initializerShapes)
        self.conversions = conversions

        // Layer nodes: initializers first (sorted by name), then one per used output of each
        // node of the pass.
        var used: Set<String> = [output.name]
        for node in nodes { for name in node.inputs where !name.isEmpty { used.insert(name) } }
        var layerNodes: [ModelNode] = []
        var layerName: [String: String] = [input.name: ModelPlan.inputName]
        var taken: Set<String> = [ModelPlan.inputName]
        func unique(_ base: String) -> String {
            var name = base.isEmpty ? "node" : base
            var k = 1
            while taken.contains(name) {
                name = "\(base)_\(k)"
                k += 1
            }
            taken.insert(name)
            return name
        }
        for name in nodeInitializers.sorted() where used.contains(name) {
            let value = initializers[name]!
            let layer = unique(name)
            layerName[name] = layer
            layerNodes.append(
                ModelNode(name: layer, spec: OnnxInitializerSpec(value: value.tensor, trainable: parameterNames.contains(name)), inputs: []))
        }
        for (index, node) in nodes.enumerated() where !constantNodes.contains(index) {
            for (k, output) in node.outputs.enumerated() where !output.isEmpty && used.contains(output) {
                let base = node.outputs.count > 1 || node.name.isEmpty ? (node.name.isEmpty ? output : "\(node.name):\(k)") : node.name
                let name = unique(base)
                var reads: [String] = []
                func read(_ value: String) -> Int {
                    let layer = layerName[value]!
                    if let existing = reads.firstIndex(of: layer) { return existing }
                    reads.append(layer)
                    return reads.count - 1
                }
                var operands: [OperandSource] = []
                for value in node.inputs {
                    if value.isEmpty {
                        operands.append(.absent)
                    } else if isTensor.contains(value) {
                        operands.append(.input(read(value)))
                    } else if let constant = constants[value] {
                        operands.append(.constant(constant))
                    } else {
                        let names = (leaves[value] ?? []).sorted()
                        operands.append(.computed(value, leaves: names.map { (read($0), $0) }))
                    }
                }
                layerNodes.append(
                    ModelNode(name: name, spec: OnnxOperationSpec(program: program, nodeIndex: index, output: k, operands: operands), inputs: reads))
                layerName[output] = name
            }
        }
        self.nodes = layerNodes
    }

    /// The sample shape the model takes (batch axis dropped), where the file fixes it.
    public var sampleShape: [Int]? {
        guard input.shape.count >= 1 else { return nil }
        let rest = input.shape.dropFirst()
        return rest.contains(where: { $0 == nil }) ? nil : rest.map { $0! }
    }

    /// The model as layers for samples of `sampleShape` (batch axis excluded), which must fit
    /// the input the file declares. With `checksSampleIndependence`, two random samples run
    /// alone and as a batch of two must give the same outputs: Gauntlet splits batches over
    /// threads and runs attacks per sample, which needs the first axis to be a batch of
    /// independent samples (a file exported for batch 1 only fails here, with that reason).
    public func makeModel(
        sampleShape: [Int]? = nil, normalization: InputNormalization? = nil, checksSampleIndependence: Bool = true,
        planningBatch: Int = 1
    ) throws(OnnxError) -> Sequential {
        guard let shape = sampleShape ?? self.sampleShape else {
            throw OnnxError(file: file, "input '\(input.name)' has shape \(input.shapeText) with symbolic axes after the batch; give the sample shape")
        }
        let declared = Array(input.shape.dropFirst())
        guard input.shape.isEmpty || (declared.count == shape.count && zip(declared, shape).allSatisfy { $0 == nil || $0 == $1 }) else {
            throw OnnxError(
                file: file,
                "input '\(input.name)' has shape \(input.shapeText), which does not take samples of \(shape.map(String.init).joined(separator: "×"))")
        }
        var rng = RandomSource(seed: 0)
        let model: Sequential
        do {
            model = try Sequential(nodes: nodes, inputShape: shape, normalization: normalization, planningBatch: planningBatch, rng: &rng)
        } catch {
            throw OnnxError(file: file, "\(error)")
        }
        if checksSampleIndependence { try checkSampleIndependence(model) }
        return model
    }

    /// Refuses a model whose outputs for a batch are not its outputs for each sample alone.
    public func checkSampleIndependence(_ model: Sequential) throws(OnnxError) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let count = model.inputShape.reduce(1, *)
        let samples = (0..<2).map { _ in
            Tensor(
                shape: [1] + model.inputShape,
                scalars: (0..<count).map { _ in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return Float(state >> 40) / Float(1 << 24)
                })
        }
        do {
            let alone = try samples.map { try Self.values(model, $0) }
            let together = try Self.values(model, Tensor(concatenating: samples))
            let expected = Tensor(concatenating: alone)
            guard together.shape == expected.shape else {
                throw Unsupported("gives output \(together.shape) for a batch of 2 and \(alone[0].shape) for one sample")
            }
            let scale = expected.scalars.reduce(Float(0)) { max($0, abs($1)) }
            for (a, b) in zip(together.scalars, expected.scalars) where abs(a - b) > 1e-4 * max(1, scale) || a.isNaN != b.isNaN {
                throw Unsupported("gives different outputs for a sample alone and in a batch (its first axis mixes samples)")
            }
        } catch let error as Unsupported {
            throw OnnxError(
                file: file,
                "the model does not run a batch of independent samples along its first axis: \(error.message); export it with a dynamic batch axis (torch.onnx.export(..., dynamic_axes={'\(input.name)': {0: 'batch'}}))"
            )
        } catch {
            throw OnnxError(file: file, "\(error)")
        }
    }

    /// The model's output for `input`, failing with the reason where a layer of the imported
    /// graph cannot run on it (a shape baked into the file).
    static func values(_ model: Sequential, _ input: Tensor) throws -> Tensor {
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
        var outputs: [Variable] = []
        let start = tape.leaf(input)
        for (index, entry) in model.layers.enumerated() {
            let reads = model.inputs[index].map { $0 < 0 ? start : outputs[$0] }
            if let operation = entry.layer as? OnnxOperation {
                outputs.append(try operation.run(reads, context: &context))
            } else if let merge = entry.layer as? any MergeLayer {
                outputs.append(merge.forward(reads, context: &context))
            } else {
                outputs.append(entry.layer.forward(reads[0], context: &context))
            }
        }
        return outputs.last?.value ?? input
    }
}

private func unsupported(_ node: OnnxNode, opset: Int, _ message: String) -> Unsupported {
    Unsupported(
        "\(node.described), domain '\(node.domain.isEmpty ? "ai.onnx" : node.domain)', opset \(opset): \(message); supported ops: \(OnnxOperators.supportedList)"
    )
}
