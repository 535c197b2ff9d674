import Spec
import Foundation
import Tensors

/// Adam (Kingma & Ba, 2015) with PyTorch's update rule (`torch.optim.Adam`, L2 weight decay
/// added to the gradient): `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `θ ← θ − lr · m̂ / (√v̂ + ε)` with bias-corrected `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`.
public struct AdamSpec: OptimizerSpec, Equatable {
    public static let kind = "adam"
    public static let defaults = ["lr": "1e-3", "beta1": "0.9", "beta2": "0.999", "eps": "1e-8", "weight_decay": "0"]
    public static let summary = "Adam with bias correction and L2 weight decay (PyTorch rule)."
    /// Learning rate, > 0 (default 1e-3).
    public var lr: Float = 1e-3
    /// β₁ in [0, 1) (default 0.9).
    public var beta1: Float = 0.9
    /// β₂ in [0, 1) (default 0.999).
    public var beta2: Float = 0.999
    /// ε > 0 added to √v̂ (default 1e-8).
    public var eps: Float = 1e-8
    /// L2 penalty ≥ 0 (default 0).
    public var weightDecay: Float = 0

    public init(lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0) {
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        if let lr = try c.decodeIfPresent(Float.self, forKey: .lr) { self.lr = lr }
        if let beta1 = try c.decodeIfPresent(Float.self, forKey: .beta1) { self.beta1 = beta1 }
        if let beta2 = try c.decodeIfPresent(Float.self, forKey: .beta2) { self.beta2 = beta2 }
        if let eps = try c.decodeIfPresent(Float.self, forKey: .eps) { self.eps = eps }
        if let weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) { self.weightDecay = weightDecay }
    }

    public func problems() -> [String] {
        var found: [String] = []
        if !(lr > 0) { found.append("lr must be > 0, got \(lr)") }
        if !(0..<1).contains(beta1) { found.append("beta1 must be in [0, 1), got \(beta1)") }
        if !(0..<1).contains(beta2) { found.append("beta2 must be in [0, 1), got \(beta2)") }
        if !(eps > 0) { found.append("eps must be > 0, got \(eps)") }
        if weightDecay < 0 { found.append("weight_decay must be ≥ 0, got \(weightDecay)") }
        return found
    }

    public func makeOptimizer() -> any Optimizer { Adam(spec: self) }
}

public final class Adam: ElementwiseOptimizer {
    public let spec: AdamSpec
    public var learningRate: Float
    private var moments: [ObjectIdentifier: Moments] = [:]

    /// One parameter's first and second moments and step count. The moments live at fixed
    /// addresses, so that an update may write them from several threads at once.
    private final class Moments: @unchecked Sendable {
        let m: UnsafeMutablePointer<Float>
        let v: UnsafeMutablePointer<Float>
        let count: Int
        var t = 0

        init(count: Int) {
            self.count = count
            m = .allocate(capacity: count)
            m.initialize(repeating: 0, count: count)
            v = .allocate(capacity: count)
            v.initialize(repeating: 0, count: count)
        }

        deinit {
            m.deallocate()
            v.deallocate()
        }
    }

    public init(spec: AdamSpec) {
        self.spec = spec
        learningRate = spec.lr
    }

    public func step(_ parameters: [Parameter]) {
        for parameter in parameters {
            guard let gradient = parameter.gradient else { continue }
            let update = beginStep(of: parameter, count: gradient.count)
            gradient.scalars.withUnsafeBufferPointer { g in
                parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                    // Element-wise: each part updates its own range.
                    Parallel.forEach(theta.count, grain: 1 << 15) { range in update.apply(theta.baseAddress!, g.baseAddress!, range) }
                }
            }
        }
    }

    public func beginStep(of parameter: Parameter, count: Int) -> ElementwiseUpdate {
        let key = ObjectIdentifier(parameter)
        let state = moments[key] ?? Moments(count: count)
        precondition(state.count == count, "Adam: parameter \(parameter.name) has \(count) elements, its moments \(state.count)")
        moments[key] = state
        state.t += 1
        let b1 = spec.beta1, b2 = spec.beta2, eps = spec.eps, decay = spec.weightDecay
        let correction1 = 1 - powf(b1, Float(state.t)), correction2 = 1 - powf(b2, Float(state.t))
        let stepSize = learningRate / correction1
        let rootCorrection2 = correction2.squareRoot()
        return ElementwiseUpdate { theta, g, range in
            let i = range.lowerBound
            Kernels.adamUpdate(
                count: range.count, theta: theta + i, gradient: g + i, m: state.m + i, v: state.v + i,
                beta1: b1, beta2: b2, eps: eps, decay: decay, stepSize: stepSize, rootCorrection2: rootCorrection2)
        }
    }
}
