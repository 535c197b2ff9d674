extension Kernels {
    /// Max pooling over windows of `geometry` (padding reads as −∞, as in PyTorch).
    /// Returns the output and, per output element, the flat input index of its maximum.
    public static func maxPool2d(_ x: Tensor, geometry g: Conv2dGeometry) -> (output: Tensor, argMax: [Int32]) {
        if g.kernelHeight == 2, g.kernelWidth == 2, g.stride == 2, g.padding == 0 { return maxPool2x2(x, geometry: g) }
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

    /// The common 2×2, stride-2, unpadded case of `maxPool2d`: the same outputs and indices
    /// (the first maximum in row-major window order wins; a NaN in the first place stays), with
    /// the window's four reads unrolled and no bounds to clip.
    static func maxPool2x2(_ x: Tensor, geometry g: Conv2dGeometry) -> (output: Tensor, argMax: [Int32]) {
        let oh = g.outHeight, ow = g.outWidth, width = g.width, planeSize = g.height * g.width
        let count = g.batch * g.inChannels * oh * ow
        guard count > 0 else { return (Tensor(shape: [g.batch, g.inChannels, oh, ow]), []) }
        var output = uninitializedFloats(count)
        var arg = [Int32](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        x.scalars.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                arg.withUnsafeMutableBufferPointer { argBuffer in
                    let px = input.baseAddress!, py = outputBuffer.baseAddress!, pa = argBuffer.baseAddress!
                    Parallel.forEach(g.batch * g.inChannels, grain: max(1, (1 << 15) / max(1, planeSize))) { planes in
                        var out = planes.lowerBound * oh * ow
                        for plane in planes {
                            for yo in 0..<oh {
                                let top = plane * planeSize + 2 * yo * width, bottom = top + width
                                for xo in 0..<ow {
                                    let a = top + 2 * xo, c = bottom + 2 * xo
                                    var best = px[a], index = a
                                    if px[a + 1] > best { best = px[a + 1]; index = a + 1 }
                                    if px[c] > best { best = px[c]; index = c }
                                    if px[c + 1] > best { best = px[c + 1]; index = c + 1 }
                                    py[out] = best
                                    pa[out] = Int32(truncatingIfNeeded: index)
                                    out += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: [g.batch, g.inChannels, oh, ow], scalars: output), arg)
    }

    /// `maxPool2dBackward` for the pooling of `g`: in the 2×2, stride-2, unpadded case with even
    /// sides, every input element lies in exactly one window, so each window's four gradients
    /// are written at once (the maximum gets the output gradient, the others zero) in one pass
    /// instead of zero-filling the whole input gradient first.
    public static func maxPool2dBackward(_ dy: Tensor, argMax: [Int32], geometry g: Conv2dGeometry) -> Tensor {
        guard g.kernelHeight == 2, g.kernelWidth == 2, g.stride == 2, g.padding == 0, g.height % 2 == 0, g.width % 2 == 0, dy.count > 0 else {
            return maxPool2dBackward(dy, argMax: argMax, inputShape: g.inputShape)
        }
        let oh = g.outHeight, ow = g.outWidth, width = g.width, planeSize = g.height * g.width
        let planes = g.batch * g.inChannels
        var dx = uninitializedFloats(planes * planeSize)  // every element is written below
        dx.withUnsafeMutableBufferPointer { gradient in
            dy.scalars.withUnsafeBufferPointer { upstream in
                argMax.withUnsafeBufferPointer { indices in
                    let pdx = gradient.baseAddress!, pdy = upstream.baseAddress!, pa = indices.baseAddress!
                    Parallel.forEach(planes, grain: max(1, (1 << 15) / max(1, planeSize))) { range in
                        var out = range.lowerBound * oh * ow
                        for plane in range {
                            for yo in 0..<oh {
                                let top = plane * planeSize + 2 * yo * width, bottom = top + width
                                for xo in 0..<ow {
                                    let a = top + 2 * xo, c = bottom + 2 * xo
                                    pdx[a] = 0; pdx[a + 1] = 0; pdx[c] = 0; pdx[c + 1] = 0
                                    pdx[Int(pa[out])] = pdy[out]
                                    out += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: g.inputShape, scalars: dx)
    }

    /// Routes each output gradient to the input element that was the window's maximum.
    public static func maxPool2dBackward(_ dy: Tensor, argMax: [Int32], inputShape: [Int]) -> Tensor {
        var dx = Tensor(shape: inputShape)
        guard dy.count > 0 else { return dx }
        // Every window lies in its own (image, channel) plane: parts own whole planes.
        let planes = inputShape.count >= 2 ? inputShape[0] * inputShape[1] : 1
        let perPlane = planes > 0 ? dy.count / planes : 0
        dx.scalars.withUnsafeMutableBufferPointer { gradient in
            dy.scalars.withUnsafeBufferPointer { upstream in
                argMax.withUnsafeBufferPointer { indices in
                    let pdx = gradient.baseAddress!, pdy = upstream.baseAddress!, pa = indices.baseAddress!
                    Parallel.forEach(planes, grain: max(1, (1 << 14) / max(1, perPlane))) { range in
                        for k in (range.lowerBound * perPlane)..<(range.upperBound * perPlane) { pdx[Int(pa[k])] += pdy[k] }
                    }
                }
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
