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
}
