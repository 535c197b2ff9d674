import Tensors

/// Per-channel input normalisation `(x − mean) / std`, applied inside the model so that
/// attacks and corruptions work on [0, 1] pixels while the layers see normalised values.
public struct InputNormalization: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }
}

/// One row of a model summary.
public struct LayerSummary: Sendable, Equatable {
    public var name: String
    public var kind: String
    /// Output shape for one sample (batch axis dropped).
    public var outputShape: [Int]
    public var parameterCount: Int
    /// Multiply-accumulates of one forward pass for one sample.
    public var multiplyAccumulates: Int
}

/// A model: a graph of named layers in an order where every layer comes after the layers it
/// reads (PyTorch's `nn.Sequential` when each reads the one before; residual networks when an
/// `add` reads two). The last layer is the output.
///
/// State-dict keys are `<layer name>.<suffix>`; unnamed layers are named by their index, so a
/// model declared as a list gets PyTorch's `0.weight`, `3.running_mean`, … keys, and dotted
/// names give nested keys (`layer1.0.conv1.weight`).
public final class Sequential {
    /// The name by which a node reads the model's (normalised) input.
    public static let inputName = ModelPlan.inputName

    /// The shape of one input sample, for example `[1, 28, 28]`.
    public let inputShape: [Int]
    public let normalization: InputNormalization?
    public let layers: [(name: String, kind: String, layer: any Layer)]
    /// The graph: which layers each layer reads, output shapes, cuts.
    public let plan: ModelPlan
    /// The layers each layer reads, by index; -1 is the model's input.
    public var inputs: [[Int]] { plan.inputs }

    /// Builds a chain: the layers in order, each reading the previous output.
    public convenience init(
        layers specs: [(name: String, spec: any LayerSpec)], inputShape: [Int],
        normalization: InputNormalization? = nil, rng: inout RandomSource
    ) throws(ModelError) {
        try self.init(nodes: specs.map { ModelNode(name: $0.name, spec: $0.spec) }, inputShape: inputShape, normalization: normalization, rng: &rng)
    }

    /// Builds the nodes in order, inferring each layer's input size from the outputs it reads
    /// (planned for batches of `planningBatch`: see `ModelPlan`).
    public init(
        nodes: [ModelNode], inputShape: [Int],
        normalization: InputNormalization? = nil, planningBatch: Int = 1, rng: inout RandomSource
    ) throws(ModelError) {
        if let normalization,
            normalization.mean.count != inputShape.first || normalization.std.count != inputShape.first
                || normalization.std.contains(where: { $0 <= 0 })
        {
            throw .invalidParameter(layer: "normalization", message: "needs one mean and one positive std per input channel (\(inputShape.first ?? 0))")
        }
        self.inputShape = inputShape
        self.normalization = normalization
        let plan: ModelPlan
        do { plan = try ModelPlan(nodes: nodes, inputShape: inputShape, batch: planningBatch) } catch { throw error.error }
        var built: [(String, String, any Layer)] = []
        for (index, node) in nodes.enumerated() {
            let kind = node.spec.summaryKind
            do {
                built.append((node.name, kind, try node.spec.makeLayer(inputShape: plan.inputShape(of: index), rng: &rng)))
            } catch {
                throw error.naming(layer: "'\(node.name)' (\(kind))")
            }
        }
        self.layers = built
        self.plan = plan
        self.isPerSample = ModelPlan.perSampleNodes(nodes: nodes, inputShape: inputShape)
    }

    /// Whether each layer's output is a batch of per-sample outputs (`ModelPlan.perSampleNodes`).
    public let isPerSample: [Bool]

    /// The layers whose outputs are per-sample activations, in order: what per-layer
    /// statistics and recorded activations can be taken of.
    public var perSampleLayerNames: [String] { layers.indices.filter { isPerSample[$0] }.map { layers[$0].name } }

    /// The shape of one output sample.
    public var outputShape: [Int] { Array((plan.shapes.last ?? [1] + inputShape).dropFirst()) }

    /// Whether every layer reads the one before it (no branches).
    public var isChain: Bool { inputs.enumerated().allSatisfy { $0.element == [$0.offset - 1] } }

    /// Whether layer `b` reads only layer `a`, and `a`'s output goes nowhere else.
    @inline(__always) func isLink(_ a: Int, _ b: Int) -> Bool { plan.inputs[b] == [a] && plan.consumers[a] == 1 }

    /// Runs every layer in order. Outputs of layers named in `context.recordedLayers` are kept in
    /// `context.activations` (the name `input` records the normalised input).
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        forward(input, layers: layers.indices, context: &context)
    }

    /// Runs the layers in `range` only: from the raw input (normalised first) when the range
    /// starts at 0, otherwise from the output of the layer before it, which must then be all the
    /// range reads (`isCut`).
    public func forward(_ input: Variable, layers range: Range<Int>, context: inout ForwardContext) -> Variable {
        forward(input, layers: range, context: &context, inputIsNormalized: false)
    }

    /// `forward`, where `inputIsNormalized` says that the input is already normalised
    /// (`normalizedRows`), so that a range starting at 0 does not normalise it again.
    func forward(_ input: Variable, layers range: Range<Int>, context: inout ForwardContext, inputIsNormalized: Bool) -> Variable {
        precondition(plan.isCut[range.lowerBound], "a pass from layer \(range.lowerBound) reads outputs of layers before \(range.lowerBound - 1)")
        var start = input
        if range.lowerBound == 0 {
            if let (scale, shift) = normalizationCoefficients, !inputIsNormalized {
                start = start.channelAffine(scale: scale, shift: shift)
            }
            if context.recordedLayers.contains(Self.inputName) { context.activations[Self.inputName] = start }
        }
        // Outputs by layer index, kept until the pass ends (the tape holds them anyway).
        var outputs = [Variable?](repeating: nil, count: layers.count)
        func output(of index: Int) -> Variable { index == range.lowerBound - 1 ? start : outputs[index]! }
        var index = range.lowerBound
        var last = start
        while index < range.upperBound {
            let (name, _, layer) = layers[index]
            if let merge = layer as? any MergeLayer {
                last = merge.forward(inputs[index].map(output(of:)), context: &context)
                outputs[index] = last
                if context.recordedLayers.contains(name) { context.activations[name] = last }
                index += 1
                continue
            }
            let x = output(of: inputs[index][0])
            // A convolution, optionally a ReLU, then 2×2 max pooling with stride 2, each reading
            // only the one before: the pooling runs on each chunk of the convolution's output
            // while it is in cache (and the ReLU on the pooled values, which is the same, as
            // below), so the full-resolution output is never written. Taken when neither the
            // convolution's nor the ReLU's output is asked for.
            if let conv = layer as? Conv2d, !context.recordedLayers.contains(name) {
                let hasReLU =
                    index + 1 < range.upperBound && layers[index + 1].layer is ReLU && isLink(index, index + 1)
                    && !context.recordedLayers.contains(layers[index + 1].name)
                let poolIndex = index + (hasReLU ? 2 : 1)
                if poolIndex < range.upperBound, isLink(poolIndex - 1, poolIndex), let pool = layers[poolIndex].layer as? MaxPool2d,
                    pool.spec.kernelSize == 2, (pool.spec.stride ?? 2) == 2, pool.spec.padding == 0,
                    let pooled = conv.forwardPooled2x2(x, relu: hasReLU, context: &context)
                {
                    last = pooled
                    outputs[poolIndex] = pooled
                    if context.recordedLayers.contains(layers[poolIndex].name) { context.activations[layers[poolIndex].name] = pooled }
                    index = poolIndex + 1
                    continue
                }
            }
            // ReLU then max pooling is max pooling then ReLU: both are monotone and the window's
            // first maximum stays its first maximum, so outputs and gradients are the same, bit
            // for bit, and the ReLU runs on the pooled tensor (a quarter of the size for 2×2).
            // Taken when the ReLU's own output is not asked for and only the pooling reads it.
            if layer is ReLU, index + 1 < range.upperBound, layers[index + 1].layer is MaxPool2d, isLink(index, index + 1),
                !context.recordedLayers.contains(name)
            {
                let pool = layers[index + 1]
                last = pool.layer.forward(x, context: &context).relu()
                outputs[index + 1] = last
                if context.recordedLayers.contains(pool.name) { context.activations[pool.name] = last }
                index += 2
                continue
            }
            last = layer.forward(x, context: &context)
            outputs[index] = last
            if context.recordedLayers.contains(name) { context.activations[name] = last }
            index += 1
        }
        return last
    }

    /// The input normalisation `(x − mean) / std` as `scale · x + shift` per channel, or nil.
    var normalizationCoefficients: (scale: [Float], shift: [Float])? {
        normalization.map { ($0.std.map { 1 / $0 }, zip($0.mean, $0.std).map { -$0 / $1 }) }
    }

    /// Samples `rows` of a batch of raw inputs, normalised (`forward`'s first step) in one pass
    /// from the batch, with no copy of the rows first; the rows alone without a normalisation.
    func normalizedRows(_ inputs: Tensor, _ rows: Range<Int>) -> Tensor {
        guard let (scale, shift) = normalizationCoefficients else { return inputs.slice(rows) }
        return Kernels.channelAffine(inputs, rows: rows, scale: scale, shift: shift)
    }

    /// Where MC-dropout passes can start from a shared prefix, or nil when no layer draws random
    /// numbers in MC-dropout mode (`drawsRandomNumbers`: dropout, attention dropout): the last cut (`isCut`) at or
    /// before the first such layer. Every layer before it gives the same output on every pass,
    /// and its last layer's output is all the rest reads, so the passes compute the prefix once.
    public var firstStochasticLayer: Int? {
        guard let first = layers.firstIndex(where: { $0.layer.drawsRandomNumbers }) else { return nil }
        return (0...first).last { plan.isCut[$0] }
    }

    /// Logits for a batch without recording gradients. In inference mode the batch is split
    /// into one part per thread of the job (`forEachSamplePart`).
    public func logits(_ images: Tensor, mode: ForwardMode = .inference, rng: RandomSource = RandomSource(seed: 0)) -> Tensor {
        guard mode == .inference else { return values(images, layers: layers.indices, mode: mode, rng: rng) }
        return perSampleValues(images, layers: layers.indices, mode: mode)
    }

    /// The output of the layers in `range` for a batch, split into one part per thread of the
    /// job (`forEachSamplePart`). Those layers must compute every sample on its own in `mode`:
    /// no random draws, no batch statistics (inference mode; in MC-dropout mode, the layers
    /// before the first dropout).
    public func perSampleValues(_ input: Tensor, layers range: Range<Int>, mode: ForwardMode) -> Tensor {
        mapSampleParts(input) { values($0, layers: range, mode: mode) }
    }

    /// The output of the layers in `range` for a batch (from the raw input when the range starts
    /// at 0), without recording gradients: one pass on the calling thread.
    public func values(_ input: Tensor, layers range: Range<Int>, mode: ForwardMode, rng: RandomSource = RandomSource(seed: 0)) -> Tensor {
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: mode, rng: rng)
        return forward(tape.leaf(input), layers: range, context: &context).value
    }

    /// Copies the gradients of the parameter leaves of `context` into the parameters.
    public func collectGradients(from context: ForwardContext) {
        for (parameter, leaf) in context.parameterLeaves {
            parameter.gradient = context.tape.gradient(of: leaf)
        }
    }

    /// The state-dict key of a layer's parameter or buffer: `<layer>.<suffix>`, or the layer's
    /// name alone for an unnamed one (a learned constant such as `class_token`).
    static func key(_ layer: String, _ suffix: String) -> String { suffix.isEmpty ? layer : "\(layer).\(suffix)" }

    /// Every trainable parameter with its state-dict key.
    public var namedParameters: [(key: String, parameter: Parameter)] {
        layers.flatMap { name, _, layer in layer.parameters.map { (Self.key(name, $0.name), $0) } }
    }

    /// Parameters and buffers by PyTorch state-dict key, in layer order.
    public func stateDict() -> [(key: String, value: Tensor)] {
        layers.flatMap { name, _, layer in
            layer.parameters.map { (Self.key(name, $0.name), $0.value) } + layer.buffers.map { (Self.key(name, $0.name), $0.value) }
        }
    }

    /// Restores parameters and buffers; every key must be present with its shape, and no other.
    public func loadStateDict(_ state: [String: Tensor]) throws(ModelError) {
        let expected = stateDict()
        if let extra = state.keys.sorted().first(where: { key in !expected.contains { $0.key == key } }) {
            throw .unknownStateKey(extra)
        }
        for (key, current) in expected {
            guard let value = state[key] else { throw .missingStateKey(key) }
            guard value.shape == current.shape else { throw .stateShapeMismatch(key: key, expected: current.shape, got: value.shape) }
        }
        for (name, _, layer) in layers {
            for parameter in layer.parameters { parameter.value = state[Self.key(name, parameter.name)]! }
            for buffer in layer.buffers {
                do { try layer.setBuffer(buffer.name, to: state[Self.key(name, buffer.name)]!) } catch {
                    throw .unknownStateKey(Self.key(name, buffer.name))
                }
            }
        }
    }

    /// Layers, output shapes, parameter counts and multiply-accumulates per sample, one row per
    /// layer in order.
    public func summary() -> [LayerSummary] {
        layers.enumerated().map { index, entry in
            LayerSummary(
                name: entry.name, kind: entry.kind, outputShape: Array(plan.shapes[index].dropFirst()),
                parameterCount: entry.layer.parameters.reduce(0) { $0 + $1.value.count },
                multiplyAccumulates: plan.multiplyAccumulates(of: index))
        }
    }

    /// Layers that read nothing (the weight nodes of an imported graph) fold into the first
    /// layer that reads them: the rows of `summary()` without them, their parameters counted
    /// where they are used, with each remaining row's index into `layers`.
    public func foldedSummary() -> [(index: Int, row: LayerSummary)] {
        let rows = summary()
        var extra = [Int](repeating: 0, count: rows.count)
        for index in rows.indices where inputs[index].isEmpty {
            if let consumer = inputs.indices.first(where: { inputs[$0].contains(index) }) { extra[consumer] += rows[index].parameterCount }
        }
        return rows.indices.filter { !inputs[$0].isEmpty }.map { index in
            var row = rows[index]
            row.parameterCount += extra[index]
            return (index, row)
        }
    }

    /// The total number of trainable scalars.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }
}

extension ModelError {
    /// The same error with the layer described by its name and kind.
    func naming(layer: String) -> ModelError {
        switch self {
        case let .incompatibleInput(_, expected, got): .incompatibleInput(layer: layer, expected: expected, got: got)
        case let .invalidParameter(_, message): .invalidParameter(layer: layer, message: message)
        default: self
        }
    }

    /// The error without its layer, for a message that names the layer itself.
    var message: String {
        switch self {
        case let .incompatibleInput(_, expected, got): "expects \(expected), got \(shapeText(got))"
        case let .invalidParameter(_, message): message
        default: description
        }
    }
}
