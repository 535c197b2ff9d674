extension Kernels {
    /// Max pooling over windows of `geometry` (padding reads as −∞, as in PyTorch).
    /// Returns the output and, per output element, the flat input index of its maximum.
    public static func maxPool2d(_ x: Tensor, geometry g: Conv2dGeometry) -> (output: Tensor, argMax: [Int32]) {
        let oh = g.outHeight, ow = g.outWidth
        var y = Tensor(shape: [g.batch, g.inChannels, oh, ow])
        var arg = [Int32](repeating: 0, count: y.count)
        let tiled = g.padding == 0 && g.stride == g.kernelWidth && g.kernelWidth == g.kernelHeight
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeMutableBufferPointer { py in
                arg.withUnsafeMutableBufferPointer { pa in
                    var out = 0
                    for plane in 0..<(g.batch * g.inChannels) {
                        let base = plane * g.height * g.width
                        for yo in 0..<oh {
                            let y0 = yo * g.stride - g.padding
                            let rows = max(0, y0)..<min(g.height, y0 + g.kernelHeight)
                            for xo in 0..<ow {
                                let x0 = xo * g.stride - g.padding
                                var bestIndex = base + rows.lowerBound * g.width + max(0, x0)
                                var best = px[bestIndex]
                                if tiled {
                                    // Non-overlapping windows inside the image: no bounds to clip.
                                    for i in rows {
                                        let rowStart = base + i * g.width + x0
                                        for j in 0..<g.kernelWidth where px[rowStart + j] > best {
                                            best = px[rowStart + j]
                                            bestIndex = rowStart + j
                                        }
                                    }
                                } else {
                                    for i in rows {
                                        for j in max(0, x0)..<min(g.width, x0 + g.kernelWidth) {
                                            let index = base + i * g.width + j
                                            if px[index] > best {
                                                best = px[index]
                                                bestIndex = index
                                            }
                                        }
                                    }
                                }
                                py[out] = best
                                pa[out] = Int32(truncatingIfNeeded: bestIndex)
                                out += 1
                            }
                        }
                    }
                }
            }
        }
        return (y, arg)
    }

    /// Routes each output gradient to the input element that was the window's maximum.
    public static func maxPool2dBackward(_ dy: Tensor, argMax: [Int32], inputShape: [Int]) -> Tensor {
        var dx = Tensor(shape: inputShape)
        dx.scalars.withUnsafeMutableBufferPointer { pdx in
            dy.scalars.withUnsafeBufferPointer { pdy in
                for k in 0..<pdy.count { pdx[Int(argMax[k])] += pdy[k] }
            }
        }
        return dx
    }

    /// Average pooling; padded positions count as zeros in the divisor
    /// (PyTorch's default `count_include_pad=True`), so every window divides by `kh·kw`.
    public static func avgPool2d(_ x: Tensor, geometry g: Conv2dGeometry) -> Tensor {
        let oh = g.outHeight, ow = g.outWidth
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        var y = Tensor(shape: [g.batch, g.inChannels, oh, ow])
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeMutableBufferPointer { py in
                var out = 0
                for plane in 0..<(g.batch * g.inChannels) {
                    let base = plane * g.height * g.width
                    for yo in 0..<oh {
                        let y0 = yo * g.stride - g.padding
                        for xo in 0..<ow {
                            let x0 = xo * g.stride - g.padding
                            var s: Float = 0
                            for i in max(0, y0)..<min(g.height, y0 + g.kernelHeight) {
                                for j in max(0, x0)..<min(g.width, x0 + g.kernelWidth) { s += px[base + i * g.width + j] }
                            }
                            py[out] = s * scale
                            out += 1
                        }
                    }
                }
            }
        }
        return y
    }

    /// Spreads each output gradient evenly over its window (the adjoint of `avgPool2d`).
    public static func avgPool2dBackward(_ dy: Tensor, geometry g: Conv2dGeometry) -> Tensor {
        let oh = g.outHeight, ow = g.outWidth
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        var dx = Tensor(shape: g.inputShape)
        dx.scalars.withUnsafeMutableBufferPointer { pdx in
            dy.scalars.withUnsafeBufferPointer { pdy in
                var out = 0
                for plane in 0..<(g.batch * g.inChannels) {
                    let base = plane * g.height * g.width
                    for yo in 0..<oh {
                        let y0 = yo * g.stride - g.padding
                        for xo in 0..<ow {
                            let x0 = xo * g.stride - g.padding
                            let share = pdy[out] * scale
                            for i in max(0, y0)..<min(g.height, y0 + g.kernelHeight) {
                                for j in max(0, x0)..<min(g.width, x0 + g.kernelWidth) { pdx[base + i * g.width + j] += share }
                            }
                            out += 1
                        }
                    }
                }
            }
        }
        return dx
    }
}
