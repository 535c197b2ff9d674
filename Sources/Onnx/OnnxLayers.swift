import Foundation
import Layers
import Spec
import Tensors

/// A node of an imported graph that holds one initializer: a trainable parameter (weights,
/// biases) or a buffer (batch norm's running statistics). Its state-dict key is the
/// initializer's name.
public struct OnnxInitializerSpec: MergeLayerSpec, @unchecked Sendable {
    public static let kind = "onnx_initializer"
    public static let summary = "An initializer of an imported ONNX model (made by the importer, not written in files)."
    public static let minimumInputs = 0
    public let value: Tensor
    public let trainable: Bool

    init(value: Tensor, trainable: Bool) {
        self.value = value
        self.trainable = trainable
    }

    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "onnx_initializer nodes come from ONNX files only"))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value.shape)
    }

    public func outputShape(forInputs shapes: [[Int]]) throws(ModelError) -> [Int] { value.shape }

    public var summaryKind: String { trainable ? "initializer" : "buffer" }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        OnnxInitializer(value: value, trainable: trainable)
    }
}

/// The layer of `OnnxInitializerSpec`: its output is the parameter (or buffer) itself.
public final class OnnxInitializer: MergeLayer {
    let parameter: Parameter?
    var buffer: Tensor?

    init(value: Tensor, trainable: Bool) {
        parameter = trainable ? Parameter(name: "", value: value) : nil
        buffer = trainable ? nil : value
    }

    public var parameters: [Parameter] { parameter.map { [$0] } ?? [] }
    public var buffers: [(name: String, value: Tensor)] { buffer.map { [("", $0)] } ?? [] }
    public func setBuffer(_ name: String, to value: Tensor) throws {
        guard name.isEmpty, buffer != nil else { throw ModelError.unknownStateKey(name) }
        buffer = value
    }

    public func outputShape(forInputs shapes: [[Int]]) -> [Int] { parameter?.value.shape ?? buffer!.shape }

    public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
        if let parameter { return context.variable(for: parameter) }
        return context.tape.leaf(buffer!)
    }
}

/// How a layer of an imported node gets each of the node's inputs.
enum OperandSource: Sendable {
    case absent
    /// The layer's merge input at this index.
    case input(Int)
    /// A constant folded at import.
    case constant(OnnxValue)
    /// A value computed from constants and the shapes of the layer's merge inputs at `leaves`
    /// (shape arithmetic that depends on the batch), by name in the program.
    case computed(String, leaves: [(input: Int, name: String)])
}

/// One output of one node of an imported ONNX graph, run as a layer.
public struct OnnxOperationSpec: MergeLayerSpec, @unchecked Sendable {
    public static let kind = "onnx"
    public static let summary = "A node of an imported ONNX model (made by the importer, not written in files)."
    public static let minimumInputs = 0
    let program: OnnxProgram
    let nodeIndex: Int
    let output: Int
    let operands: [OperandSource]

    /// The ONNX op type, for summaries.
    public var opType: String { program.nodes[nodeIndex].opType }

    /// Whether the node is a dropout with a rate above 0 (active in training and MC-dropout passes).
    public var drawsRandomNumbers: Bool { OnnxOperation(spec: self).drawsRandomNumbers }

    init(program: OnnxProgram, nodeIndex: Int, output: Int, operands: [OperandSource]) {
        self.program = program
        self.nodeIndex = nodeIndex
        self.output = output
        self.operands = operands
    }

    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "onnx nodes come from ONNX files only"))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(opType)
    }

    public func outputShape(forInputs shapes: [[Int]]) throws(ModelError) -> [Int] {
        do {
            return try OnnxOperation(spec: self).dryRun(shapes)
        } catch let error as Unsupported {
            throw .invalidParameter(layer: program.nodes[nodeIndex].described, message: error.message)
        } catch {
            throw .invalidParameter(layer: program.nodes[nodeIndex].described, message: "\(error)")
        }
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer { OnnxOperation(spec: self) }

    public var summaryKind: String { opType }

    /// Multiply-accumulates of Conv, Gemm and MatMul nodes (every output element is a dot
    /// product over the weight's fan-in, or over A's last axis); other ops count 0.
    public func multiplyAccumulates(forInputs shapes: [[Int]]) -> Int {
        guard ["Conv", "Gemm", "MatMul"].contains(opType), let output = try? OnnxOperation(spec: self).dryRun(shapes) else { return 0 }
        func operandShape(_ slot: Int) -> [Int]? {
            guard slot < operands.count else { return nil }
            switch operands[slot] {
            case let .input(k): return k < shapes.count ? shapes[k] : nil
            case let .constant(value): return value.shape
            default: return nil
            }
        }
        let outputs = output.reduce(1, *)
        switch opType {
        case "Conv":
            guard let weight = operandShape(1), weight.count >= 3 else { return 0 }
            return outputs * weight.dropFirst().reduce(1, *)
        case "Gemm":
            guard let a = operandShape(0), a.count == 2 else { return 0 }
            return outputs * ((try? program.nodes[nodeIndex].int("transA", default: 0)) == 1 ? a[0] : a[1])
        default:
            guard let a = operandShape(0), let inner = a.last else { return 0 }
            return outputs * inner
        }
    }
}

/// The layer of `OnnxOperationSpec`.
public final class OnnxOperation: MergeLayer {
    let spec: OnnxOperationSpec
    private let lock = NSLock()
    /// Computed operands by the shapes of the leaves they read.
    private var computed: [[[Int]]: [Int: OnnxValue]] = [:]

    init(spec: OnnxOperationSpec) { self.spec = spec }

    var node: OnnxNode { spec.program.nodes[spec.nodeIndex] }

    public var drawsRandomNumbers: Bool {
        guard node.opType == "Dropout" else { return false }
        if case let .constant(ratio)? = spec.operands.dropFirst().first, ratio.asFloats.first == 0 { return false }
        return (try? node.float("ratio", default: 0.5)) != 0
    }

    public func outputShape(forInputs shapes: [[Int]]) -> [Int] { (try? dryRun(shapes)) ?? [] }

    /// The output shape for inputs of `shapes`, from a pass over zeros.
    func dryRun(_ shapes: [[Int]]) throws -> [Int] {
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
        let inputs = shapes.map { tape.leaf(Tensor(shape: $0)) }
        return try run(inputs, context: &context).shape
    }

    public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
        do {
            return try run(inputs, context: &context)
        } catch let error as Unsupported {
            fatalError("\(spec.program.file): \(node.described): \(error.message)")
        } catch {
            fatalError("\(spec.program.file): \(node.described): \(error)")
        }
    }

    func run(_ inputs: [Variable], context: inout ForwardContext) throws -> Variable {
        var operands: [Operand] = []
        for (slot, source) in spec.operands.enumerated() {
            switch source {
            case .absent: operands.append(Operand())
            case let .input(k): operands.append(Operand(variable: inputs[k]))
            case let .constant(value): operands.append(Operand(constant: value))
            case let .computed(name, leaves):
                let key = leaves.map { inputs[$0.input].shape }
                lock.lock()
                let cached = computed[key]?[slot]
                lock.unlock()
                if let cached {
                    operands.append(Operand(constant: cached))
                    continue
                }
                var shapes: [String: [Int]] = [:]
                for leaf in leaves { shapes[leaf.name] = inputs[leaf.input].shape }
                let value = try spec.program.evaluate(name, leafShapes: shapes)
                lock.lock()
                computed[key, default: [:]][slot] = value
                lock.unlock()
                operands.append(Operand(constant: value))
            }
        }
        return try OnnxOperators.forward(node, opset: spec.program.opset, output: spec.output, operands: operands, context: &context)
    }
}
