extension Kernels {
    /// Per-channel mean and biased variance of an NCHW batch over N, H and W: each plane's
    /// sum (and sum of squared deviations from the mean) in eight float lanes (`planeSum`),
    /// the planes' sums added in Double.
    public static func channelMoments(_ x: Tensor) -> (mean: [Float], variance: [Float]) {
        let n = x.shape[0], c = x.shape[1], plane = x.shape[2] * x.shape[3]
        let m = Double(n * plane)
        var mean = [Float](repeating: 0, count: c)
        var variance = [Float](repeating: 0, count: c)
        x.scalars.withUnsafeBufferPointer { px in
            mean.withUnsafeMutableBufferPointer { pm in
                variance.withUnsafeMutableBufferPointer { pv in
                    let (input, means, variances) = (px.baseAddress!, pm.baseAddress!, pv.baseAddress!)
                    // Channels are independent (each summed in the same order on one thread).
                    Parallel.forEach(c, grain: max(1, (1 << 15) / max(1, n * plane))) { channels in
                        for ch in channels {
                            var s = 0.0
                            for b in 0..<n { s += Double(planeSum(input + (b * c + ch) * plane, count: plane)) }
                            let mu = Float(s / m)
                            var v = 0.0
                            for b in 0..<n { v += Double(planeSquaredDeviations(input + (b * c + ch) * plane, count: plane, from: mu)) }
                            means[ch] = mu
                            variances[ch] = Float(v / m)
                        }
                    }
                }
            }
        }
        return (mean, variance)
    }

    /// `Σ (values[k] − center)²` over `count` floats, in eight lanes then the tail in order.
    @inline(__always)
    static func planeSquaredDeviations(_ values: UnsafePointer<Float>, count: Int, from center: Float) -> Float {
        var lanes = SIMD8<Float>()
        let centers = SIMD8<Float>(repeating: center)
        var k = 0
        while k + 8 <= count {
            let d = UnsafeRawPointer(values + k).loadUnaligned(as: SIMD8<Float>.self) - centers
            lanes += d * d
            k += 8
        }
        var sum = lanes.sum()
        while k < count {
            let d = values[k] - center
            sum += d * d
            k += 1
        }
        return sum
    }

    /// `Σ a[k]·b[k]` over `count` floats, in eight lanes then the tail in order.
    @inline(__always)
    static func planeDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var k = 0
        while k + 8 <= count {
            lanes += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD8<Float>.self)
            k += 8
        }
        var sum = lanes.sum()
        while k < count {
            sum += a[k] * b[k]
            k += 1
        }
        return sum
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
                let (input, output) = (px.baseAddress! + rows.lowerBound * c * plane, py.baseAddress!)
                // Planes (sample, channel) are independent: split over the job's threads.
                Parallel.forEach(n * c, grain: max(1, (1 << 15) / max(1, plane))) { planes in
                    for index in planes {
                        let ch = index % c, offset = index * plane
                        let source = input + offset, p = output + offset
                        let a = scale[ch], s = shift[ch]
                        for k in 0..<plane { p[k] = a * source[k] + s }
                    }
                }
            }
        }
        return y
    }

    /// Per-channel sums `Σ dy` and `Σ dy·x` over N, H and W: each plane's in eight float lanes
    /// (`planeSum`, `planeDot`), the planes' added in Double.
    public static func channelSums(_ dy: Tensor, weightedBy x: Tensor) -> (sum: [Float], weighted: [Float]) {
        let n = dy.shape[0], c = dy.shape[1], plane = dy.count / max(1, n * c)
        var sum = [Float](repeating: 0, count: c)
        var weighted = [Float](repeating: 0, count: c)
        dy.scalars.withUnsafeBufferPointer { pdy in
            x.scalars.withUnsafeBufferPointer { px in
                sum.withUnsafeMutableBufferPointer { ps in
                    weighted.withUnsafeMutableBufferPointer { pw in
                        let (gradient, input, sums, weightedSums) = (pdy.baseAddress!, px.baseAddress!, ps.baseAddress!, pw.baseAddress!)
                        // Channels are independent (each summed in the same order on one thread).
                        Parallel.forEach(c, grain: max(1, (1 << 15) / max(1, n * plane))) { channels in
                            for ch in channels {
                                var s = 0.0, w = 0.0
                                for b in 0..<n {
                                    let offset = (b * c + ch) * plane
                                    s += Double(planeSum(gradient + offset, count: plane))
                                    w += Double(planeDot(gradient + offset, input + offset, count: plane))
                                }
                                sums[ch] = Float(s)
                                weightedSums[ch] = Float(w)
                            }
                        }
                    }
                }
            }
        }
        return (sum, weighted)
    }
}
