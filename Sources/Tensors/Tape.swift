/// Reverse-mode automatic differentiation over a Wengert list.
///
/// Operations append nodes in execution order, so the list is already topologically sorted:
/// `backward(from:)` walks it once in reverse. A node needs a gradient when any input does;
/// leaves say so when created. Each derivative rule is told which inputs need a gradient and
/// computes only those (an attack asks for the input gradient alone; training for the
/// parameters alone). A tape is used for one forward/backward pass and then dropped.
public final class Tape {
    /// A derivative rule: from the output gradient and which inputs need one, the input gradients.
    public typealias Pullback = (_ outputGradient: Tensor, _ needed: [Bool]) -> [Tensor?]

    private struct Node {
        var value: Tensor
        var requiresGradient: Bool
        var inputs: [Int]
        var pullback: Pullback?
    }

    private var nodes: [Node] = []
    private var gradients: [Tensor?] = []

    public init() {}

    /// A leaf holding `value`; `requiresGradient` makes `gradient(of:)` available after `backward`.
    public func leaf(_ value: Tensor, requiresGradient: Bool = false) -> Variable {
        nodes.append(Node(value: value, requiresGradient: requiresGradient, inputs: [], pullback: nil))
        return Variable(id: nodes.count - 1, tape: self)
    }

    /// Records the result of an operation on `inputs` with its derivative rule.
    /// The rule is dropped when no input needs a gradient.
    public func record(_ value: Tensor, inputs: [Variable], pullback: @escaping Pullback) -> Variable {
        precondition(inputs.allSatisfy { $0.tape === self }, "variables from another tape")
        let needs = inputs.contains { nodes[$0.id].requiresGradient }
        nodes.append(
            Node(
                value: value, requiresGradient: needs, inputs: needs ? inputs.map(\.id) : [],
                pullback: needs ? pullback : nil))
        return Variable(id: nodes.count - 1, tape: self)
    }

    /// The value of a variable.
    public func value(of variable: Variable) -> Tensor { nodes[variable.id].value }

    /// Whether gradients flow to this variable.
    public func requiresGradient(_ variable: Variable) -> Bool { nodes[variable.id].requiresGradient }

    /// Back-propagates from `output`, seeded with `seed` (default: ones, so a scalar loss gets 1).
    public func backward(from output: Variable, seed: Tensor? = nil) {
        let start = output.id
        gradients = [Tensor?](repeating: nil, count: nodes.count)
        gradients[start] = seed ?? Tensor(shape: nodes[start].value.shape, repeating: 1)
        for index in stride(from: start, through: 0, by: -1) {
            guard let pullback = nodes[index].pullback, let outputGradient = gradients[index] else { continue }
            let inputs = nodes[index].inputs
            let needed = inputs.map { nodes[$0].requiresGradient }
            let inputGradients = pullback(outputGradient, needed)
            precondition(inputGradients.count == inputs.count, "pullback returned \(inputGradients.count) gradients for \(inputs.count) inputs")
            for (input, gradient) in zip(inputs, inputGradients) {
                guard let gradient, nodes[input].requiresGradient else { continue }
                if gradients[input] == nil {
                    gradients[input] = gradient
                } else {
                    gradients[input]!.add(gradient)
                }
            }
        }
    }

    /// The gradient of the last `backward` output with respect to `variable` (nil if none flowed).
    public func gradient(of variable: Variable) -> Tensor? {
        variable.id < gradients.count ? gradients[variable.id] : nil
    }
}

/// A handle to a value on a `Tape`.
public struct Variable {
    public let id: Int
    public unowned let tape: Tape

    public var value: Tensor { tape.value(of: self) }
    public var shape: [Int] { tape.value(of: self).shape }
}
