import Spec
import Tensors

/// Stochastic gradient descent with momentum and L2 weight decay, with PyTorch's update rule
/// (`torch.optim.SGD`, dampening 0): `g ← ∇ + λθ`; `b ← μb + g` (`b = g` on the first step);
/// `θ ← θ − lr·(nesterov ? g + μb : b)`.
public struct SGDSpec: OptimizerSpec, Equatable {
    public static let kind = "sgd"
    public static let defaults = ["momentum": "0", "weight_decay": "0", "nesterov": "false"]
    public static let summary = "Stochastic gradient descent with momentum, Nesterov and L2 weight decay (PyTorch rule)."
    /// Learning rate, > 0.
    public var lr: Float
    /// Momentum μ in [0, 1) (default 0).
    public var momentum: Float = 0
    /// L2 penalty λ ≥ 0 (default 0).
    public var weightDecay: Float = 0
    /// Nesterov momentum (default false; needs momentum > 0).
    public var nesterov: Bool = false

    public init(lr: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.lr = lr
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// Decodes the required `lr` and the optional rest.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(lr: try c.decode(Float.self, forKey: .lr))
        if let momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) { self.momentum = momentum }
        if let weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) { self.weightDecay = weightDecay }
        if let nesterov = try c.decodeIfPresent(Bool.self, forKey: .nesterov) { self.nesterov = nesterov }
    }

    public func problems() -> [String] {
        var found: [String] = []
        if !(lr > 0) { found.append("lr must be > 0, got \(lr)") }
        if !(0..<1).contains(momentum) { found.append("momentum must be in [0, 1), got \(momentum)") }
        if weightDecay < 0 { found.append("weight_decay must be ≥ 0, got \(weightDecay)") }
        if nesterov && momentum == 0 { found.append("nesterov needs momentum > 0") }
        return found
    }

    public func makeOptimizer() -> any Optimizer { SGD(spec: self) }
}

public final class SGD: Optimizer {
    public let spec: SGDSpec
    public var learningRate: Float
    private var velocity: [ObjectIdentifier: Tensor] = [:]

    public init(spec: SGDSpec) {
        self.spec = spec
        learningRate = spec.lr
    }

    public func step(_ parameters: [Parameter]) {
        for parameter in parameters {
            guard var g = parameter.gradient else { continue }
            if spec.weightDecay != 0 { g.add(parameter.value, scaledBy: spec.weightDecay) }
            if spec.momentum != 0 {
                let key = ObjectIdentifier(parameter)
                var buffer = velocity[key] ?? g
                if velocity[key] != nil {
                    buffer.scale(by: spec.momentum)
                    buffer.add(g)
                }
                velocity[key] = buffer
                if spec.nesterov { g.add(buffer, scaledBy: spec.momentum) } else { g = buffer }
            }
            parameter.value.add(g, scaledBy: -learningRate)
        }
    }
}
