/// Fast kernels: BLAS-backed products and tight loops. Each has a naive twin in
/// `ReferenceKernels` that the tests use as the oracle.
public enum Kernels {}

extension Kernels {
    /// `y[n, o] = Σ_i x[n, i] · w[o, i] + b[o]` through one `sgemm`.
    /// Shapes: x `[batch, inFeatures]`, w `[outFeatures, inFeatures]`, b `[outFeatures]`.
    public static func linear(_ x: Tensor, weight w: Tensor, bias b: Tensor?) -> Tensor {
        let batch = x.shape[0], inFeatures = x.shape[1], outFeatures = w.shape[0]
        var y = Tensor(shape: [batch, outFeatures])
        x.scalars.withUnsafeBufferPointer { px in
            w.scalars.withUnsafeBufferPointer { pw in
                y.scalars.withUnsafeMutableBufferPointer { py in
                    if let b {
                        b.scalars.withUnsafeBufferPointer { pb in
                            for row in 0..<batch {
                                (py.baseAddress! + row * outFeatures).update(from: pb.baseAddress!, count: outFeatures)
                            }
                        }
                    }
                    BLAS.sgemm(
                        transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures,
                        a: px.baseAddress!, lda: inFeatures, b: pw.baseAddress!, ldb: inFeatures,
                        beta: b == nil ? 0 : 1, c: py.baseAddress!, ldc: outFeatures)
                }
            }
        }
        return y
    }

    /// Lowers an NCHW batch to patch columns: `cols[p, n·Ho·Wo + oh·Wo + ow]`, where
    /// `p = (c·kh + i)·kw + j` indexes the receptive field; padding reads as zero.
    public static func im2col(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, into cols: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, plane = oh * ow, columns = g.batch * plane
        for c in 0..<g.inChannels {
            for i in 0..<g.kernelHeight {
                for j in 0..<g.kernelWidth {
                    let row = cols + ((c * g.kernelHeight + i) * g.kernelWidth + j) * columns
                    for n in 0..<g.batch {
                        let image = x + (n * g.inChannels + c) * g.height * g.width
                        let out = row + n * plane
                        for y in 0..<oh {
                            let iy = y * g.stride - g.padding + i
                            let dst = out + y * ow
                            if iy < 0 || iy >= g.height {
                                dst.update(repeating: 0, count: ow)
                                continue
                            }
                            let src = image + iy * g.width
                            for xo in 0..<ow {
                                let ix = xo * g.stride - g.padding + j
                                dst[xo] = (ix >= 0 && ix < g.width) ? src[ix] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds every patch column back onto the image it came from.
    public static func col2imAdd(_ cols: UnsafePointer<Float>, _ g: Conv2dGeometry, into dx: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, plane = oh * ow, columns = g.batch * plane
        for c in 0..<g.inChannels {
            for i in 0..<g.kernelHeight {
                for j in 0..<g.kernelWidth {
                    let row = cols + ((c * g.kernelHeight + i) * g.kernelWidth + j) * columns
                    for n in 0..<g.batch {
                        let image = dx + (n * g.inChannels + c) * g.height * g.width
                        let src = row + n * plane
                        for y in 0..<oh {
                            let iy = y * g.stride - g.padding + i
                            if iy < 0 || iy >= g.height { continue }
                            let dst = image + iy * g.width
                            for xo in 0..<ow {
                                let ix = xo * g.stride - g.padding + j
                                if ix >= 0 && ix < g.width { dst[ix] += src[y * ow + xo] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// 2-D cross-correlation (PyTorch's `conv2d`) by im2col and one `sgemm`.
    /// Returns the output `[N, O, Ho, Wo]` and the patch columns (kept for the backward pass).
    public static func conv2d(_ x: Tensor, weight w: Tensor, bias b: Tensor?, geometry g: Conv2dGeometry) -> (output: Tensor, columns: [Float]) {
        let plane = g.outHeight * g.outWidth, columns = g.batch * plane
        var cols = [Float](repeating: 0, count: g.patchSize * columns)
        var product = [Float](repeating: 0, count: g.outChannels * columns)
        x.scalars.withUnsafeBufferPointer { px in
            cols.withUnsafeMutableBufferPointer { pc in im2col(px.baseAddress!, g, into: pc.baseAddress!) }
        }
        w.scalars.withUnsafeBufferPointer { pw in
            cols.withUnsafeBufferPointer { pc in
                product.withUnsafeMutableBufferPointer { pp in
                    BLAS.sgemm(
                        transposeA: false, transposeB: false, m: g.outChannels, n: columns, k: g.patchSize,
                        a: pw.baseAddress!, lda: g.patchSize, b: pc.baseAddress!, ldb: columns,
                        c: pp.baseAddress!, ldc: columns)
                }
            }
        }
        var y = Tensor(shape: g.outputShape)
        let biasValues = b?.scalars
        y.scalars.withUnsafeMutableBufferPointer { py in
            product.withUnsafeBufferPointer { pp in
                for o in 0..<g.outChannels {
                    let shift = biasValues?[o] ?? 0
                    for n in 0..<g.batch {
                        let src = pp.baseAddress! + o * columns + n * plane
                        let dst = py.baseAddress! + (n * g.outChannels + o) * plane
                        for k in 0..<plane { dst[k] = src[k] + shift }
                    }
                }
            }
        }
        return (y, cols)
    }

    /// Gradients of `conv2d` from the output gradient `dy` `[N, O, Ho, Wo]`: with respect to
    /// the input (if `needInput`), the weight and the bias (if `needParameters`).
    public static func conv2dBackward(
        _ dy: Tensor, columns cols: [Float], weight w: Tensor, geometry g: Conv2dGeometry,
        needInput: Bool, needParameters: Bool
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let plane = g.outHeight * g.outWidth, columns = g.batch * plane
        // Gather dy as [O, N·Ho·Wo], the layout of the forward product.
        var dProduct = [Float](repeating: 0, count: g.outChannels * columns)
        dy.scalars.withUnsafeBufferPointer { pdy in
            dProduct.withUnsafeMutableBufferPointer { pp in
                for n in 0..<g.batch {
                    for o in 0..<g.outChannels {
                        (pp.baseAddress! + o * columns + n * plane)
                            .update(from: pdy.baseAddress! + (n * g.outChannels + o) * plane, count: plane)
                    }
                }
            }
        }
        var dw: Tensor?
        var db: Tensor?
        if needParameters {
            var gradW = Tensor(shape: g.weightShape)
            dProduct.withUnsafeBufferPointer { pp in
                cols.withUnsafeBufferPointer { pc in
                    gradW.scalars.withUnsafeMutableBufferPointer { pw in
                        BLAS.sgemm(
                            transposeA: false, transposeB: true, m: g.outChannels, n: g.patchSize, k: columns,
                            a: pp.baseAddress!, lda: columns, b: pc.baseAddress!, ldb: columns,
                            c: pw.baseAddress!, ldc: g.patchSize)
                    }
                }
            }
            var gradB = Tensor(shape: [g.outChannels])
            dProduct.withUnsafeBufferPointer { pp in
                for o in 0..<g.outChannels {
                    var s: Float = 0
                    let row = pp.baseAddress! + o * columns
                    for k in 0..<columns { s += row[k] }
                    gradB.scalars[o] = s
                }
            }
            dw = gradW
            db = gradB
        }
        var dx: Tensor?
        if needInput {
            var dCols = [Float](repeating: 0, count: g.patchSize * columns)
            w.scalars.withUnsafeBufferPointer { pw in
                dProduct.withUnsafeBufferPointer { pp in
                    dCols.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: g.patchSize, n: columns, k: g.outChannels,
                            a: pw.baseAddress!, lda: g.patchSize, b: pp.baseAddress!, ldb: columns,
                            c: pc.baseAddress!, ldc: columns)
                    }
                }
            }
            var gradX = Tensor(shape: g.inputShape)
            dCols.withUnsafeBufferPointer { pc in
                gradX.scalars.withUnsafeMutableBufferPointer { px in col2imAdd(pc.baseAddress!, g, into: px.baseAddress!) }
            }
            dx = gradX
        }
        return (dx, dw, db)
    }
}
