import Tensors
import Testing

@testable import Layers

/// Models with branches: a residual block, planning errors, cuts, fused paths, gradients.
@Suite struct GraphModelTests {
    /// conv → relu (`a`) → [conv → relu → conv] + a → relu → pool → flatten → dropout → linear.
    static func residualNodes(dropout: Float = 0) -> [ModelNode] {
        [
            ModelNode(name: "stem", spec: Conv2dSpec(outChannels: 3, kernelSize: 3, padding: 1)),
            ModelNode(name: "a", spec: ReLUSpec()),
            ModelNode(name: "block.conv1", spec: Conv2dSpec(outChannels: 3, kernelSize: 3, padding: 1)),
            ModelNode(name: "block.relu", spec: ReLUSpec()),
            ModelNode(name: "block.conv2", spec: Conv2dSpec(outChannels: 3, kernelSize: 3, padding: 1)),
            ModelNode(name: "block.add", spec: AddSpec(), inputs: ["a", "block.conv2"]),
            ModelNode(name: "out", spec: ReLUSpec()),
            ModelNode(name: "pool", spec: AdaptiveAvgPool2dSpec()),
            ModelNode(name: "flatten", spec: FlattenSpec()),
            ModelNode(name: "drop", spec: DropoutSpec(p: dropout)),
            ModelNode(name: "fc", spec: LinearSpec(outFeatures: 4)),
        ]
    }

    static func residual(seed: UInt64 = 1, dropout: Float = 0) throws -> Sequential {
        var rng = RandomSource(seed: seed)
        return try Sequential(nodes: residualNodes(dropout: dropout), inputShape: [2, 6, 6], rng: &rng)
    }

    /// The residual model computes what its layers compute when called one by one.
    @Test func aResidualBlockAddsItsShortcut() throws {
        let model = try Self.residual()
        var rng = RandomSource(seed: 2)
        let x = Tensor.uniform(shape: [3, 2, 6, 6], using: &rng)
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
        func run(_ index: Int, _ input: Variable) -> Variable { model.layers[index].layer.forward(input, context: &context) }
        let a = run(1, run(0, tape.leaf(x)))
        let branch = run(4, run(3, run(2, a)))
        let manual = run(10, run(9, run(8, run(7, (a + branch).relu()))))
        #expect(model.logits(x) == manual.value)
        #expect(model.inputs[5] == [1, 4] && !model.isChain)
        #expect(model.outputShape == [4])
    }

    /// Finite differences of the summed cross-entropy: the input gradient, and every parameter's.
    @Test func gradientsFlowThroughBothBranches() throws {
        let model = try Self.residual(seed: 3)
        var rng = RandomSource(seed: 4)
        let x = Tensor.uniform(shape: [2, 2, 6, 6], using: &rng)
        let labels = [1, 3]
        let result = FiniteDifferences(step: 2e-3, floor: 1, inputElements: 0, parameterElements: 7).check(model, input: x, labels: labels)
        #expect(result.missing.isEmpty, "parameters without a gradient: \(result.missing)")
        #expect(result.parameters < 2e-2, "parameters: largest relative error \(result.parameters)")
        let inputGradient = result.inputGradient
        #expect(inputGradient == model.inputGradient(images: x, labels: labels).gradient)
    }

    @Test func planningErrorsNameTheLayersAndTheirShapes() throws {
        var rng = RandomSource(seed: 1)
        var nodes = Self.residualNodes()
        nodes[5].inputs = ["a", "missing"]
        #expect(throws: ModelError.self) { try Sequential(nodes: nodes, inputShape: [2, 6, 6], rng: &rng) }
        do {
            _ = try ModelPlan(nodes: nodes, inputShape: [2, 6, 6])
            Issue.record("an unknown input was accepted")
        } catch {
            #expect(error.node == 5 && error.concernsInputs)
            #expect(error.error.description.contains("reads 'missing', which is not an earlier layer"))
        }
        nodes[5].inputs = ["input", "block.conv2"]
        do {
            _ = try ModelPlan(nodes: nodes, inputShape: [2, 6, 6])
            Issue.record("inputs of different shapes were added")
        } catch {
            #expect(
                error.error.description
                    == "layer 'block.add' (add): expects inputs of one shape, the first 2×6×6, got 3×6×6; inputs: 'input' 2×6×6, 'block.conv2' 3×6×6")
        }
        nodes[5].inputs = ["a"]
        #expect(throws: ModelPlan.Failure.self) { try ModelPlan(nodes: nodes, inputShape: [2, 6, 6]) }
        nodes[5].inputs = ["a", "block.conv2"]
        nodes[2].inputs = ["a", "stem"]
        #expect(throws: ModelPlan.Failure.self) { try ModelPlan(nodes: nodes, inputShape: [2, 6, 6]) }
    }

    /// No pass may start inside the block (the shortcut crosses it); MC dropout's shared prefix
    /// ends at the last cut before the dropout, and running from there gives the full pass.
    @Test func passesStartOnlyAtCuts() throws {
        let model = try Self.residual(seed: 5, dropout: 0.5)
        #expect(model.plan.isCut == [true, true, true, false, false, false, true, true, true, true, true, true])
        #expect(model.firstStochasticLayer == 9)
        var rng = RandomSource(seed: 6)
        let x = Tensor.uniform(shape: [2, 2, 6, 6], using: &rng)
        let prefix = model.values(x, layers: 0..<6, mode: .inference)
        #expect(model.values(prefix, layers: 6..<11, mode: .inference) == model.logits(x))
        // A dropout inside the block: the prefix ends where the block starts.
        var nodes = Self.residualNodes()
        nodes.insert(ModelNode(name: "block.drop", spec: DropoutSpec(p: 0.1)), at: 4)
        var generator = RandomSource(seed: 7)
        let inner = try Sequential(nodes: nodes, inputShape: [2, 6, 6], rng: &generator)
        #expect(inner.firstStochasticLayer == 2)
    }

    /// The fused convolution–ReLU–pooling path is taken only where each layer reads the one
    /// before alone; a graph whose ReLU output also feeds a shortcut computes it unfused.
    @Test func fusionsRespectBranches() throws {
        var rng = RandomSource(seed: 8)
        let nodes = [
            ModelNode(name: "conv", spec: Conv2dSpec(outChannels: 2, kernelSize: 3, padding: 1)),
            ModelNode(name: "relu", spec: ReLUSpec()),
            ModelNode(name: "pool", spec: MaxPool2dSpec(kernelSize: 2)),
            ModelNode(name: "side", spec: MaxPool2dSpec(kernelSize: 2), inputs: ["relu"]),
            ModelNode(name: "sum", spec: AddSpec(), inputs: ["pool", "side"]),
            ModelNode(name: "flatten", spec: FlattenSpec()),
        ]
        let model = try Sequential(nodes: nodes, inputShape: [1, 4, 4], rng: &rng)
        #expect(!model.isLink(1, 2))
        let x = Tensor.uniform(shape: [2, 1, 4, 4], using: &rng)
        let pooled = model.values(x, layers: 0..<3, mode: .inference)
        #expect(model.logits(x) == (pooled + pooled).reshaped([2, 8]))
    }

    /// A graph's training steps split into sample parts give the whole batch's gradients.
    @Test func splitTrainingStepsOnAGraph() throws {
        let model = try Self.residual(seed: 9, dropout: 0.3)
        var rng = RandomSource(seed: 10)
        let images = Tensor.uniform(shape: [24, 2, 6, 6], using: &rng)
        let supervision = Supervision.labels((0..<24).map { $0 % 4 })
        let parameters = model.namedParameters.map(\.parameter)
        _ = model.wholeBatchGradients(inputs: images, supervision: supervision, loss: .crossEntropy, rng: RandomSource(seed: 11))
        let whole = parameters.map { $0.gradient! }
        parameters.forEach { $0.gradient = nil }
        _ = model.splitGradients(inputs: images, supervision: supervision, loss: .crossEntropy, rng: RandomSource(seed: 11), parts: 3)
        for (parameter, expected) in zip(parameters, whole) {
            let gradient = try #require(parameter.gradient)
            #expect(gradient.maxAbsDifference(expected) <= 1e-5 * expected.scalars.map(abs).max()!, "\(parameter.name)")
        }
    }

    @Test func theGraphDrawsAnEdgePerInput() throws {
        let dot = try Self.residual().graphDOT()
        #expect(dot.contains("layer1 -> layer5;") && dot.contains("layer4 -> layer5;") && dot.contains("input -> layer0;"))
    }
}
