import Foundation
import Tensors

/// Adam (Kingma & Ba, 2015) with PyTorch's update rule (`torch.optim.Adam`, L2 weight decay
/// added to the gradient): `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `θ ← θ − lr · m̂ / (√v̂ + ε)` with bias-corrected `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`.
public struct AdamSpec: OptimizerSpec, Equatable {
    public static let kind = "adam"
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

public final class Adam: Optimizer {
    public let spec: AdamSpec
    public var learningRate: Float
    private var moments: [ObjectIdentifier: (m: [Float], v: [Float], t: Int)] = [:]

    public init(spec: AdamSpec) {
        self.spec = spec
        learningRate = spec.lr
    }

    public func step(_ parameters: [Parameter]) {
        let b1 = spec.beta1, b2 = spec.beta2, eps = spec.eps, decay = spec.weightDecay
        for parameter in parameters {
            guard let gradient = parameter.gradient else { continue }
            let key = ObjectIdentifier(parameter)
            var state = moments[key] ?? ([Float](repeating: 0, count: gradient.count), [Float](repeating: 0, count: gradient.count), 0)
            moments[key] = nil
            state.t += 1
            let correction1 = 1 - powf(b1, Float(state.t)), correction2 = 1 - powf(b2, Float(state.t))
            let stepSize = learningRate / correction1
            let rootCorrection2 = correction2.squareRoot()
            state.m.withUnsafeMutableBufferPointer { m in
                state.v.withUnsafeMutableBufferPointer { v in
                    gradient.scalars.withUnsafeBufferPointer { g in
                        parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                            // Element-wise: each part updates its own range, eight elements at a time
                            // in SIMD lanes (the same operations on each lane, so the same bits).
                            Parallel.forEach(theta.count, grain: 1 << 15) { range in
                                var i = range.lowerBound
                                while i + 8 <= range.upperBound {
                                    let t = load(theta.baseAddress! + i), gradient = load(g.baseAddress! + i)
                                    let gi = decay == 0 ? gradient : gradient + decay * t
                                    let mi = b1 * load(m.baseAddress! + i) + (1 - b1) * gi
                                    let vi = b2 * load(v.baseAddress! + i) + (1 - b2) * gi * gi
                                    var root = vi
                                    for lane in 0..<8 { root[lane] = root[lane].squareRoot() }
                                    store(mi, m.baseAddress! + i)
                                    store(vi, v.baseAddress! + i)
                                    store(t - stepSize * mi / (root / rootCorrection2 + eps), theta.baseAddress! + i)
                                    i += 8
                                }
                                for i in i..<range.upperBound {
                                    let gi = decay == 0 ? g[i] : g[i] + decay * theta[i]
                                    m[i] = b1 * m[i] + (1 - b1) * gi
                                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                    theta[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
                                }
                            }
                        }
                    }
                }
            }
            moments[key] = state
        }
    }

    @inline(__always) private func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) private func store(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
    }
}
