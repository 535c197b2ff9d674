import Foundation
import Layers
import Tensors

/// The fast gradient sign method (Goodfellow, Shlens & Szegedy, ICLR 2015), untargeted, L∞:
/// `x' = clip(x + ε · sign(∇ₓ L(f(x), y)), 0, 1)` with L the cross-entropy.
///
/// `epsilon` is in [0, 1] pixel units, whatever normalisation the model applies inside.
public struct FGSM: Attack, Equatable {
    public static let kind = "fgsm"
    public static let summary = "Fast gradient sign method, L∞ budget epsilon in pixel units (Goodfellow et al. 2015)."
    /// L∞ budget in [0, 1] pixel units.
    public var epsilon: Float

    public init(epsilon: Float) { self.epsilon = epsilon }

    public func problems() -> [String] {
        (0...1).contains(epsilon) ? [] : ["epsilon must be in [0, 1] (pixel units, before any normalisation), got \(epsilon)"]
    }

    public var label: String { "\(Self.kind)(epsilon=\(formatParameter(epsilon)))" }

    public var budget: Float? { epsilon }
    public var forwardPasses: Double { 3 }

    public func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor {
        let gradient = model.inputGradient(images: images, labels: labels).gradient
        var out = images
        out.scalars.withUnsafeMutableBufferPointer { p in
            gradient.scalars.withUnsafeBufferPointer { g in
                for i in 0..<p.count {
                    let direction: Float = g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0)
                    p[i] = min(1, max(0, p[i] + epsilon * direction))
                }
            }
        }
        return out
    }
}
