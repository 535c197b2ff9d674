extension Kernels {
    /// Per-channel mean and biased variance of an NCHW batch over N, H and W, in Double.
    public static func channelMoments(_ x: Tensor) -> (mean: [Float], variance: [Float]) {
        let n = x.shape[0], c = x.shape[1], plane = x.shape[2] * x.shape[3]
        let m = Double(n * plane)
        var mean = [Float](repeating: 0, count: c)
        var variance = [Float](repeating: 0, count: c)
        x.scalars.withUnsafeBufferPointer { px in
            for ch in 0..<c {
                var s = 0.0
                for b in 0..<n {
                    let p = px.baseAddress! + (b * c + ch) * plane
                    for k in 0..<plane { s += Double(p[k]) }
                }
                let mu = s / m
                var v = 0.0
                for b in 0..<n {
                    let p = px.baseAddress! + (b * c + ch) * plane
                    for k in 0..<plane {
                        let d = Double(p[k]) - mu
                        v += d * d
                    }
                }
                mean[ch] = Float(mu)
                variance[ch] = Float(v / m)
            }
        }
        return (mean, variance)
    }

    /// `y = scale[c] · x + shift[c]` for every element of channel `c` of an NCHW tensor.
    /// With `rows`, only those samples (axis 0) are computed, into a tensor of theirs alone: the
    /// same values as slicing them first, without the copy.
    public static func channelAffine(_ x: Tensor, rows: Range<Int>? = nil, scale: [Float], shift: [Float]) -> Tensor {
        let rows = rows ?? 0..<x.shape[0]
        precondition(rows.lowerBound >= 0 && rows.upperBound <= x.shape[0], "channelAffine: rows \(rows) of \(x.shape)")
        let n = rows.count, c = x.shape[1], plane = x.shape.dropFirst(2).reduce(1, *)
        var shape = x.shape
        shape[0] = n
        var y = Tensor(shape: shape, scalars: uninitializedFloats(n * c * plane))  // every element is written below
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeMutableBufferPointer { py in
                for b in 0..<n {
                    for ch in 0..<c {
                        let offset = (b * c + ch) * plane
                        let source = px.baseAddress! + rows.lowerBound * c * plane + offset, p = py.baseAddress! + offset
                        let a = scale[ch], s = shift[ch]
                        for k in 0..<plane { p[k] = a * source[k] + s }
                    }
                }
            }
        }
        return y
    }

    /// Per-channel sums `Σ dy` and `Σ dy·x` over N, H and W.
    public static func channelSums(_ dy: Tensor, weightedBy x: Tensor) -> (sum: [Float], weighted: [Float]) {
        let n = dy.shape[0], c = dy.shape[1], plane = dy.count / max(1, n * c)
        var sum = [Float](repeating: 0, count: c)
        var weighted = [Float](repeating: 0, count: c)
        dy.scalars.withUnsafeBufferPointer { pdy in
            x.scalars.withUnsafeBufferPointer { px in
                for ch in 0..<c {
                    var s = 0.0, w = 0.0
                    for b in 0..<n {
                        let offset = (b * c + ch) * plane
                        for k in 0..<plane {
                            s += Double(pdy[offset + k])
                            w += Double(pdy[offset + k]) * Double(px[offset + k])
                        }
                    }
                    sum[ch] = Float(s)
                    weighted[ch] = Float(w)
                }
            }
        }
        return (sum, weighted)
    }
}
