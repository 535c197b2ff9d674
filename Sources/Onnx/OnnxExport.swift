import Foundation
import Layers
import OnnxProto
import SwiftProtobuf
import Tensors

/// Writes a Gauntlet model as an ONNX model of opset 17 (what onnxruntime and PyTorch's
/// importer read): one input `input` of shape `[batch, sample shape…]` (the batch axis symbolic),
/// one output `output`, the input normalisation as the first nodes, every layer as the ONNX ops
/// that compute it in inference (dropout as `Dropout`, an identity outside training; batch norm
/// with its running statistics). Initialisers are named by their state-dict keys
/// (`layer1.0.conv1.weight`); node outputs by layer name.
public enum OnnxExport {
    /// The opset written.
    public static let opset = 17

    /// The model as an ONNX `ModelProto`; a layer kind with no ONNX form is refused, naming it.
    public static func model(_ model: Sequential, name: String, producerVersion: String = "") throws(OnnxError) -> Onnx_ModelProto {
        var graph = GraphWriter(model: model)
        do {
            try graph.writeLayers()
        } catch let error as Unsupported {
            throw OnnxError(file: name, error.message)
        } catch {
            throw OnnxError(file: name, "\(error)")
        }
        var proto = Onnx_ModelProto()
        proto.irVersion = 8
        proto.producerName = "gauntlet"
        proto.producerVersion = producerVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(Self.opset)
        proto.opsetImport = [opset]
        graph.graph.name = name
        proto.graph = graph.graph
        return proto
    }

    /// Serialises `model` (see `model(_:name:)`) to `path`, written to a temporary file beside
    /// it and renamed, so that a failed write leaves no partial file under the name.
    public static func write(_ model: Sequential, name: String, to path: String, producerVersion: String = "") throws(OnnxError) {
        let proto = try Self.model(model, name: name, producerVersion: producerVersion)
        try write(proto, to: path)
    }

    /// Writes `proto` to `path` through a temporary file beside it.
    public static func write(_ proto: Onnx_ModelProto, to path: String) throws(OnnxError) {
        let data: Data
        do { data = try proto.serializedBytes() } catch { throw OnnxError(file: path, "cannot be serialised: \(error)") }
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            if FileManager.default.fileExists(atPath: path) {
                _ = try FileManager.default.replaceItemAt(URL(fileURLWithPath: path), withItemAt: URL(fileURLWithPath: temporary))
            } else {
                try FileManager.default.moveItem(atPath: temporary, toPath: path)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw OnnxError(file: path, "cannot be written: \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
        }
    }

    /// The ONNX file of an imported model with its initialisers replaced by `state` (by name:
    /// an imported model's state-dict keys are its initialisers' names), for a model fine-tuned
    /// in Gauntlet. Every key must name an initialiser of the file, with its shape.
    public static func updatingInitializers(of path: String, with state: [(key: String, value: Tensor)]) throws(OnnxError) -> Onnx_ModelProto {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw OnnxError(file: path, "cannot be read: \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
        }
        var proto: Onnx_ModelProto
        do { proto = try Onnx_ModelProto(serializedBytes: data) } catch {
            throw OnnxError(file: path, "is not an ONNX model (its protobuf does not parse: \(error))")
        }
        var positions: [String: Int] = [:]
        for (index, initializer) in proto.graph.initializer.enumerated() { positions[initializer.name] = index }
        for (key, value) in state {
            guard let index = positions[key] else { throw OnnxError(file: path, "has no initialiser '\(key)' for the trained weights") }
            let dims = proto.graph.initializer[index].dims.map(Int.init)
            guard dims.reduce(1, *) == value.count else {
                throw OnnxError(file: path, "initialiser '\(key)' has shape \(dims), the trained weights \(value.shape)")
            }
            var tensor = GraphWriter.tensor(key, value.scalars, dims: dims)
            tensor.docString = proto.graph.initializer[index].docString
            proto.graph.initializer[index] = tensor
        }
        return proto
    }
}

/// Builds the graph of one model, node by node.
struct GraphWriter {
    let model: Sequential
    var graph = Onnx_GraphProto()
    private var used: Set<String> = []
    private var constants = 0

    init(model: Sequential) { self.model = model }

    static func tensor(_ name: String, _ values: [Float], dims: [Int]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var data = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        tensor.rawData = data
        return tensor
    }

    /// A value name not used yet, from `base`.
    mutating func fresh(_ base: String) -> String {
        var name = base
        var counter = 1
        while used.contains(name) {
            name = "\(base)_\(counter)"
            counter += 1
        }
        used.insert(name)
        return name
    }

    /// A float initialiser under `name` (a state-dict key, or a fresh constant name).
    mutating func initializer(_ name: String, _ values: [Float], dims: [Int]) -> String {
        let name = fresh(name)
        graph.initializer.append(Self.tensor(name, values, dims: dims))
        return name
    }

    mutating func constant(_ values: [Float], dims: [Int]) -> String {
        constants += 1
        return initializer("const_\(constants)", values, dims: dims)
    }

    mutating func integers(_ values: [Int], dims: [Int]? = nil) -> String {
        constants += 1
        var tensor = Onnx_TensorProto()
        tensor.name = fresh("const_\(constants)")
        tensor.dims = (dims ?? [values.count]).map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.int64Data = values.map(Int64.init)
        graph.initializer.append(tensor)
        return tensor.name
    }

    enum Attribute {
        case int(Int)
        case ints([Int])
        case float(Float)
    }

    /// Appends a node; returns its (first) output's name.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], name: String, output: String? = nil, _ attributes: [(String, Attribute)] = []) -> String {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = fresh("node:" + name)
        node.input = inputs
        let result = output.map { fresh($0) } ?? fresh(name)
        node.output = [result]
        for (key, value) in attributes {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            switch value {
            case let .int(v):
                attribute.type = .int
                attribute.i = Int64(v)
            case let .ints(v):
                attribute.type = .ints
                attribute.ints = v.map(Int64.init)
            case let .float(v):
                attribute.type = .float
                attribute.f = v
            }
            node.attribute.append(attribute)
        }
        graph.node.append(node)
        return result
    }

    static func valueInfo(_ name: String, _ shape: [Int]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var type = Onnx_TypeProto.Tensor()
        type.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shapeProto = Onnx_TensorShapeProto()
        var batch = Onnx_TensorShapeProto.Dimension()
        batch.dimParam = "batch"
        shapeProto.dim = [batch]
        for extent in shape {
            var dimension = Onnx_TensorShapeProto.Dimension()
            dimension.dimValue = Int64(extent)
            shapeProto.dim.append(dimension)
        }
        type.shape = shapeProto
        info.type.tensorType = type
        return info
    }

    mutating func writeLayers() throws {
        used.formUnion(["input", "output"])
        graph.input = [Self.valueInfo("input", model.inputShape)]
        var start = "input"
        if let normalization = model.normalization {
            // The model's own coefficients: x · (1/std) + (−mean/std) per channel.
            let trailing = [Int](repeating: 1, count: model.inputShape.count - 1)
            let scale = constant(normalization.std.map { 1 / $0 }, dims: [normalization.std.count] + trailing)
            let shift = constant(zip(normalization.mean, normalization.std).map { -$0 / $1 }, dims: [normalization.mean.count] + trailing)
            let scaled = node("Mul", ["input", scale], name: "normalize/scale")
            start = node("Add", [scaled, shift], name: "normalize")
        }
        var outputs: [String] = []
        for (index, entry) in model.layers.enumerated() {
            let reads = model.inputs[index].map { $0 < 0 ? start : outputs[$0] }
            let inputShape = model.plan.inputShape(of: index)
            outputs.append(try layer(index, name: entry.name, layer: entry.layer, spec: model.plan.nodes[index].spec, reads: reads, inputShape: inputShape))
        }
        let final = outputs.last ?? start
        if graph.node.last?.output.first == final, final != "input" {
            // The last node writes the model's output under its ONNX name (reserved above).
            graph.node[graph.node.count - 1].output[0] = "output"
        } else {
            node("Identity", [final], name: "output")
            graph.node[graph.node.count - 1].output[0] = "output"
        }
        graph.output = [Self.valueInfo("output", model.outputShape)]
    }

    /// The state-dict key of a layer's parameter or buffer.
    func key(_ layer: String, _ suffix: String) -> String { suffix.isEmpty ? layer : "\(layer).\(suffix)" }

    /// A parameter or buffer of `layer` as an initialiser named by its state-dict key.
    mutating func weight(_ layerName: String, _ layer: any Layer, _ suffix: String, dims: [Int]? = nil) -> String? {
        if let parameter = layer.parameters.first(where: { $0.name == suffix }) {
            return initializer(key(layerName, suffix), parameter.value.scalars, dims: dims ?? parameter.value.shape)
        }
        if let buffer = layer.buffers.first(where: { $0.name == suffix }) {
            return initializer(key(layerName, suffix), buffer.value.scalars, dims: dims ?? buffer.value.shape)
        }
        return nil
    }

    mutating func layer(_ index: Int, name: String, layer: any Layer, spec: any LayerSpec, reads: [String], inputShape: [Int]) throws -> String {
        let x = reads.first ?? "input"
        let kind = type(of: spec).kind
        func need(_ value: String?, _ what: String) throws -> String {
            guard let value else { throw Unsupported("layer '\(name)' (\(kind)) has no \(what)") }
            return value
        }
        switch spec {
        case is LinearSpec:
            let w = try need(weight(name, layer, "weight"), "weight")
            let b = weight(name, layer, "bias")
            if inputShape.count == 2 {
                return node("Gemm", [x, w] + (b.map { [$0] } ?? []), name: name, [("transB", .int(1))])
            }
            let transposed = node("Transpose", [w], name: "\(name)/weight_t", [("perm", .ints([1, 0]))])
            let product = node("MatMul", [x, transposed], name: b == nil ? name : "\(name)/matmul")
            return b.map { node("Add", [product, $0], name: name) } ?? product
        case let spec as Conv2dSpec:
            let w = try need(weight(name, layer, "weight"), "weight")
            let b = weight(name, layer, "bias")
            let pads = spec.pads ?? [Int](repeating: spec.padding, count: 4)
            return node(
                "Conv", [x, w] + (b.map { [$0] } ?? []), name: name,
                [
                    ("kernel_shape", .ints([spec.kernelSize, spec.kernelSize])), ("strides", .ints([spec.stride, spec.stride])),
                    ("pads", .ints(pads)), ("dilations", .ints([spec.dilation ?? 1, spec.dilation ?? 1])), ("group", .int(spec.groups ?? 1)),
                ])
        case let spec as MaxPool2dSpec:
            let stride = spec.stride ?? spec.kernelSize
            return node(
                "MaxPool", [x], name: name,
                [
                    ("kernel_shape", .ints([spec.kernelSize, spec.kernelSize])), ("strides", .ints([stride, stride])),
                    ("pads", .ints([Int](repeating: spec.padding, count: 4))),
                ])
        case let spec as AvgPool2dSpec:
            let stride = spec.stride ?? spec.kernelSize
            return node(
                "AveragePool", [x], name: name,
                [
                    ("kernel_shape", .ints([spec.kernelSize, spec.kernelSize])), ("strides", .ints([stride, stride])),
                    ("pads", .ints([Int](repeating: spec.padding, count: 4))), ("count_include_pad", .int(1)),
                ])
        case is AdaptiveAvgPool2dSpec:
            let side = model.plan.shapes[index][2]
            if side == 1 { return node("GlobalAveragePool", [x], name: name) }
            let (h, w) = (inputShape[2], inputShape[3])
            guard h % side == 0, w % side == 0 else {
                throw Unsupported(
                    "layer '\(name)' (\(kind)): output \(side)×\(side) from \(h)×\(w) has windows of unequal sizes, which ONNX's AveragePool cannot write")
            }
            return node("AveragePool", [x], name: name, [("kernel_shape", .ints([h / side, w / side])), ("strides", .ints([h / side, w / side]))])
        case is ReLUSpec: return node("Relu", [x], name: name)
        case is SigmoidSpec: return node("Sigmoid", [x], name: name)
        case is TanhSpec: return node("Tanh", [x], name: name)
        case is HardswishSpec: return node("HardSwish", [x], name: name)
        case is SoftmaxSpec: return node("Softmax", [x], name: name, [("axis", .int(-1))])
        case let spec as LeakyReLUSpec: return node("LeakyRelu", [x], name: name, [("alpha", .float(spec.negativeSlope ?? 0.01))])
        case is SiLUSpec:
            let gate = node("Sigmoid", [x], name: "\(name)/sigmoid")
            return node("Mul", [x, gate], name: name)
        case let spec as GELUSpec:
            if spec.approximate == .tanh {
                // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
                let cube = node("Mul", [x, node("Mul", [x, x], name: "\(name)/square")], name: "\(name)/cube")
                let inner = node("Add", [x, node("Mul", [cube, constant([0.044715], dims: [])], name: "\(name)/cubic")], name: "\(name)/inner")
                let scaled = node("Mul", [inner, constant([(2 / Float.pi).squareRoot()], dims: [])], name: "\(name)/scaled")
                let gate = node("Add", [node("Tanh", [scaled], name: "\(name)/tanh"), constant([1], dims: [])], name: "\(name)/gate")
                return node("Mul", [node("Mul", [x, gate], name: "\(name)/product"), constant([0.5], dims: [])], name: name)
            }
            // 0.5 · x · (1 + erf(x / √2))
            let erf = node("Erf", [node("Div", [x, constant([Float(2).squareRoot()], dims: [])], name: "\(name)/scaled")], name: "\(name)/erf")
            let gate = node("Add", [erf, constant([1], dims: [])], name: "\(name)/gate")
            return node("Mul", [node("Mul", [x, gate], name: "\(name)/product"), constant([0.5], dims: [])], name: name)
        case let spec as DropoutSpec:
            return node("Dropout", [x, constant([spec.p], dims: [])], name: name)
        case is FlattenSpec: return node("Flatten", [x], name: name, [("axis", .int(1))])
        case let spec as BatchNorm2dSpec:
            return try batchNorm(name, layer: layer, x: x, eps: spec.eps, momentum: spec.momentum)
        case let spec as BatchNorm1dSpec:
            let planar = (layer as? BatchNorm1d)?.planar ?? layer
            return try batchNorm(name, layer: planar, x: x, eps: spec.eps ?? 1e-5, momentum: spec.momentum ?? 0.1)
        case is AddSpec:
            return reads.dropFirst().enumerated().reduce(x) { sum, next in
                node("Add", [sum, next.element], name: next.offset == reads.count - 2 ? name : "\(name)/\(next.offset)")
            }
        case is MultiplySpec:
            return reads.dropFirst().enumerated().reduce(x) { product, next in
                node("Mul", [product, next.element], name: next.offset == reads.count - 2 ? name : "\(name)/\(next.offset)")
            }
        case let spec as ConcatSpec: return node("Concat", reads, name: name, [("axis", .int((spec.dim ?? 0) + 1))])
        case is MatMulSpec: return node("MatMul", reads, name: name)
        case is ReshapeSpec:
            // 0 keeps the batch extent.
            return node("Reshape", [x, integers([0] + model.plan.shapes[index].dropFirst())], name: name)
        case let spec as PermuteSpec: return node("Transpose", [x], name: name, [("perm", .ints([0] + spec.dims.map { $0 + 1 }))])
        case let spec as SliceSpec:
            let start = spec.start ?? 0, end = spec.end ?? inputShape[spec.dim + 1]
            return node("Slice", [x, integers([start]), integers([end]), integers([spec.dim + 1])], name: name)
        case let spec as GatherSpec:
            return node("Gather", [x, integers(spec.indices)], name: name, [("axis", .int(spec.dim + 1))])
        case is ClassTokenSpec:
            let token = try need(weight(name, layer, ""), "token")
            // The token repeated over the batch: Expand to [N, 1, D] with N read from the input.
            let batch = node("Shape", [x], name: "\(name)/batch", [("start", .int(0)), ("end", .int(1))])
            let shape = node("Concat", [batch, integers([1, inputShape[2]])], name: "\(name)/shape", [("axis", .int(0))])
            let tokens = node("Expand", [token, shape], name: "\(name)/tokens")
            return node("Concat", [tokens, x], name: name, [("axis", .int(1))])
        case is PositionEmbeddingSpec:
            let embedding = try need(weight(name, layer, ""), "embedding")
            return node("Add", [x, embedding], name: name)
        case let spec as LayerNormSpec:
            let features = inputShape.last!
            let scale = weight(name, layer, "weight") ?? constant([Float](repeating: 1, count: features), dims: [features])
            let shift = weight(name, layer, "bias") ?? constant([Float](repeating: 0, count: features), dims: [features])
            return node("LayerNormalization", [x, scale, shift], name: name, [("axis", .int(-1)), ("epsilon", .float(spec.eps ?? 1e-5))])
        case let spec as GroupNormSpec:
            return groupNorm(name, layer: layer, x: x, groups: spec.numGroups, eps: spec.eps ?? 1e-5, inputShape: inputShape)
        case let spec as MultiheadAttentionSpec:
            return try attention(name, layer: layer, x: x, heads: spec.heads, dropout: spec.dropout ?? 0, inputShape: inputShape)
        default:
            throw Unsupported(
                "layer '\(name)' (\(spec.summaryKind)) has no ONNX form in the exporter; kinds it writes: linear, conv2d, maxpool2d, avgpool2d, adaptive_avg_pool2d, batchnorm1d/2d, layernorm, groupnorm, the activations, dropout, flatten, add, multiply, concat, matmul, reshape, permute, slice, gather, class_token, position_embedding, multihead_attention"
            )
        }
    }

    mutating func batchNorm(_ name: String, layer: any Layer, x: String, eps: Float, momentum: Float) throws -> String {
        let inputs = ["weight", "bias", "running_mean", "running_var"].compactMap { weight(name, layer, $0) }
        guard inputs.count == 4 else { throw Unsupported("layer '\(name)' has no weight, bias and running statistics to export") }
        return node("BatchNormalization", [x] + inputs, name: name, [("epsilon", .float(eps)), ("momentum", .float(1 - momentum))])
    }

    /// Group norm as its definition: each sample's channel groups normalised over their
    /// values, then the per-channel scale and shift.
    mutating func groupNorm(_ name: String, layer: any Layer, x: String, groups: Int, eps: Float, inputShape: [Int]) -> String {
        let channels = inputShape[1]
        let grouped = node("Reshape", [x, integers([0, groups, -1])], name: "\(name)/grouped")
        let mean = node("ReduceMean", [grouped], name: "\(name)/mean", [("axes", .ints([2])), ("keepdims", .int(1))])
        let centred = node("Sub", [grouped, mean], name: "\(name)/centred")
        let variance = node(
            "ReduceMean", [node("Mul", [centred, centred], name: "\(name)/squares")], name: "\(name)/variance", [("axes", .ints([2])), ("keepdims", .int(1))])
        let deviation = node("Sqrt", [node("Add", [variance, constant([eps], dims: [])], name: "\(name)/stabilised")], name: "\(name)/deviation")
        let normalised = node("Div", [centred, deviation], name: "\(name)/normalised")
        let restored = node("Reshape", [normalised, integers([0] + inputShape.dropFirst())], name: layer.parameters.isEmpty ? name : "\(name)/restored")
        let trailing = [Int](repeating: 1, count: inputShape.count - 2)
        guard let scale = weight(name, layer, "weight", dims: [channels] + trailing), let shift = weight(name, layer, "bias", dims: [channels] + trailing)
        else {
            return restored
        }
        return node("Add", [node("Mul", [restored, scale], name: "\(name)/scaled"), shift], name: name)
    }

    /// Multi-head self-attention over `[N, T, D]` as PyTorch computes it: the joint in-projection,
    /// heads split from each third, softmax(Q·Kᵀ/√(D/H))·V, heads joined, the out-projection.
    mutating func attention(_ name: String, layer: any Layer, x: String, heads: Int, dropout: Float, inputShape: [Int]) throws -> String {
        let d = inputShape[2], perHead = d / heads
        guard let inWeight = weight(name, layer, "in_proj_weight"), let inBias = weight(name, layer, "in_proj_bias"),
            let outWeight = weight(name, layer, "out_proj.weight"), let outBias = weight(name, layer, "out_proj.bias")
        else { throw Unsupported("layer '\(name)' has no in_proj and out_proj weights to export") }
        let projected = node(
            "Add",
            [node("MatMul", [x, node("Transpose", [inWeight], name: "\(name)/in_proj_t", [("perm", .ints([1, 0]))])], name: "\(name)/in_proj"), inBias],
            name: "\(name)/qkv")
        let split = node("Reshape", [projected, integers([0, 0, 3, heads, perHead])], name: "\(name)/split")
        let stacked = node("Transpose", [split], name: "\(name)/heads", [("perm", .ints([2, 0, 3, 1, 4]))])
        let q = node("Gather", [stacked, integers([0], dims: [])], name: "\(name)/q", [("axis", .int(0))])
        let k = node("Gather", [stacked, integers([1], dims: [])], name: "\(name)/k", [("axis", .int(0))])
        let v = node("Gather", [stacked, integers([2], dims: [])], name: "\(name)/v", [("axis", .int(0))])
        let keys = node("Transpose", [k], name: "\(name)/k_t", [("perm", .ints([0, 1, 3, 2]))])
        let scores = node(
            "Mul", [node("MatMul", [q, keys], name: "\(name)/qk"), constant([1 / Float(perHead).squareRoot()], dims: [])], name: "\(name)/scores")
        var weights = node("Softmax", [scores], name: "\(name)/weights", [("axis", .int(-1))])
        if dropout > 0 { weights = node("Dropout", [weights, constant([dropout], dims: [])], name: "\(name)/dropout") }
        let context = node("MatMul", [weights, v], name: "\(name)/context")
        let joined = node(
            "Reshape", [node("Transpose", [context], name: "\(name)/tokens", [("perm", .ints([0, 2, 1, 3]))]), integers([0, 0, d])], name: "\(name)/joined")
        let output = node("MatMul", [joined, node("Transpose", [outWeight], name: "\(name)/out_proj_t", [("perm", .ints([1, 0]))])], name: "\(name)/out_proj")
        return node("Add", [output, outBias], name: name)
    }
}
