import Tensors

/// One node of a model as declared: a name, a layer kind, and the nodes it reads (`inputs`, by
/// name; nil reads the node before it, or the model's input for the first node).
public struct ModelNode: Sendable {
    public var name: String
    public var spec: any LayerSpec
    public var inputs: [String]?

    public init(name: String, spec: any LayerSpec, inputs: [String]? = nil) {
        self.name = name
        self.spec = spec
        self.inputs = inputs
    }
}

/// A model's graph worked out from its declaration, before any weight exists: which nodes each
/// node reads, every output shape, and where a pass can start. `Sequential` builds from it, and
/// experiment files are checked with it.
public struct ModelPlan: Sendable {
    /// The name by which a node reads the model's (normalised) input.
    public static let inputName = "input"

    public let nodes: [ModelNode]
    /// The nodes each node reads, by index; -1 is the model's input.
    public let inputs: [[Int]]
    /// The model input's shape and every node's output shape, batch axis 1 included.
    public let inputShape: [Int]
    public let shapes: [[Int]]
    /// How many nodes read each node's output.
    public let consumers: [Int]
    /// `isCut[k]` (`k` in `0...nodes.count`): no node from `k` on reads a node before `k − 1`
    /// (nor the model's input, for `k > 0`), so the output of node `k − 1` is all that a pass
    /// from `k` needs.
    public let isCut: [Bool]

    /// Why a declaration is not a model, and at which node.
    public struct Failure: Error {
        public var node: Int
        public var error: ModelError
        /// Whether the problem is the node's `inputs` rather than its kind's parameters.
        public var concernsInputs: Bool
    }

    /// Plans `nodes` for samples of `inputShape` (batch axis excluded), in batches of `batch`
    /// (1 unless a graph needs its actual first extent: ONNX's test cases).
    public init(nodes: [ModelNode], inputShape: [Int], batch: Int = 1) throws(Failure) {
        var shapes: [[Int]] = []
        var indices: [String: Int] = [Self.inputName: -1]
        var reads: [[Int]] = []
        for (position, node) in nodes.enumerated() {
            let described = "'\(node.name)' (\(type(of: node.spec).kind))"
            func fail(_ error: ModelError, inputs: Bool = false) -> Failure { Failure(node: position, error: error, concernsInputs: inputs) }
            guard indices[node.name] == nil else {
                throw fail(
                    .invalidParameter(
                        layer: described, message: node.name == Self.inputName ? "'input' names the model's input" : "another layer has this name"))
            }
            var sources = [position - 1]
            if let names = node.inputs {
                sources = []
                for name in names {
                    guard let index = indices[name] else {
                        throw fail(.unknownInput(layer: described, input: name, known: indices.keys.sorted()), inputs: true)
                    }
                    sources.append(index)
                }
            }
            let sourceShapes = sources.map { $0 < 0 ? [batch] + inputShape : shapes[$0] }
            let merge = node.spec as? any MergeLayerSpec
            let arity = merge.map { type(of: $0).minimumInputs } ?? 1
            guard merge == nil ? sources.count == 1 : sources.count >= arity else {
                let message = merge == nil ? "reads one input, \(sources.count) given" : "needs at least \(arity) inputs, \(sources.count) given"
                throw fail(.invalidParameter(layer: described, message: message), inputs: true)
            }
            do {
                if let merge {
                    shapes.append(try merge.outputShape(forInputs: sourceShapes))
                } else {
                    shapes.append(try node.spec.outputShape(for: sourceShapes[0]))
                }
            } catch {
                guard merge != nil else { throw fail(error.naming(layer: described)) }
                let listed = zip(node.inputs ?? [], sourceShapes).map { "'\($0)' \(shapeText($1))" }.joined(separator: ", ")
                throw fail(.invalidParameter(layer: described, message: "\(error.message); inputs: \(listed)"), inputs: true)
            }
            reads.append(sources)
            indices[node.name] = position
        }
        self.nodes = nodes
        self.inputs = reads
        self.inputShape = [batch] + inputShape
        self.shapes = shapes
        var consumers = [Int](repeating: 0, count: reads.count)
        for sources in reads { for source in sources where source >= 0 { consumers[source] += 1 } }
        self.consumers = consumers
        // From the end: the earliest node read by any node from `k` on.
        var cuts = [Bool](repeating: true, count: reads.count + 1)
        var earliest = Int.max
        for k in stride(from: reads.count - 1, through: 0, by: -1) {
            earliest = min(earliest, reads[k].min() ?? Int.max)
            cuts[k] = k == 0 || earliest >= k - 1
        }
        self.isCut = cuts
    }

    /// The shape node `index` reads first (its only input, for all but merges); the model's
    /// input shape for a node that reads nothing (an imported model's initializers).
    public func inputShape(of index: Int) -> [Int] {
        guard let source = inputs[index].first else { return inputShape }
        return source < 0 ? inputShape : shapes[source]
    }

    /// Multiply-accumulates of one forward pass of one sample, from the shapes alone.
    public var multiplyAccumulates: Int { nodes.indices.reduce(0) { $0 + multiplyAccumulates(of: $1) } }

    /// Multiply-accumulates of node `index` for one sample.
    public func multiplyAccumulates(of index: Int) -> Int {
        nodes[index].spec.multiplyAccumulates(forInputs: inputs[index].map { $0 < 0 ? inputShape : shapes[$0] })
    }

    /// Whether each node's output is a batch of per-sample outputs along its first axis: its
    /// shape for batches of 1 and of 2 differ there alone. Built-in layers all are; an imported
    /// graph's initializers (weights) and tensors that fold the batch into another axis are not,
    /// and per-layer statistics, recorded activations and Grad-CAM leave them out.
    public static func perSampleNodes(nodes: [ModelNode], inputShape: [Int]) -> [Bool] {
        guard let one = try? ModelPlan(nodes: nodes, inputShape: inputShape, batch: 1),
            let two = try? ModelPlan(nodes: nodes, inputShape: inputShape, batch: 2)
        else { return nodes.map { _ in false } }
        return zip(one.shapes, two.shapes).map { a, b in a.first == 1 && b.first == 2 && a.dropFirst() == b.dropFirst() }
    }

    /// Every node's output shape for one sample (batch axis dropped), by node name.
    public var sampleShapes: [String: [Int]] {
        Dictionary(uniqueKeysWithValues: zip(nodes.map(\.name), shapes.map { Array($0.dropFirst()) }))
    }
}
