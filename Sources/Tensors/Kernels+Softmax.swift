import Foundation

extension Kernels {
    /// Row-wise `log softmax` of a `[rows, classes]` tensor, stabilised by the row maximum:
    /// `log p_k = z_k − max z − log Σ_j exp(z_j − max z)`.
    public static func logSoftmax(_ logits: Tensor) -> Tensor {
        let rows = logits.shape[0], classes = logits.shape[1]
        var out = logits
        out.scalars.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                let row = p.baseAddress! + r * classes
                var top = -Float.infinity
                for k in 0..<classes { top = max(top, row[k]) }
                var total: Float = 0
                for k in 0..<classes { total += expf(row[k] - top) }
                let shift = top + logf(total)
                for k in 0..<classes { row[k] -= shift }
            }
        }
        return out
    }

    /// Row-wise softmax of a `[rows, classes]` tensor (`exp` of `logSoftmax`).
    public static func softmax(_ logits: Tensor) -> Tensor {
        var out = logSoftmax(logits)
        out.scalars.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = expf(p[i]) }
        }
        return out
    }

    /// `out = softmax(scale · row)` for one row of `count` logits (`out` may be `row`): the
    /// row's maximum (NaNs aside) taken away, `VectorMath.exp` (within 2 ulp, the same bits on
    /// every CPU), each term times the reciprocal of their sum (`planeSum`'s order). A NaN
    /// logit makes the whole row NaN.
    @inline(__always)
    public static func softmaxRow(_ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, scale: Float) {
        var lanes = VectorMath.Vector(repeating: -.infinity)
        var k = 0
        while k + 8 <= count {
            let v = scale * UnsafeRawPointer(row + k).loadUnaligned(as: VectorMath.Vector.self)
            lanes.replace(with: v, where: v .> lanes)
            k += 8
        }
        var top = lanes.max()
        while k < count {
            top = max(top, scale * row[k])
            k += 1
        }
        let shift = VectorMath.Vector(repeating: top)
        VectorMath.map(count, row, into: out) { VectorMath.exp(scale * $0 - shift) }
        let inverse = VectorMath.Vector(repeating: 1 / planeSum(out, count: count))
        VectorMath.map(count, out, into: out) { $0 * inverse }
    }

    /// The gradient of `softmaxRow` with respect to its logits, from the gradient of its output
    /// `gradient` and the output `probabilities`: `out = scale · p ⊙ (g − Σ_k g_k p_k)` (`out`
    /// may be `gradient`).
    @inline(__always)
    public static func softmaxRowGradient(
        _ gradient: UnsafePointer<Float>, probabilities p: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, scale: Float
    ) {
        var dot: Float = 0
        for k in 0..<count { dot += gradient[k] * p[k] }
        for k in 0..<count { out[k] = scale * (p[k] * (gradient[k] - dot)) }
    }
}
