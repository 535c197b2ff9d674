import Foundation

/// Naive kernels written straight from the definitions, in Double where it matters.
/// They are slow on purpose: the tests use them as the oracle for `Kernels`.
public enum ReferenceKernels {
    /// `y[n, o] = Σ_i x[n, i] · w[o, i] + b[o]`.
    public static func linear(_ x: Tensor, weight w: Tensor, bias b: Tensor?) -> Tensor {
        let batch = x.shape[0], inFeatures = x.shape[1], outFeatures = w.shape[0]
        var y = Tensor(shape: [batch, outFeatures])
        for n in 0..<batch {
            for o in 0..<outFeatures {
                var s = Double(b?.scalars[o] ?? 0)
                for i in 0..<inFeatures { s += Double(x[n, i]) * Double(w[o, i]) }
                y[n, o] = Float(s)
            }
        }
        return y
    }

    /// Direct 2-D cross-correlation with zero padding.
    public static func conv2d(_ x: Tensor, weight w: Tensor, bias b: Tensor?, geometry g: Conv2dGeometry) -> Tensor {
        var y = Tensor(shape: g.outputShape)
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                for yo in 0..<g.outHeight {
                    for xo in 0..<g.outWidth {
                        var s = Double(b?.scalars[o] ?? 0)
                        for c in 0..<g.inChannels {
                            for i in 0..<g.kernelHeight {
                                for j in 0..<g.kernelWidth {
                                    let iy = yo * g.stride - g.padding + i, ix = xo * g.stride - g.padding + j
                                    guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                    s += Double(x[n, c, iy, ix]) * Double(w[o, c, i, j])
                                }
                            }
                        }
                        y[n, o, yo, xo] = Float(s)
                    }
                }
            }
        }
        return y
    }

    /// Window maximum, with padding never chosen.
    public static func maxPool2d(_ x: Tensor, geometry g: Conv2dGeometry) -> Tensor {
        pool(x, geometry: g) { values, _ in values.max() ?? -.infinity }
    }

    /// Window mean with padding counted as zeros (divisor `kh·kw`).
    public static func avgPool2d(_ x: Tensor, geometry g: Conv2dGeometry) -> Tensor {
        pool(x, geometry: g) { values, windowSize in values.reduce(0, +) / Float(windowSize) }
    }

    private static func pool(_ x: Tensor, geometry g: Conv2dGeometry, reduce: ([Float], Int) -> Float) -> Tensor {
        var y = Tensor(shape: [g.batch, g.inChannels, g.outHeight, g.outWidth])
        for n in 0..<g.batch {
            for c in 0..<g.inChannels {
                for yo in 0..<g.outHeight {
                    for xo in 0..<g.outWidth {
                        var values: [Float] = []
                        for i in 0..<g.kernelHeight {
                            for j in 0..<g.kernelWidth {
                                let iy = yo * g.stride - g.padding + i, ix = xo * g.stride - g.padding + j
                                if iy >= 0, iy < g.height, ix >= 0, ix < g.width { values.append(x[n, c, iy, ix]) }
                            }
                        }
                        y[n, c, yo, xo] = reduce(values, g.kernelHeight * g.kernelWidth)
                    }
                }
            }
        }
        return y
    }

    /// `log softmax` per row, computed in Double.
    public static func logSoftmax(_ logits: Tensor) -> Tensor {
        var y = logits
        for r in 0..<logits.shape[0] {
            let row = (0..<logits.shape[1]).map { Double(logits[r, $0]) }
            let logTotal = log(row.map { exp($0) }.reduce(0, +))
            for k in 0..<row.count { y[r, k] = Float(row[k] - logTotal) }
        }
        return y
    }

    /// Batch normalisation of an NCHW tensor with the given per-channel statistics:
    /// `y = γ (x − μ) / √(σ² + ε) + β`.
    public static func batchNorm(
        _ x: Tensor, mean: [Float], variance: [Float], gamma: [Float], beta: [Float], epsilon: Float
    ) -> Tensor {
        var y = x
        for n in 0..<x.shape[0] {
            for c in 0..<x.shape[1] {
                for i in 0..<x.shape[2] {
                    for j in 0..<x.shape[3] {
                        let normalized = (Double(x[n, c, i, j]) - Double(mean[c])) / (Double(variance[c]) + Double(epsilon)).squareRoot()
                        y[n, c, i, j] = Float(Double(gamma[c]) * normalized + Double(beta[c]))
                    }
                }
            }
        }
        return y
    }
}
