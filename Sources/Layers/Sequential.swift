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

/// A model as an ordered list of named layers (PyTorch's `nn.Sequential`).
///
/// State-dict keys are `<layer name>.<suffix>`; unnamed layers are named by their index, so a
/// model declared as a list gets PyTorch's `0.weight`, `3.running_mean`, … keys.
public final class Sequential {
    /// The shape of one input sample, for example `[1, 28, 28]`.
    public let inputShape: [Int]
    public let normalization: InputNormalization?
    public let layers: [(name: String, kind: String, layer: any Layer)]

    /// Builds the layers in order, inferring each layer's input size from the previous output.
    public init(
        layers specs: [(name: String, spec: any LayerSpec)], inputShape: [Int],
        normalization: InputNormalization? = nil, rng: inout RandomSource
    ) throws(ModelError) {
        if let normalization,
            normalization.mean.count != inputShape.first || normalization.std.count != inputShape.first
                || normalization.std.contains(where: { $0 <= 0 })
        {
            throw .invalidParameter(layer: "normalization", message: "needs one mean and one positive std per input channel (\(inputShape.first ?? 0))")
        }
        self.inputShape = inputShape
        self.normalization = normalization
        var shape = [1] + inputShape
        var built: [(String, String, any Layer)] = []
        for (name, spec) in specs {
            let kind = type(of: spec).kind
            do {
                let layer = try spec.makeLayer(inputShape: shape, rng: &rng)
                shape = try spec.outputShape(for: shape)
                built.append((name, kind, layer))
            } catch {
                throw error.naming(layer: "'\(name)' (\(kind))")
            }
        }
        self.layers = built
    }

    /// The shape of one output sample.
    public var outputShape: [Int] {
        Array(layers.reduce([1] + inputShape) { $1.layer.outputShape(for: $0) }.dropFirst())
    }

    /// Runs every layer in order. Outputs of layers named in `context.recordedLayers` are kept in
    /// `context.activations` (the name `input` records the normalised input).
    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        forward(input, layers: layers.indices, context: &context)
    }

    /// Runs the layers in `range` only: from the raw input (normalised first) when the range
    /// starts at 0, otherwise from the output of the layer before it.
    public func forward(_ input: Variable, layers range: Range<Int>, context: inout ForwardContext) -> Variable {
        forward(input, layers: range, context: &context, inputIsNormalized: false)
    }

    /// `forward`, where `inputIsNormalized` says that the input is already normalised
    /// (`normalizedRows`), so that a range starting at 0 does not normalise it again.
    func forward(_ input: Variable, layers range: Range<Int>, context: inout ForwardContext, inputIsNormalized: Bool) -> Variable {
        var x = input
        if range.lowerBound == 0 {
            if let (scale, shift) = normalizationCoefficients, !inputIsNormalized {
                x = x.channelAffine(scale: scale, shift: shift)
            }
            if context.recordedLayers.contains("input") { context.activations["input"] = x }
        }
        var index = range.lowerBound
        while index < range.upperBound {
            let (name, _, layer) = layers[index]
            // A convolution, optionally a ReLU, then 2×2 max pooling with stride 2: the pooling runs
            // on each chunk of the convolution's output while it is in cache (and the ReLU on the
            // pooled values, which is the same, as below), so the full-resolution output is never
            // written. Taken when neither the convolution's nor the ReLU's output is asked for.
            if let conv = layer as? Conv2d, !context.recordedLayers.contains(name) {
                let hasReLU = index + 1 < range.upperBound && layers[index + 1].layer is ReLU && !context.recordedLayers.contains(layers[index + 1].name)
                let poolIndex = index + (hasReLU ? 2 : 1)
                if poolIndex < range.upperBound, let pool = layers[poolIndex].layer as? MaxPool2d,
                    pool.spec.kernelSize == 2, (pool.spec.stride ?? 2) == 2, pool.spec.padding == 0,
                    let pooled = conv.forwardPooled2x2(x, relu: hasReLU, context: &context)
                {
                    x = pooled
                    if context.recordedLayers.contains(layers[poolIndex].name) { context.activations[layers[poolIndex].name] = x }
                    index = poolIndex + 1
                    continue
                }
            }
            // ReLU then max pooling is max pooling then ReLU: both are monotone and the window's
            // first maximum stays its first maximum, so outputs and gradients are the same, bit
            // for bit, and the ReLU runs on the pooled tensor (a quarter of the size for 2×2).
            // Taken when the ReLU's own output is not asked for.
            if layer is ReLU, index + 1 < range.upperBound, layers[index + 1].layer is MaxPool2d, !context.recordedLayers.contains(name) {
                let pool = layers[index + 1]
                x = pool.layer.forward(x, context: &context).relu()
                if context.recordedLayers.contains(pool.name) { context.activations[pool.name] = x }
                index += 2
                continue
            }
            x = layer.forward(x, context: &context)
            if context.recordedLayers.contains(name) { context.activations[name] = x }
            index += 1
        }
        return x
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

    /// The index of the first layer that draws random numbers in MC-dropout mode (a dropout
    /// layer with p > 0), or nil. Every layer before it gives the same output on every pass,
    /// so MC-dropout passes can share it.
    public var firstStochasticLayer: Int? {
        layers.firstIndex { entry in (entry.layer as? Dropout).map { $0.p > 0 } ?? false }
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

    /// Every trainable parameter with its state-dict key.
    public var namedParameters: [(key: String, parameter: Parameter)] {
        layers.flatMap { name, _, layer in layer.parameters.map { ("\(name).\($0.name)", $0) } }
    }

    /// Parameters and buffers by PyTorch state-dict key, in layer order.
    public func stateDict() -> [(key: String, value: Tensor)] {
        layers.flatMap { name, _, layer in
            layer.parameters.map { ("\(name).\($0.name)", $0.value) } + layer.buffers.map { ("\(name).\($0.name)", $0.value) }
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
            for parameter in layer.parameters { parameter.value = state["\(name).\(parameter.name)"]! }
            for buffer in layer.buffers {
                do { try layer.setBuffer(buffer.name, to: state["\(name).\(buffer.name)"]!) } catch {
                    throw .unknownStateKey("\(name).\(buffer.name)")
                }
            }
        }
    }

    /// Layers, output shapes, parameter counts and multiply-accumulates per sample.
    public func summary() -> [LayerSummary] {
        var shape = [1] + inputShape
        return layers.map { name, kind, layer in
            let macs = layer.multiplyAccumulates(for: shape)
            shape = layer.outputShape(for: shape)
            return LayerSummary(
                name: name, kind: kind, outputShape: Array(shape.dropFirst()),
                parameterCount: layer.parameters.reduce(0) { $0 + $1.value.count }, multiplyAccumulates: macs)
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
}
