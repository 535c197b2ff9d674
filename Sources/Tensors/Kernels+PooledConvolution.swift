extension Kernels {
    /// Whether `conv2dMaxPool2x2Backward` computes the weight and bias gradients from the pooled
    /// gradient directly (`conv2dMaxPool2x2ParameterGradients`): 3×3 kernels over at most 3 input
    /// channels (a first layer on grey or RGB images), whose weight-gradient product (`O × C·9`
    /// outputs, an inner size of every output position) is far too narrow for `sgemm` to be
    /// efficient. Others, and every input gradient, go through dense products.
    static func takesDirectParameterGradients(_ g: Conv2dGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.inChannels <= 3
    }

    /// The weight and bias gradients of `conv2dMaxPool2x2` (3×3 kernels) from the pooled gradient
    /// alone. Only the maximum of each pooling window receives a gradient, so each pooled output
    /// adds its gradient times its receptive field to its channel's weight gradient: `9·C`
    /// multiply-adds per pooled output, a quarter of what the dense product does per output
    /// position, and no patch columns. Output channel o's gradients are summed by one thread,
    /// images then pooled outputs row by row, so results do not depend on the thread count; they
    /// differ from the dense product's in the last bits (the same terms added in another order)
    /// and equal them when every term and sum is exact. With `reluOutput` (the forward's output
    /// when it ran with `relu`), the gradient is zero where that output is ≤ 0.
    /// With `kernels` (a family of Gauntlet's kernels, by default the one in use), as many output
    /// channels as a vector has lanes (16 or 8) go in its lanes: each pooled output's window adds, for each of its four
    /// corners, the gradient where that corner is the maximum (zero elsewhere) times the
    /// corner's receptive field, with fused multiply-adds, so the sums differ from the loop's in
    /// their last bits; a channel's sums still run over images, then pooled outputs in order,
    /// on one thread, and every family gives the same bits.
    static func conv2dMaxPool2x2ParameterGradients(
        _ dy: Tensor, argMax: [Int32], input x: Tensor, geometry g: Conv2dGeometry, reluOutput: Tensor?,
        kernels: MicroKernels? = MicroKernels.active
    ) -> (weight: Tensor, bias: Tensor) {
        precondition(
            takesDirectParameterGradients(g), "conv2dMaxPool2x2ParameterGradients: \(g.kernelHeight)×\(g.kernelWidth) kernel over \(g.inChannels) channels")
        let plane = g.outHeight * g.outWidth, pooledPlane = plane / 4
        let pooledHeight = g.outHeight / 2, pooledWidth = g.outWidth / 2, width = g.outWidth, stride = g.stride
        let paddedWidth = g.width + 2 * g.padding, paddedPlane = (g.height + 2 * g.padding) * paddedWidth
        let paddedImage = g.inChannels * paddedPlane
        let rows = (0, paddedWidth, 2 * paddedWidth)
        let padded = paddedInput(x, g)
        let pooled = reluOutput ?? Tensor(shape: [0])
        var dw = Tensor(shape: g.weightShape), db = Tensor(shape: [g.outChannels])
        dy.scalars.withUnsafeBufferPointer { pdy in
            pooled.scalars.withUnsafeBufferPointer { pooledValues in
                argMax.withUnsafeBufferPointer { pa in
                    padded.withUnsafeBufferPointer { px in
                        dw.scalars.withUnsafeMutableBufferPointer { pdw in
                            db.scalars.withUnsafeMutableBufferPointer { pdb in
                                let rectified = reluOutput != nil
                                if let kernels {
                                    // Each group of a vector's lanes of output channels is one part.
                                    let lanes = kernels.lanes
                                    Parallel.forEach((g.outChannels + lanes - 1) / lanes, grain: 1) { groups in
                                        for group in groups {
                                            kernels.pooledConv3x3Gradients(
                                                g, channels: lanes * group..<min(g.outChannels, lanes * group + lanes), padded: px.baseAddress!,
                                                gradient: pdy.baseAddress!, argMax: pa.baseAddress!, pooled: rectified ? pooledValues.baseAddress! : nil,
                                                dw: pdw.baseAddress!, db: pdb.baseAddress!)
                                        }
                                    }
                                    return
                                }
                                // Output channel o owns dW[o] and db[o].
                                Parallel.forEach(g.outChannels, grain: 1) { channels in
                                    for o in channels {
                                        var biasSum: Float = 0
                                        for c in 0..<g.inChannels {
                                            var (w0, w1, w2, w3, w4, w5, w6, w7, w8): (Float, Float, Float, Float, Float, Float, Float, Float, Float) = (
                                                0, 0, 0, 0, 0, 0, 0, 0, 0
                                            )
                                            for n in 0..<g.batch {
                                                let image = px.baseAddress! + (n &* paddedImage &+ c &* paddedPlane)
                                                let index = n &* g.outChannels &+ o
                                                var k = index &* pooledPlane
                                                for yo in 0..<pooledHeight {
                                                    let rowStart = index &* plane &+ 2 &* yo &* width
                                                    for xo in 0..<pooledWidth {
                                                        // No branch on the values: a zero gradient (about half of them,
                                                        // below a ReLU) goes through the arithmetic like the others.
                                                        let gradient = rectified && pooledValues[k] <= 0 ? 0 : pdy[k]
                                                        // The maximum is one of the window's four corners.
                                                        let corner = Int(pa[k]) &- rowStart &- 2 &* xo
                                                        let below = corner >= width ? 1 : 0
                                                        let y = 2 &* yo &+ below, x = 2 &* xo &+ corner &- below &* width
                                                        let f = image + (y &* paddedWidth &+ x) &* stride
                                                        if c == 0 { biasSum += gradient }
                                                        w0 += gradient * f[rows.0]; w1 += gradient * f[rows.0 + 1]; w2 += gradient * f[rows.0 + 2]
                                                        w3 += gradient * f[rows.1]; w4 += gradient * f[rows.1 + 1]; w5 += gradient * f[rows.1 + 2]
                                                        w6 += gradient * f[rows.2]; w7 += gradient * f[rows.2 + 1]; w8 += gradient * f[rows.2 + 2]
                                                        k &+= 1
                                                    }
                                                }
                                            }
                                            let out = pdw.baseAddress! + (o * g.inChannels + c) * 9
                                            out[0] = w0; out[1] = w1; out[2] = w2; out[3] = w3; out[4] = w4
                                            out[5] = w5; out[6] = w6; out[7] = w7; out[8] = w8
                                        }
                                        pdb[o] = biasSum
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dw, db)
    }

    /// The input `[N, C, H, W]` with `padding` zeros around every plane: `[N, C, H+2p, W+2p]`.
    static func paddedInput(_ x: Tensor, _ g: Conv2dGeometry) -> [Float] {
        let paddedWidth = g.width + 2 * g.padding, paddedPlane = (g.height + 2 * g.padding) * paddedWidth
        var padded = [Float](repeating: 0, count: g.batch * g.inChannels * paddedPlane)
        x.scalars.withUnsafeBufferPointer { px in
            padded.withUnsafeMutableBufferPointer { pp in
                Parallel.forEach(g.batch * g.inChannels, grain: max(1, (1 << 15) / max(1, paddedPlane))) { planes in
                    for plane in planes {
                        for y in 0..<g.height {
                            (pp.baseAddress! + plane * paddedPlane + (y + g.padding) * paddedWidth + g.padding)
                                .update(from: px.baseAddress! + (plane * g.height + y) * g.width, count: g.width)
                        }
                    }
                }
            }
        }
        return padded
    }
}
