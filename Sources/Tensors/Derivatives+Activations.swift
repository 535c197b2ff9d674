import Foundation

// Element-wise activations beyond ReLU, each `y = f(x)` with `dx = dy · f′(x)`, as PyTorch
// defines them (`torch.nn.functional`): the derivative at a kink is PyTorch's.

extension Variable {
    /// `f` applied to every element, with the derivative `derivative` (of the input) on the tape.
    func pointwise(_ f: (Float) -> Float, derivative: @escaping (Float) -> Float) -> Variable {
        let x = value
        let y = Tensor(shape: x.shape, scalars: x.scalars.map(f))
        return tape.record(y, inputs: [self]) { dy, _ in
            [Tensor(shape: x.shape, scalars: zip(dy.scalars, x.scalars).map { $0 * derivative($1) })]
        }
    }

    /// The logistic function `1 / (1 + e^(−x))`.
    public func sigmoid() -> Variable {
        pointwise(Self.logistic) { x in
            let s = Self.logistic(x)
            return s * (1 - s)
        }
    }

    /// The hyperbolic tangent.
    public func tanh() -> Variable {
        pointwise(Foundation.tanh) { x in
            let t = Foundation.tanh(x)
            return 1 - t * t
        }
    }

    /// GELU (Hendrycks & Gimpel 2016): `x · Φ(x)` with the normal CDF `Φ` (PyTorch's default,
    /// `approximate='none'`), or with `tanhApproximation` the form
    /// `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (`approximate='tanh'`).
    public func gelu(tanhApproximation: Bool = false) -> Variable {
        if tanhApproximation {
            let c = Float((2 / Double.pi).squareRoot())
            return pointwise(
                { x in 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x))) },
                derivative: { x in
                    let t = Foundation.tanh(c * (x + 0.044715 * x * x * x))
                    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
                })
        }
        let inverseRoot2 = Float(1 / 2.0.squareRoot()), inverseRoot2Pi = Float(1 / (2 * Double.pi).squareRoot())
        return pointwise(
            { x in 0.5 * x * (1 + erff(x * inverseRoot2)) },
            derivative: { x in 0.5 * (1 + erff(x * inverseRoot2)) + x * inverseRoot2Pi * expf(-0.5 * x * x) })
    }

    /// SiLU (swish): `x · σ(x)`.
    public func silu() -> Variable {
        pointwise(
            { x in x * Self.logistic(x) },
            derivative: { x in
                let s = Self.logistic(x)
                return s * (1 + x * (1 - s))
            })
    }

    /// Leaky ReLU: `x` for `x > 0`, else `slope · x` (derivative `slope` at 0, as PyTorch).
    public func leakyReLU(slope: Float) -> Variable {
        pointwise({ x in x > 0 ? x : slope * x }, derivative: { x in x > 0 ? 1 : slope })
    }

    /// Hard swish (Howard et al. 2019): `x · min(max(x + 3, 0), 6) / 6`; derivative 0 below −3,
    /// `x/3 + ½` on [−3, 3], 1 above (PyTorch's).
    public func hardswish() -> Variable {
        pointwise({ x in x * min(max(x + 3, 0), 6) / 6 }, derivative: { x in x < -3 ? 0 : (x <= 3 ? x / 3 + 0.5 : 1) })
    }

    /// `1 / (1 + e^(−x))` without overflow for large `|x|`.
    static func logistic(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
    }
}
