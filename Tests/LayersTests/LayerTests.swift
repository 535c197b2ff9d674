@testable import Layers
import Tensors
import Testing

@Suite struct LayerTests {
    @Test func linearUsesPyTorchInitialisationAndMatchesReference() throws {
        var rng = RandomSource(seed: 1)
        let layer = try LinearSpec(outFeatures: 64).makeLayer(inputShape: [1, 100], rng: &rng) as! Linear
        let bound: Float = 1 / 10  // 1/√100
        let weights = layer.weight.value.scalars
        #expect(weights.allSatisfy { abs($0) <= bound })
        #expect(weights.max()! > 0.95 * bound && weights.min()! < -0.95 * bound)  // spans the interval
        #expect(layer.bias!.value.scalars.allSatisfy { abs($0) <= bound })

        let x = Tensor.normal(shape: [3, 100], using: &rng)
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: rng)
        let y = layer.forward(tape.leaf(x), context: &context).value
        #expect(y.maxAbsDifference(ReferenceKernels.linear(x, weight: layer.weight.value, bias: layer.bias!.value)) < 1e-5)
    }

    /// The transposed weight a linear layer's forward reads is the current one: after an
    /// optimizer's step in place and after an assignment, the output follows the new weight.
    @Test func linearForwardFollowsItsWeightThroughStepsAndAssignments() throws {
        var rng = RandomSource(seed: 3)
        let layer = try LinearSpec(outFeatures: 20).makeLayer(inputShape: [1, 37], rng: &rng) as! Linear
        let x = Tensor.normal(shape: [5, 37], using: &rng)
        func output() -> Tensor {
            let tape = Tape()
            var context = ForwardContext(tape: tape, mode: .inference, rng: rng)
            return layer.forward(tape.leaf(x), context: &context).value
        }
        func expected() -> Tensor { ReferenceKernels.linear(x, weight: layer.weight.value, bias: layer.bias!.value) }
        #expect(output().maxAbsDifference(expected()) < 1e-5)
        #expect(layer.weight.transposedValue() == Kernels.transposed(layer.weight.value))
        let before = output()
        layer.weight.gradient = Tensor.normal(shape: layer.weight.value.shape, using: &rng)
        AdamSpec(lr: 0.1).makeOptimizer().step([layer.weight])
        #expect(output().maxAbsDifference(before) > 0.01)
        #expect(output().maxAbsDifference(expected()) < 1e-5)
        layer.weight.value = Tensor.normal(shape: layer.weight.value.shape, using: &rng)
        #expect(output().maxAbsDifference(expected()) < 1e-5)
        #expect(layer.weight.transposedValue() == Kernels.transposed(layer.weight.value))
    }

    @Test func conv2dInitialisationBoundUsesFanIn() throws {
        var rng = RandomSource(seed: 2)
        let layer = try Conv2dSpec(outChannels: 8, kernelSize: 3).makeLayer(inputShape: [1, 4, 6, 6], rng: &rng) as! Conv2d
        let bound = 1 / Float(4 * 9).squareRoot()
        #expect(layer.weight.value.shape == [8, 4, 3, 3])
        #expect(layer.weight.value.scalars.allSatisfy { abs($0) <= bound })
        #expect(layer.weight.value.scalars.max()! > 0.9 * bound)
    }

    @Test func dropoutModes() {
        let dropout = Dropout(p: 0.25)
        let x = Tensor(shape: [100, 100], repeating: 1)
        func run(_ mode: ForwardMode, seed: UInt64) -> Tensor {
            let tape = Tape()
            var context = ForwardContext(tape: tape, mode: mode, rng: RandomSource(seed: seed))
            return dropout.forward(tape.leaf(x), context: &context).value
        }
        #expect(run(.inference, seed: 1) == x)
        for mode in [ForwardMode.training, .monteCarloDropout] {
            let y = run(mode, seed: 1)
            let zeros = y.scalars.filter { $0 == 0 }.count
            #expect(abs(Double(zeros) / 10000 - 0.25) < 0.02)
            #expect(y.scalars.allSatisfy { $0 == 0 || abs($0 - 4 / 3) < 1e-6 })  // survivors scaled by 1/(1−p)
            #expect(run(mode, seed: 1) == y)  // seeded
            #expect(run(mode, seed: 2) != y)
            // One word of the generator per mask, the key of the stream that decides each element.
            var draws = RandomSource(seed: 1)
            let key = draws.next()
            let expected = (0..<10000).map { RandomSource.dropoutMaskElement(key: key, index: $0, p: 0.25, keep: 1 / (1 - 0.25 as Float)) }
            #expect(y.scalars == expected)
        }
    }

    @Test func batchNormRunningStatisticsFollowPyTorch() {
        let bn = BatchNorm2d(channels: 1, spec: BatchNorm2dSpec(momentum: 0.1))
        // One channel, 4 values: mean 2.5, biased variance 1.25, unbiased 5/3.
        let x = Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 4])
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .training, rng: RandomSource(seed: 0))
        let y = bn.forward(tape.leaf(x), context: &context).value
        let invStd = 1 / (1.25 + 1e-5 as Float).squareRoot()
        #expect(y.maxAbsDifference(Tensor(shape: [2, 1, 1, 2], scalars: [-1.5, -0.5, 0.5, 1.5].map { $0 * invStd })) < 1e-5)
        #expect(abs(bn.runningMean.scalars[0] - 0.25) < 1e-6)  // 0.9·0 + 0.1·2.5
        #expect(abs(bn.runningVariance.scalars[0] - (0.9 + 0.1 * 5 / 3)) < 1e-6)  // unbiased variance
        #expect(bn.batchesTracked == 1)

        var inference = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
        let z = bn.forward(tape.leaf(x), context: &inference).value
        let expected = x.scalars.map { ($0 - 0.25) / (bn.runningVariance.scalars[0] + 1e-5).squareRoot() }
        #expect(z.maxAbsDifference(Tensor(shape: x.shape, scalars: expected)) < 1e-5)
    }

    @Test func shapeErrorsNameTheLayer() {
        var rng = RandomSource(seed: 0)
        #expect(throws: ModelError.self) {
            try Sequential(layers: [("0", LinearSpec(outFeatures: 10))], inputShape: [1, 28, 28], rng: &rng)
        }
        do {
            _ = try Sequential(layers: [("stem", Conv2dSpec(outChannels: 4, kernelSize: 9))], inputShape: [1, 5, 5], rng: &rng)
            Issue.record("a 9×9 kernel on a 5×5 image must not build")
        } catch {
            #expect(error.description.contains("'stem' (conv2d)"))
        }
    }
}

@Suite struct SequentialTests {
    static func smallCNN(seed: UInt64 = 3) throws -> Sequential {
        var rng = RandomSource(seed: seed)
        return try Sequential(
            layers: [
                ("0", Conv2dSpec(outChannels: 3, kernelSize: 3, padding: 1)),
                ("1", BatchNorm2dSpec()),
                ("2", ReLUSpec()),
                ("3", MaxPool2dSpec(kernelSize: 2)),
                ("4", FlattenSpec()),
                ("head", LinearSpec(outFeatures: 4)),
            ], inputShape: [1, 6, 6], normalization: InputNormalization(mean: [0.5], std: [0.25]), rng: &rng)
    }

    @Test func stateDictUsesPyTorchKeysAndRoundTrips() throws {
        let model = try Self.smallCNN()
        #expect(
            model.stateDict().map(\.key) == [
                "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                "head.weight", "head.bias",
            ])
        let other = try Self.smallCNN(seed: 99)
        try other.loadStateDict(Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.key, $0.value) }))
        var rng = RandomSource(seed: 4)
        let x = Tensor.uniform(shape: [2, 1, 6, 6], using: &rng)
        #expect(other.logits(x) == model.logits(x))
        #expect(throws: ModelError.missingStateKey("head.bias")) {
            try other.loadStateDict(Dictionary(uniqueKeysWithValues: model.stateDict().dropLast().map { ($0.key, $0.value) }))
        }
    }

    @Test func summaryCountsParametersAndMultiplyAccumulates() throws {
        let summary = try Self.smallCNN().summary()
        #expect(summary[0].parameterCount == 3 * 9 + 3 && summary[0].multiplyAccumulates == 3 * 36 * 9)
        #expect(summary[3].outputShape == [3, 3, 3])
        #expect(summary[5].parameterCount == 27 * 4 + 4 && summary[5].multiplyAccumulates == 27 * 4)
    }

    @Test func inputGradientOfWholeModelMatchesFiniteDifferences() throws {
        let model = try Self.smallCNN()
        var rng = RandomSource(seed: 5)
        let x = Tensor.uniform(shape: [2, 1, 6, 6], using: &rng)
        let labels = [1, 3]
        let analytic = model.inputGradient(images: x, labels: labels).gradient
        func loss(_ images: Tensor) -> Double {
            let logits = Kernels.logSoftmax(model.logits(images))
            return zip(0..., labels).reduce(0.0) { $0 - Double(logits[$1.0, $1.1]) }
        }
        let h: Float = 2e-3
        var worst: Float = 0
        for i in 0..<x.count {
            var plus = x, minus = x
            plus.scalars[i] += h
            minus.scalars[i] -= h
            let numeric = Float((loss(plus) - loss(minus)) / Double(2 * h))
            worst = max(worst, abs(numeric - analytic.scalars[i]) / max(1, abs(numeric)))
        }
        #expect(worst < 2e-2, "largest relative error \(worst)")
    }

    /// One training-mode forward and backward pass of `model` on `images` (labels 0, 1, 2, …, summed
    /// cross-entropy) recording the layers in `recording` and `activation`: the logits, the input's
    /// gradient, that activation, and every parameter's gradient in layer order.
    static func trainingPass(_ model: Sequential, images: Tensor, recording: Set<String>, activation: String)
        -> (logits: Tensor, input: Tensor, activation: Tensor, parameters: [Tensor])
    {
        let tape = Tape()
        var context = ForwardContext(
            tape: tape, mode: .training, rng: RandomSource(seed: 1), parametersRequireGradients: true,
            recordedLayers: recording.union([activation]))
        let input = tape.leaf(images, requiresGradient: true)
        let logits = model.forward(input, context: &context)
        tape.backward(from: logits.crossEntropy(labels: Array(0..<images.shape[0]), reduction: .sum))
        model.collectGradients(from: context)
        return (
            logits.value, tape.gradient(of: input)!, context.activations[activation]!.value,
            model.layers.flatMap(\.layer.parameters).map { $0.gradient! }
        )
    }

    @Test func reluBeforeMaxPoolingRunsAfterItWithTheSameOutputsAndGradients() throws {
        let model = try Self.smallCNN()
        // Mostly-zero images: many windows hold ties and non-positive values.
        var rng = RandomSource(seed: 8)
        let images = Tensor(shape: [3, 1, 6, 6], scalars: (0..<108).map { _ in rng.nextUnitFloat() < 0.6 ? 0 : 1 })
        func run(recording: Set<String>) -> (logits: Tensor, input: Tensor, weight: Tensor, pooled: Tensor) {
            let pass = Self.trainingPass(model, images: images, recording: recording, activation: "3")
            return (pass.logits, pass.input, pass.parameters[0], pass.activation)
        }
        let reordered = run(recording: []), inOrder = run(recording: ["2"])  // recording the ReLU keeps the written order
        #expect(reordered.logits.scalars == inOrder.logits.scalars)
        #expect(reordered.input.scalars == inOrder.input.scalars)
        #expect(reordered.weight.scalars == inOrder.weight.scalars)
        #expect(reordered.pooled.scalars == inOrder.pooled.scalars && reordered.pooled.scalars.allSatisfy { $0 >= 0 })
        #expect(reordered.input.scalars.contains { $0 != 0 })
    }

    @Test func convolutionReLUAndPoolingFuseWithTheSameOutputsAndGradients() throws {
        var rng = RandomSource(seed: 4)
        let model = try Sequential(
            layers: [
                ("conv", Conv2dSpec(outChannels: 3, kernelSize: 3, padding: 1)),
                ("relu", ReLUSpec()),
                ("pool", MaxPool2dSpec(kernelSize: 2)),
                ("conv2", Conv2dSpec(outChannels: 2, kernelSize: 3, padding: 1)),
                ("pool2", MaxPool2dSpec(kernelSize: 2, stride: 2)),
                ("flatten", FlattenSpec()),
                ("head", LinearSpec(outFeatures: 3)),
            ], inputShape: [1, 8, 8], normalization: nil, rng: &rng)
        let images = Tensor(shape: [3, 1, 8, 8], scalars: (0..<192).map { _ in rng.nextUnitFloat() < 0.6 ? 0 : 1 })
        func run(recording: Set<String>) -> [Tensor] {
            let pass = Self.trainingPass(model, images: images, recording: recording, activation: "pool")
            return [pass.logits, pass.input, pass.activation] + pass.parameters
        }
        // Fused (nothing recorded), ReLU and pooling reordered only (the convolutions recorded), as written (the ReLU recorded too).
        let fused = run(recording: []), reordered = run(recording: ["conv", "conv2"]), written = run(recording: ["conv", "relu", "conv2"])
        // Both convolutions are 3×3 over ≤ 3 channels: fused, their weight and bias gradients are
        // the same sums in another order (Kernels.conv2dMaxPool2x2ParameterGradients); all else is
        // bit for bit.
        let convolutionParameters = 3..<7
        for other in [reordered, written] {
            #expect(fused.count == other.count)
            for (index, (a, b)) in zip(fused, other).enumerated() {
                if convolutionParameters.contains(index) {
                    #expect(a.maxAbsDifference(b) <= 1e-5 * b.scalars.map(abs).max()!, "tensor \(index)")
                } else {
                    #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "tensor \(index)")
                }
            }
        }
        #expect(fused[1].scalars.contains { $0 != 0 } && fused[3].scalars.contains { $0 != 0 })
    }

    @Test func batchesSplitIntoSamplePartsGiveEachSampleItsOnePassResult() throws {
        // A CNN with batch norm (running statistics in inference mode) and dropout (off), and an MLP.
        var rng = RandomSource(seed: 11)
        let cnn = try Sequential(
            layers: [
                ("conv", Conv2dSpec(outChannels: 4, kernelSize: 3, padding: 1)), ("bn", BatchNorm2dSpec()), ("relu", ReLUSpec()),
                ("pool", MaxPool2dSpec(kernelSize: 2)), ("conv2", Conv2dSpec(outChannels: 6, kernelSize: 3, padding: 1)),
                ("relu2", ReLUSpec()), ("pool2", MaxPool2dSpec(kernelSize: 2)), ("flatten", FlattenSpec()),
                ("drop", DropoutSpec(p: 0.5)), ("head", LinearSpec(outFeatures: 5)),
            ], inputShape: [1, 8, 8], normalization: InputNormalization(mean: [0.5], std: [0.25]), rng: &rng)
        let mlp = try Sequential(
            layers: [
                ("flatten", FlattenSpec()), ("fc", LinearSpec(outFeatures: 64)), ("relu", ReLUSpec()),
                ("drop", DropoutSpec(p: 0.2)), ("head", LinearSpec(outFeatures: 5)),
            ],
            inputShape: [1, 8, 8], rng: &rng)
        // Running statistics that are not the defaults.
        _ = cnn.trainStep(
            images: Tensor.uniform(shape: [16, 1, 8, 8], using: &rng), labels: (0..<16).map { $0 % 5 },
            optimizer: AdamSpec().makeOptimizer(), rng: &rng)
        let images = Tensor.uniform(shape: [37, 1, 8, 8], using: &rng), labels = (0..<37).map { $0 % 5 }
        // The same values up to rounding: a part's products have other sizes, and OpenBLAS's
        // kernels for them may add in another order.
        func close(_ a: Tensor, _ b: Tensor) -> Bool {
            a.shape == b.shape && a.maxAbsDifference(b) <= 1e-5 * b.scalars.map(abs).max()!
        }
        for model in [cnn, mlp] {
            let whole = model.values(images, layers: model.layers.indices, mode: .inference)
            let gradient = model.wholeBatchInputGradient(images: images, labels: labels, mode: .inference, rng: RandomSource(seed: 0)).gradient
            #expect(gradient.scalars.contains { $0 != 0 })
            for (parts, ranges) in [(1, [0..<37]), (3, [0..<12, 12..<24, 24..<37]), (4, [0..<9, 9..<18, 18..<27, 27..<37])] {
                #expect(model.forEachSamplePart(37, parts: parts) { $0 } == ranges)
                let split = model.mapSampleParts(images, parts: parts) { model.values($0, layers: model.layers.indices, mode: .inference) }
                #expect(close(split, whole), "\(parts) parts: \(split.maxAbsDifference(whole))")
                let splitGradient = model.splitInputGradient(images: images, labels: labels, parts: parts)
                #expect(close(splitGradient.gradient, gradient), "\(parts) parts: \(splitGradient.gradient.maxAbsDifference(gradient))")
                #expect(close(splitGradient.logits, whole), "\(parts) parts")
            }
            #expect(close(model.logits(images), whole))
        }
        // Fewer than two parts' worth of samples: one part.
        #expect(mlp.forEachSamplePart(15, parts: 2) { $0 } == [0..<15])
    }

    /// A split training step's parts normalise their rows straight from the batch: the values the
    /// forward pass gives those rows as its first step (none without a normalisation).
    @Test func normalizedRowsAreTheForwardPassFirstStepOnThoseRows() throws {
        var rng = RandomSource(seed: 13)
        let layers: [(name: String, spec: any LayerSpec)] = [("flatten", FlattenSpec()), ("head", LinearSpec(outFeatures: 3))]
        let normalized = try Sequential(
            layers: layers, inputShape: [2, 3, 3], normalization: InputNormalization(mean: [0.5, 0.25], std: [0.25, 2]), rng: &rng)
        let plain = try Sequential(layers: layers, inputShape: [2, 3, 3], rng: &rng)
        let images = Tensor.uniform(shape: [7, 2, 3, 3], using: &rng)
        for model in [normalized, plain] {
            for rows in [0..<7, 2..<5, 6..<7] {
                let expected = model.values(images.slice(rows), layers: 0..<0, mode: .training)
                #expect(model.normalizedRows(images, rows) == expected, "rows \(rows)")
            }
        }
        #expect(normalized.normalizedRows(images, 2..<5) != images.slice(2..<5))
    }

    @Test func trainingStepsSplitIntoSamplePartsComputeTheWholeBatchGradients() throws {
        var rng = RandomSource(seed: 12)
        let cnn = try Sequential(
            layers: [
                ("conv", Conv2dSpec(outChannels: 4, kernelSize: 3, padding: 1)), ("relu", ReLUSpec()), ("pool", MaxPool2dSpec(kernelSize: 2)),
                ("flatten", FlattenSpec()), ("drop", DropoutSpec(p: 0.5)), ("fc", LinearSpec(outFeatures: 16)), ("relu2", ReLUSpec()),
                ("drop2", DropoutSpec(p: 0.25)), ("head", LinearSpec(outFeatures: 5)),
            ], inputShape: [1, 8, 8], normalization: InputNormalization(mean: [0.5], std: [0.25]), rng: &rng)
        let regression = try Sequential(
            layers: [
                ("flatten", FlattenSpec()), ("fc", LinearSpec(outFeatures: 32)), ("relu", ReLUSpec()),
                ("drop", DropoutSpec(p: 0.3)), ("head", LinearSpec(outFeatures: 4)),
            ],
            inputShape: [1, 8, 8], rng: &rng)
        let images = Tensor.uniform(shape: [37, 1, 8, 8], using: &rng)
        let cases: [(Sequential, Supervision, Loss)] = [
            (cnn, .labels((0..<37).map { $0 % 5 }), .crossEntropy),
            (regression, .targets(Tensor.uniform(shape: [37, 2], using: &rng)), .gaussianNLL),
            (regression, .targets(Tensor.uniform(shape: [37, 4], using: &rng)), .meanSquaredError),
        ]
        for (model, supervision, loss) in cases {
            let parameters = model.namedParameters.map(\.parameter)
            let dropout = RandomSource(seed: 21)
            let wholeLoss = model.wholeBatchGradients(inputs: images, supervision: supervision, loss: loss, rng: dropout)
            let whole = parameters.map { $0.gradient! }
            for parts in [3, 4] {
                parameters.forEach { $0.gradient = nil }
                let splitLoss = model.splitGradients(inputs: images, supervision: supervision, loss: loss, rng: dropout, parts: parts).loss
                #expect(abs(splitLoss - wholeLoss) <= 1e-5 * abs(wholeLoss), "\(loss) \(parts) parts: loss \(splitLoss) vs \(wholeLoss)")
                for (parameter, expected) in zip(parameters, whole) {
                    let gradient = try #require(parameter.gradient)
                    #expect(expected.scalars.contains { $0 != 0 })
                    #expect(
                        gradient.shape == expected.shape && gradient.maxAbsDifference(expected) <= 1e-5 * expected.scalars.map(abs).max()!,
                        "\(loss) \(parts) parts: \(parameter.name) differs by \(gradient.maxAbsDifference(expected))")
                }
            }
        }
        // Another dropout generator draws other masks: the gradients differ by far more.
        _ = cnn.splitGradients(inputs: images, supervision: cases[0].1, loss: .crossEntropy, rng: RandomSource(seed: 22), parts: 3)
        let other = cnn.namedParameters[2].parameter.gradient!
        _ = cnn.wholeBatchGradients(inputs: images, supervision: cases[0].1, loss: .crossEntropy, rng: RandomSource(seed: 21))
        #expect(other.maxAbsDifference(cnn.namedParameters[2].parameter.gradient!) > 1e-3)
    }

    /// A split step with an element-wise optimizer updates each block of a linear weight as
    /// soon as its gradient is summed: the same bits as summing every gradient, then stepping.
    @Test func splitStepsUpdateLinearWeightsBlockByBlockAsAStepAfterwardsWould() throws {
        func mlp() throws -> Sequential {
            var rng = RandomSource(seed: 31)
            return try Sequential(
                layers: [
                    ("flatten", FlattenSpec()), ("fc", LinearSpec(outFeatures: 40)), ("relu", ReLUSpec()),
                    ("drop", DropoutSpec(p: 0.3)), ("head", LinearSpec(outFeatures: 5)),
                ],
                inputShape: [1, 6, 6], rng: &rng)
        }
        let fused = try mlp(), plain = try mlp()
        var rng = RandomSource(seed: 32)
        let images = Tensor.uniform(shape: [37, 1, 6, 6], using: &rng), supervision = Supervision.labels((0..<37).map { $0 % 5 })
        let fusedAdam = try #require(AdamSpec(lr: 0.01, weightDecay: 0.01).makeOptimizer() as? any ElementwiseOptimizer)
        let plainAdam = AdamSpec(lr: 0.01, weightDecay: 0.01).makeOptimizer()
        let weights = Set(fused.layers.compactMap { ($0.layer as? Linear).map { ObjectIdentifier($0.weight) } })
        #expect(weights.count == 2)
        for step in 0..<3 {
            let dropout = RandomSource(seed: 40 + UInt64(step))
            let (fusedLoss, updated) = fused.splitGradients(
                inputs: images, supervision: supervision, loss: .crossEntropy, rng: dropout,
                parts: 3, updating: fusedAdam)
            #expect(updated == weights)
            fusedAdam.step(fused.namedParameters.map(\.parameter).filter { !updated.contains(ObjectIdentifier($0)) })
            let (plainLoss, none) = plain.splitGradients(inputs: images, supervision: supervision, loss: .crossEntropy, rng: dropout, parts: 3)
            #expect(none.isEmpty && fusedLoss == plainLoss)
            plainAdam.step(plain.namedParameters.map(\.parameter))
            for (a, b) in zip(fused.namedParameters, plain.namedParameters) {
                let sameValue = a.parameter.value.scalars.elementsEqual(b.parameter.value.scalars) { $0.bitPattern == $1.bitPattern }
                let sameGradient = a.parameter.gradient!.scalars.elementsEqual(b.parameter.gradient!.scalars) { $0.bitPattern == $1.bitPattern }
                #expect(sameValue && sameGradient, "step \(step): \(a.key)")
            }
        }
        // The weights did move.
        let untrained = try mlp()
        #expect(fused.namedParameters[0].parameter.value.maxAbsDifference(untrained.namedParameters[0].parameter.value) > 1e-3)
    }

    @Test func trainingStepsOfModelsWithBatchStatisticsAreNotSplit() throws {
        let model = try Self.smallCNN(), twin = try Self.smallCNN()
        #expect(model.layers.contains { $0.layer.usesBatchStatisticsInTraining } && !model.layers[0].layer.usesBatchStatisticsInTraining)
        var rng = RandomSource(seed: 13)
        let images = Tensor.uniform(shape: [32, 1, 6, 6], using: &rng), labels = (0..<32).map { $0 % 4 }
        var stepRNG = RandomSource(seed: 14), copy = stepRNG
        _ = model.trainStep(images: images, labels: labels, optimizer: SGDSpec(lr: 0).makeOptimizer(), rng: &stepRNG)
        _ = twin.wholeBatchGradients(inputs: images, supervision: .labels(labels), loss: .crossEntropy, rng: copy.derived("dropout-\(copy.next())"))
        for (a, b) in zip(model.namedParameters, twin.namedParameters) {
            #expect(a.parameter.gradient!.scalars.map(\.bitPattern) == b.parameter.gradient!.scalars.map(\.bitPattern), "\(a.key)")
        }
    }

    @Test func trainingLearnsASeparableProblem() throws {
        // Two classes: bright left half vs bright right half, with noise.
        var rng = RandomSource(seed: 6)
        var images = Tensor(shape: [256, 1, 4, 4])
        var labels: [Int] = []
        for n in 0..<256 {
            let label = n % 2
            labels.append(label)
            for i in 0..<4 {
                for j in 0..<4 {
                    images[n, 0, i, j] = ((j < 2) == (label == 0) ? 0.8 : 0.2) + 0.1 * rng.normal()
                }
            }
        }
        var initRNG = RandomSource(seed: 7)
        let model = try Sequential(
            layers: [
                ("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 8)), ("2", ReLUSpec()),
                ("3", LinearSpec(outFeatures: 2)),
            ], inputShape: [1, 4, 4], rng: &initRNG)
        let optimizer = AdamSpec(lr: 0.01).makeOptimizer()
        var losses: [Float] = []
        for step in 0..<60 {
            let batch = (0..<32).map { (step * 32 + $0) % 256 }
            losses.append(
                model.trainStep(
                    images: images.gathering(rows: batch), labels: batch.map { labels[$0] },
                    optimizer: optimizer, rng: &rng))
        }
        let predictions = model.logits(images).argMax(axis: 1)
        let accuracy = Double(zip(predictions, labels).filter { $0 == $1 }.count) / 256
        #expect(losses.last! < losses.first! / 4)
        #expect(accuracy > 0.97)
    }
}
