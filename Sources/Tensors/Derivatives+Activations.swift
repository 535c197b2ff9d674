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
        // Φ by `VectorMath.normalCDF` (within 4e-7), kept for the derivative Φ(x) + x·φ(x).
        let x = value
        var normal = Tensor.unfilled(shape: x.shape), y = Tensor.unfilled(shape: x.shape)
        x.scalars.withUnsafeBufferPointer { px in
            normal.scalars.withUnsafeMutableBufferPointer { pc in
                y.scalars.withUnsafeMutableBufferPointer { py in
                    let (input, phi, out) = (px.baseAddress!, pc.baseAddress!, py.baseAddress!)
                    // Element-wise: split over the job's threads (one part alone inside a batch part).
                    Parallel.forEach(x.count, grain: 1 << 14) { range in
                        let i = range.lowerBound
                        VectorMath.map(range.count, input + i, into: phi + i) { VectorMath.normalCDF($0) }
                        VectorMath.map(range.count, input + i, UnsafePointer(phi + i), into: out + i) { $0 * $1 }
                    }
                }
            }
        }
        let cdf = normal
        return tape.record(y, inputs: [self]) { dy, _ in
            let inverseRoot2Pi = Float(1 / (2 * Double.pi).squareRoot())
            var dx = Tensor.unfilled(shape: x.shape)
            x.scalars.withUnsafeBufferPointer { px in
                cdf.scalars.withUnsafeBufferPointer { pc in
                    dy.scalars.withUnsafeBufferPointer { pdy in
                        dx.scalars.withUnsafeMutableBufferPointer { pdx in
                            let out = pdx.baseAddress!
                            VectorMath.map(x.count, px.baseAddress!, pc.baseAddress!, into: out) { x, phi in
                                phi + x * (inverseRoot2Pi * VectorMath.exp(-0.5 * x * x))
                            }
                            VectorMath.map(x.count, pdy.baseAddress!, UnsafePointer(out), into: out) { $0 * $1 }
                        }
                    }
                }
            }
            return [dx]
        }
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
