import Spec
import Foundation
import Tensors

/// A trainable tensor with its gradient from the last backward pass.
public final class Parameter {
    /// The state-dict suffix of this parameter inside its layer (`weight`, `bias`, …).
    public let name: String
    /// Any change, in place (an optimizer's step) or by assignment, drops the cached transpose.
    public var value: Tensor {
        didSet { transposeCache.clear() }
    }
    public var gradient: Tensor?
    private let transposeCache = TransposeCache()

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }

    /// The value (a matrix) transposed, computed once per value: every forward pass between two
    /// optimizer steps (or of an evaluation) shares it, whichever thread asks first.
    public func transposedValue() -> Tensor {
        transposeCache.value { Kernels.transposed(value) }
    }
}

/// A value computed at most once until cleared, under a lock (the sample parts of one pass
/// ask for it from several threads at once).
private final class TransposeCache: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: Tensor?

    func value(_ compute: () -> Tensor) -> Tensor {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let value = compute()
        cached = value
        return value
    }

    func clear() {
        lock.lock()
        cached = nil
        lock.unlock()
    }
}

/// Which behaviour stochastic and batch-dependent layers have in a forward pass.
public enum ForwardMode: String, Sendable, Codable, CaseIterable {
    /// Dropout on; batch norm uses batch statistics and updates its running estimates.
    case training
    /// Dropout off; batch norm uses its running estimates. Deterministic.
    case inference
    /// Dropout on, batch norm frozen: one stochastic pass of MC dropout (Gal & Ghahramani, 2016).
    case monteCarloDropout
}

/// What a forward pass needs besides its input: the tape, the mode, randomness, and what to record.
public struct ForwardContext {
    public let tape: Tape
    public var mode: ForwardMode
    /// The generator dropout masks are drawn from.
    public var rng: RandomSource
    /// Whether parameters become gradient-requiring leaves (training) or constants (attacks, evaluation).
    public var parametersRequireGradients: Bool
    /// Layer names whose outputs are recorded into `activations`.
    public var recordedLayers: Set<String>
    /// The outputs of the recorded layers, by layer name; their gradients are on the tape.
    public var activations: [String: Variable] = [:]
    /// When this pass computes samples `rows` of a batch of `batch` samples (a part of a split
    /// training step): dropout draws the whole batch's mask, as one pass over the batch would,
    /// and applies that mask's rows.
    public var batchPart: (rows: Range<Int>, batch: Int)?
    /// The parameter leaves created in this pass, so gradients can be collected after `backward`.
    public private(set) var parameterLeaves: [(Parameter, Variable)] = []
    /// Whether linear layers leave their weight gradients to the caller (a part of a split
    /// training step, which computes them once over the whole batch): their backward passes skip
    /// them and `deferredWeightGradients` says what to compute them from.
    public var defersLinearWeightGradients = false
    /// The weights whose gradients this pass deferred, each with its layer's input and output
    /// (`Kernels.linearWeightGradient` takes the input and the output's gradient), in layer order.
    public private(set) var deferredWeightGradients: [(parameter: Parameter, input: Tensor, output: Variable)] = []

    public init(
        tape: Tape, mode: ForwardMode, rng: RandomSource, parametersRequireGradients: Bool = false,
        recordedLayers: Set<String> = []
    ) {
        self.tape = tape
        self.mode = mode
        self.rng = rng
        self.parametersRequireGradients = parametersRequireGradients
        self.recordedLayers = recordedLayers
    }

    /// Records that `parameter`'s gradient was left out of this pass's backward
    /// (`defersLinearWeightGradients`).
    public mutating func deferWeightGradient(of parameter: Parameter, input: Tensor, output: Variable) {
        deferredWeightGradients.append((parameter, input, output))
    }

    /// The tape variable of a parameter for this pass.
    public mutating func variable(for parameter: Parameter) -> Variable {
        let leaf = tape.leaf(parameter.value, requiresGradient: parametersRequireGradients)
        if parametersRequireGradients { parameterLeaves.append((parameter, leaf)) }
        return leaf
    }
}

/// A layer of a sequential model: parameters, buffers, a forward pass and its shape contract.
public protocol Layer: AnyObject {
    /// The trainable parameters, in state-dict order.
    var parameters: [Parameter] { get }
    /// Non-trainable state (running statistics, counters), by state-dict suffix.
    var buffers: [(name: String, value: Tensor)] { get }
    /// Restores one buffer from a state dict.
    func setBuffer(_ name: String, to value: Tensor) throws
    /// The output shape (batch axis included) for an input shape.
    func outputShape(for inputShape: [Int]) -> [Int]
    /// Multiply-accumulate operations of one forward pass for one sample.
    func multiplyAccumulates(for inputShape: [Int]) -> Int
    func forward(_ input: Variable, context: inout ForwardContext) -> Variable
    /// Whether, in training mode, a sample's output depends on the other samples of the batch
    /// (batch statistics): such a model's training steps are not split into parts.
    var usesBatchStatisticsInTraining: Bool { get }
    /// Whether the layer draws random numbers outside inference mode (dropout with p > 0): the
    /// passes of MC dropout differ from it on.
    var drawsRandomNumbers: Bool { get }
}

extension Layer {
    public var usesBatchStatisticsInTraining: Bool { false }
    public var drawsRandomNumbers: Bool { false }
    public var parameters: [Parameter] { [] }
    public var buffers: [(name: String, value: Tensor)] { [] }
    public func setBuffer(_ name: String, to value: Tensor) throws {
        throw ModelError.unknownStateKey(name)
    }
    public func multiplyAccumulates(for inputShape: [Int]) -> Int { 0 }
}

/// The typed parameters of one layer kind as written in an experiment file; it checks the
/// input shape and builds the layer. Conformers are decoded by the `Catalog` registry.
public protocol LayerSpec: SpecKind, Codable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// The output shape for an input shape (batch axis first), or an error saying why the input does not fit.
    func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int]
    /// A layer with freshly initialised parameters (PyTorch's defaults).
    func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer
    /// Multiply-accumulates of one forward pass of one sample, from the shapes alone.
    func multiplyAccumulates(for inputShape: [Int]) -> Int
    /// Multiply-accumulates of one forward pass of one sample from the shapes of all the
    /// node's inputs (a merge node's weights may be one of them); by default from the first.
    func multiplyAccumulates(forInputs shapes: [[Int]]) -> Int
    /// What summaries and graphs call the node: the kind, or the op of an imported node.
    var summaryKind: String { get }
}

extension LayerSpec {
    public func multiplyAccumulates(for inputShape: [Int]) -> Int { 0 }
    public func multiplyAccumulates(forInputs shapes: [[Int]]) -> Int { multiplyAccumulates(for: shapes.first ?? []) }
    public var summaryKind: String { Self.kind }
}

/// Why a model cannot be built, run or restored.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case incompatibleInput(layer: String, expected: String, got: [Int])
    case invalidParameter(layer: String, message: String)
    case unknownStateKey(String)
    case missingStateKey(String)
    case stateShapeMismatch(key: String, expected: [Int], got: [Int])
    /// A layer reads a name that is not an earlier layer (nor `input`).
    case unknownInput(layer: String, input: String, known: [String])

    public var description: String {
        switch self {
        case let .incompatibleInput(layer, expected, got):
            "layer \(layer) expects \(expected), got input shape \(shapeText(got))"
        case let .invalidParameter(layer, message): "layer \(layer): \(message)"
        case let .unknownStateKey(key): "unknown state-dict key '\(key)'"
        case let .missingStateKey(key): "state dict lacks key '\(key)'"
        case let .stateShapeMismatch(key, expected, got): "state-dict key '\(key)' has shape \(got), expected \(expected)"
        case let .unknownInput(layer, input, known):
            "layer \(layer) reads '\(input)'\(Suggestion.hint(for: input, among: known)), which is not an earlier layer; it can read: \(known.joined(separator: ", "))"
        }
    }
}

/// `[N, a, b, c]` without the batch axis, for messages: `a×b×c`.
func shapeText(_ shape: [Int]) -> String { shape.dropFirst().map(String.init).joined(separator: "×") }
