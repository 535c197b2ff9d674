import Tensors
import Testing

@testable import Layers

/// Finite-difference checks of whole models built from the graph and transformer layer kinds:
/// the gradient of the summed cross-entropy with respect to the input and to every parameter.
@Suite struct LayerGradientTests {
    static func check(_ nodes: [ModelNode], inputShape: [Int], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var rng = RandomSource(seed: 21)
        let model = try Sequential(nodes: nodes, inputShape: inputShape, rng: &rng)
        // Parameters away from their initial zeros and ones, so that every path carries gradient.
        for (_, parameter) in model.namedParameters {
            parameter.value = parameter.value + Tensor.normal(shape: parameter.value.shape, std: 0.3, using: &rng)
        }
        let x = Tensor.normal(shape: [2] + inputShape, using: &rng)
        let result = FiniteDifferences(step: 1e-2, floor: 0.1, inputElements: 12, parameterElements: 6).check(model, input: x, labels: [1, 2])
        let (input, parameters, checked) = (result.input, result.parameters, result.checked)
        #expect(checked > 0, sourceLocation: sourceLocation)
        #expect(input < 2e-2 && parameters < 2e-2, "input \(input), parameters \(parameters)", sourceLocation: sourceLocation)
    }

    @Test func attentionAndNormalisationLayers() throws {
        try Self.check(
            [
                ModelNode(name: "class_token", spec: ClassTokenSpec()),
                ModelNode(name: "pos", spec: PositionEmbeddingSpec()),
                ModelNode(name: "ln", spec: LayerNormSpec()),
                ModelNode(name: "attention", spec: MultiheadAttentionSpec(heads: 2)),
                ModelNode(name: "mlp", spec: LinearSpec(outFeatures: 6)),
                ModelNode(name: "gelu", spec: GELUSpec()),
                ModelNode(name: "cls", spec: SliceSpec(dim: 0, start: 0, end: 1)),
                ModelNode(name: "flatten", spec: FlattenSpec()),
                ModelNode(name: "head", spec: LinearSpec(outFeatures: 3)),
            ], inputShape: [3, 4])
    }

    @Test func mergesAndShapes() throws {
        try Self.check(
            [
                ModelNode(name: "a", spec: LinearSpec(outFeatures: 4)),
                ModelNode(name: "b", spec: SigmoidSpec(), inputs: ["input"]),
                ModelNode(name: "b2", spec: LinearSpec(outFeatures: 4)),
                ModelNode(name: "gate", spec: MultiplySpec(), inputs: ["a", "b2"]),
                ModelNode(name: "silu", spec: SiLUSpec()),
                ModelNode(name: "tanh", spec: TanhSpec(), inputs: ["a"]),
                ModelNode(name: "joined", spec: ConcatSpec(dim: 0), inputs: ["silu", "tanh"]),
                ModelNode(name: "t", spec: PermuteSpec(dims: [1, 0])),
                ModelNode(name: "square", spec: MatMulSpec(), inputs: ["joined", "t"]),
                ModelNode(name: "soft", spec: SoftmaxSpec()),
                ModelNode(name: "leaky", spec: LeakyReLUSpec(negativeSlope: 0.1)),
                ModelNode(name: "hard", spec: HardswishSpec()),
                ModelNode(name: "flat", spec: ReshapeSpec(shape: [-1])),
                ModelNode(name: "head", spec: LinearSpec(outFeatures: 3)),
            ], inputShape: [3, 5])
    }

    @Test func aVisionTransformer() throws {
        let nodes = try VisionTransformerSpec(patch: 2, dim: 4, depth: 1, heads: 2, mlpRatio: 2).nodes(inputShape: [1, 4, 4], outputs: 3)
        try Self.check(nodes, inputShape: [1, 4, 4])
    }

    /// Attention dropout draws random numbers: MC-dropout passes start before the first
    /// attention that drops out.
    @Test func attentionDropoutIsStochastic() throws {
        let nodes = try VisionTransformerSpec(patch: 2, dim: 4, depth: 2, heads: 2, attentionDropout: 0.1).nodes(inputShape: [1, 4, 4], outputs: 3)
        var rng = RandomSource(seed: 1)
        let model = try Sequential(nodes: nodes, inputShape: [1, 4, 4], rng: &rng)
        let first = try #require(model.layers.firstIndex { $0.name == "encoder.layers.encoder_layer_0.self_attention" })
        #expect(model.firstStochasticLayer == first - 1)
        let x = Tensor.uniform(shape: [3, 1, 4, 4], using: &rng)
        let a = model.logits(x, mode: .monteCarloDropout, rng: RandomSource(seed: 1))
        #expect(a != model.logits(x, mode: .monteCarloDropout, rng: RandomSource(seed: 2)))
        #expect(model.logits(x) == model.logits(x))
    }
}

/// Grouped, depthwise, dilated and unevenly padded convolutions as layers.
@Suite struct GeneralConvolutionLayerTests {
    @Test func groupedDilatedAndPaddedConvolutions() throws {
        try LayerGradientTests.check(
            [
                ModelNode(name: "grouped", spec: Conv2dSpec(outChannels: 4, kernelSize: 3, padding: 1, groups: 2)),
                ModelNode(name: "depthwise", spec: Conv2dSpec(outChannels: 4, kernelSize: 3, bias: false, groups: 4, pads: [1, 0, 1, 2])),
                ModelNode(name: "dilated", spec: Conv2dSpec(outChannels: 2, kernelSize: 2, stride: 2, dilation: 2)),
                ModelNode(name: "flatten", spec: FlattenSpec()),
                ModelNode(name: "head", spec: LinearSpec(outFeatures: 3)),
            ], inputShape: [2, 7, 7])
        var rng = RandomSource(seed: 1)
        let layer = try Conv2dSpec(outChannels: 6, kernelSize: 3, groups: 3).makeLayer(inputShape: [1, 3, 5, 5], rng: &rng)
        #expect(layer.parameters[0].value.shape == [6, 1, 3, 3])
        #expect(throws: ModelError.self) { try Conv2dSpec(outChannels: 4, kernelSize: 3, groups: 3).outputShape(for: [1, 3, 5, 5]) }
        #expect(Conv2dSpec(outChannels: 1, kernelSize: 3, pads: [1, 1, 1]).problems().count == 1)
    }
}

@Suite struct BatchNorm1dTests {
    /// Training mode on `[N, C]` features: per-feature batch statistics (biased variance) and
    /// PyTorch's running estimates (momentum 0.1, unbiased variance).
    @Test func normalisesFeaturesWithBatchStatistics() throws {
        var rng = RandomSource(seed: 3)
        let layer = try BatchNorm1dSpec().makeLayer(inputShape: [4, 3], rng: &rng)
        let x = Tensor(shape: [4, 3], scalars: [1, 2, 3, 2, 4, 6, 3, 6, 9, 6, 0, 2])
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .training, rng: rng)
        let y = layer.forward(tape.leaf(x), context: &context).value
        for c in 0..<3 {
            let column = (0..<4).map { Double(x.scalars[$0 * 3 + c]) }
            let mean = column.reduce(0, +) / 4
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4
            for n in 0..<4 {
                #expect(abs(Double(y.scalars[n * 3 + c]) - (column[n] - mean) / (variance + 1e-5).squareRoot()) < 1e-5)
            }
            let running = Dictionary(uniqueKeysWithValues: layer.buffers.map { ($0.name, $0.value) })
            #expect(abs(Double(running["running_mean"]!.scalars[c]) - 0.1 * mean) < 1e-6)
            #expect(abs(Double(running["running_var"]!.scalars[c]) - (0.9 + 0.1 * variance * 4 / 3)) < 1e-5)
        }
        #expect(layer.buffers.map(\.name) == ["running_mean", "running_var", "num_batches_tracked"])
    }
}

@Suite struct GroupNormTests {
    /// Two groups of two channels: each group's four channels × positions normalised together,
    /// then scaled and shifted per channel; gradients by finite differences.
    @Test func normalisesEachGroupOfChannels() throws {
        var rng = RandomSource(seed: 7)
        let layer = try GroupNormSpec(numGroups: 2).makeLayer(inputShape: [1, 4, 2, 2], rng: &rng)
        let x = Tensor.normal(shape: [1, 4, 2, 2], using: &rng)
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: rng)
        let y = layer.forward(tape.leaf(x), context: &context).value
        for group in 0..<2 {
            let values = x.scalars[(group * 8)..<(group * 8 + 8)].map(Double.init)
            let mean = values.reduce(0, +) / 8
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 8
            for (k, v) in values.enumerated() {
                #expect(abs(Double(y.scalars[group * 8 + k]) - (v - mean) / (variance + 1e-5).squareRoot()) < 1e-5)
            }
        }
        try LayerGradientTests.check(
            [
                ModelNode(name: "conv", spec: Conv2dSpec(outChannels: 4, kernelSize: 3, padding: 1)),
                ModelNode(name: "gn", spec: GroupNormSpec(numGroups: 2)),
                ModelNode(name: "pick", spec: GatherSpec(dim: 0, indices: [3, 1])),
                ModelNode(name: "flatten", spec: FlattenSpec()),
                ModelNode(name: "head", spec: LinearSpec(outFeatures: 3)),
            ], inputShape: [1, 4, 4])
    }
}

@Suite struct TokenLinearTests {
    /// Tokens in training read the weight transposed (many rows against a small weight); after
    /// an optimizer step changes the weight, the next forward uses the new weight, not a stale
    /// transposed copy.
    @Test func trainingForwardFollowsTheUpdatedWeight() throws {
        var rng = RandomSource(seed: 4)
        let layer = try #require(try LinearSpec(outFeatures: 3).makeLayer(inputShape: [6, 4], rng: &rng) as? Linear)
        #expect(!Linear.readsTransposedWeight(rows: 2, weight: layer.weight.value, mode: .training))
        let x = Tensor.normal(shape: [2, 6, 4], using: &rng)
        func forward() -> Tensor {
            let tape = Tape()
            var context = ForwardContext(tape: tape, mode: .training, rng: rng, parametersRequireGradients: true)
            return layer.forward(tape.leaf(x), context: &context).value
        }
        func expected() -> Tensor {
            let w = layer.weight.value, b = layer.bias!.value
            var y = Tensor(shape: [2, 6, 3])
            for r in 0..<12 {
                for o in 0..<3 {
                    var sum = b.scalars[o]
                    for i in 0..<4 { sum += x.scalars[r * 4 + i] * w.scalars[o * 4 + i] }
                    y.scalars[r * 3 + o] = sum
                }
            }
            return y
        }
        #expect(forward().maxAbsDifference(expected()) < 1e-5)
        layer.weight.gradient = Tensor.normal(shape: [3, 4], using: &rng)
        SGD(spec: SGDSpec(lr: 0.5)).step([layer.weight])
        #expect(forward().maxAbsDifference(expected()) < 1e-5)
    }
}
