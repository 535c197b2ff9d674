import Spec
import Tensors

/// A built-in architecture with parameters (`models[].architecture: {type: resnet, depth: 20}`):
/// it writes the model's nodes, named as the PyTorch implementation named in its doc comment
/// names its modules, so that implementation's state dict loads into it.
public protocol ArchitectureSpec: SpecKind, Codable {
    /// The nodes of a model with `outputs` outputs (the classes, or the values a regression loss
    /// needs) for samples of `inputShape` (batch axis excluded).
    func nodes(inputShape: [Int], outputs: Int) throws(ModelError) -> [ModelNode]
}

/// Builds a model's node list with dotted names, one block at a time.
struct NodeWriter {
    private(set) var nodes: [ModelNode] = []

    /// The name of the last node written (`input` before any).
    var last: String { nodes.last?.name ?? ModelPlan.inputName }

    /// Appends a node reading `inputs` (default: the last node); returns its name.
    @discardableResult
    mutating func add(_ name: String, _ spec: any LayerSpec, inputs: [String]? = nil) -> String {
        let reads = inputs.flatMap { $0 == [last] ? nil : $0 }
        nodes.append(ModelNode(name: name, spec: spec, inputs: reads))
        return name
    }

    /// `k × k` convolution without bias, padding `k / 2`.
    @discardableResult
    mutating func conv(_ name: String, _ channels: Int, kernel: Int = 3, stride: Int = 1, inputs: [String]? = nil) -> String {
        add(name, Conv2dSpec(outChannels: channels, kernelSize: kernel, stride: stride, padding: kernel / 2, bias: false), inputs: inputs)
    }
}
