/// Fast kernels: BLAS-backed products and tight loops. Each has a naive twin in
/// `ReferenceKernels` that the tests use as the oracle.
public enum Kernels {}

extension Kernels {
    /// Whether `linear` is faster given its weight transposed as well: with Gauntlet's kernels,
    /// which read B as stored (`x · Wᵀ` is then a product with B not transposed).
    public static var linearTakesTransposedWeight: Bool { MicroKernels.isEnabled }

    /// `y[n, o] = Σ_i x[n, i] · w[o, i] + b[o]` through one `sgemm`.
    /// Shapes: x `[batch, inFeatures]`, w `[outFeatures, inFeatures]`, b `[outFeatures]`;
    /// `transposedWeight`, when given, is w transposed (`[inFeatures, outFeatures]`) and the
    /// product reads it instead of w.
    public static func linear(_ x: Tensor, weight w: Tensor, bias b: Tensor?, transposedWeight: Tensor? = nil) -> Tensor {
        let batch = x.shape[0], inFeatures = x.shape[1], outFeatures = w.shape[0]
        if let transposedWeight {
            precondition(transposedWeight.shape == [inFeatures, outFeatures], "linear: transposed weight \(transposedWeight.shape), weight \(w.shape)")
        }
        // With a bias every row is written from it below, and a product with an inner size
        // overwrites every element: only a bias-less product over no inputs needs the zeros.
        var y =
            b == nil && inFeatures == 0
            ? Tensor(shape: [batch, outFeatures])
            : Tensor(shape: [batch, outFeatures], scalars: uninitializedFloats(batch * outFeatures))
        x.scalars.withUnsafeBufferPointer { px in
            (transposedWeight ?? w).scalars.withUnsafeBufferPointer { pw in
                y.scalars.withUnsafeMutableBufferPointer { py in
                    // A training forward on a part's rows: the product's rows start from the bias
                    // itself (no rows of it written out, then copied into the product and back).
                    if let b, transposedWeight == nil, let kernels = MicroKernels.active,
                        MicroKernels.takesTransposedBInOneCall(m: batch, n: outFeatures, k: inFeatures),
                        b.scalars.withUnsafeBufferPointer({ pb in
                            kernels.sgemmTransposedB(
                                m: batch, n: outFeatures, k: inFeatures, a: px.baseAddress!, lda: inFeatures,
                                b: pw.baseAddress!, ldb: inFeatures, accumulate: false, rowStart: pb.baseAddress,
                                c: py.baseAddress!, ldc: outFeatures)
                        })
                    {
                        return
                    }
                    if let b {
                        b.scalars.withUnsafeBufferPointer { pb in
                            for row in 0..<batch {
                                (py.baseAddress! + row * outFeatures).update(from: pb.baseAddress!, count: outFeatures)
                            }
                        }
                    }
                    let transposed = transposedWeight != nil
                    BLAS.sgemm(
                        transposeA: false, transposeB: !transposed, m: batch, n: outFeatures, k: inFeatures,
                        a: px.baseAddress!, lda: inFeatures, b: pw.baseAddress!, ldb: transposed ? outFeatures : inFeatures,
                        beta: b == nil ? 0 : 1, c: py.baseAddress!, ldc: outFeatures)
                }
            }
        }
        return y
    }

    /// The weight gradient of a linear layer over a batch, possibly computed in parts:
    /// `Σ_p dYₚᵀ·Xₚ` for each part's output gradient `[Nₚ, out]` and input `[Nₚ, in]` (one part:
    /// the backward pass's `dYᵀ·X`; a nil gradient adds nothing; nil when all are). One `[out, in]`
    /// result, its rows summed in blocks over the job's threads, each block summed over the parts
    /// in order onto itself: no per-part copies, no separate sum, and where Gauntlet's kernels
    /// run every element is the ordered fused sum over the whole batch, the bits of one product
    /// over the unsplit batch (`linearWeightGradients`).
    public static func linearWeightGradient(outputGradients: [Tensor?], inputs: [Tensor]) -> Tensor? {
        linearWeightGradients([LinearWeightGradient(outputGradients: outputGradients, inputs: inputs)])[0]
    }

    /// What `linearWeightGradients` computes for one linear layer: `Σ_p dYₚᵀ·Xₚ` over the parts'
    /// output gradients and inputs (as `linearWeightGradient`), and what to do with each block of
    /// it as soon as the block is summed.
    public struct LinearWeightGradient {
        public var outputGradients: [Tensor?]
        public var inputs: [Tensor]
        /// Called once for every block of rows, from whichever thread summed it, with the result's
        /// storage and the block's elements (row-major, `rows × in` of them): the block is still
        /// in that thread's cache. Blocks are disjoint; a body may write what the block owns.
        public var eachBlock: ((_ gradient: UnsafePointer<Float>, _ elements: Range<Int>) -> Void)?

        public init(
            outputGradients: [Tensor?], inputs: [Tensor],
            eachBlock: ((_ gradient: UnsafePointer<Float>, _ elements: Range<Int>) -> Void)? = nil
        ) {
            self.outputGradients = outputGradients
            self.inputs = inputs
            self.eachBlock = eachBlock
        }
    }

    /// Rows of a linear weight gradient summed as one block of `linearWeightGradients`: with the
    /// first layer of the quickstart MLP (784 inputs) 50 KB, about an L1 cache, so that a block's
    /// `eachBlock` reads what was just summed.
    static let linearWeightGradientBlockRows = 16

    /// Several linear layers' weight gradients (`linearWeightGradient` each, nil where a layer has
    /// no gradient) as one job: every layer's rows cut into blocks of
    /// `linearWeightGradientBlockRows`, the blocks taken by the job's threads in turn, and each
    /// block handed to its layer's `eachBlock` once summed. A training step applies an
    /// element-wise optimizer there, while the block is in cache, instead of reading the whole
    /// gradient back from memory afterwards.
    public static func linearWeightGradients(_ layers: [LinearWeightGradient]) -> [Tensor?] {
        // Per layer: its parts with gradients and its size.
        typealias Plan = (parts: [(gradient: Tensor, input: Tensor)], out: Int, in: Int)
        let plans = layers.map { layer -> Plan? in
            precondition(
                layer.outputGradients.count == layer.inputs.count,
                "linearWeightGradient: \(layer.outputGradients.count) gradients, \(layer.inputs.count) inputs")
            let parts = zip(layer.outputGradients, layer.inputs).compactMap { gradient, input in gradient.map { ($0, input) } }
            guard let (first, firstInput) = parts.first else { return nil }
            let outFeatures = first.shape[1], inFeatures = firstInput.shape[1]
            for (gradient, input) in parts {
                precondition(
                    gradient.rank == 2 && input.rank == 2 && gradient.shape == [input.shape[0], outFeatures] && input.shape[1] == inFeatures,
                    "linearWeightGradient: gradient \(gradient.shape), input \(input.shape)")
            }
            return (parts, outFeatures, inFeatures)
        }
        let blockRows = linearWeightGradientBlockRows
        let blocks = plans.indices.flatMap { index in
            plans[index].map { plan in stride(from: 0, to: plan.out, by: blockRows).map { (index, $0..<min($0 + blockRows, plan.out)) } } ?? []
        }
        // The results' storage, filled in place: each array's initializer is still running while
        // the next ones are made and the job sums into all of them.
        func results(from index: Int, _ storage: [UnsafeMutablePointer<Float>?]) -> [Tensor?] {
            guard index < plans.count else {
                sumBlocks(storage)
                return []
            }
            guard let plan = plans[index] else { return [nil] + results(from: index + 1, storage + [nil]) }
            var rest: [Tensor?] = []
            let scalars = [Float](unsafeUninitializedCapacity: plan.out * plan.in) { buffer, initialized in
                rest = results(from: index + 1, storage + [buffer.baseAddress])
                initialized = buffer.count
            }
            return [Tensor(shape: [plan.out, plan.in], scalars: scalars)] + rest
        }
        func sumBlocks(_ storage: [UnsafeMutablePointer<Float>?]) {
            // Each block of rows is written by the part that takes it alone.
            Parallel.forEach(blocks.count, grain: 1, parts: blocks.count) { taken in
                for (index, rows) in blocks[taken] {
                    let plan = plans[index]!, inFeatures = plan.in
                    guard let result = storage[index] else { continue }  // no elements
                    // The first part with samples overwrites the block, the others add.
                    let block = result + rows.lowerBound * inFeatures
                    var written = false
                    for (gradient, input) in plan.parts where gradient.shape[0] > 0 {
                        gradient.scalars.withUnsafeBufferPointer { pdy in
                            input.scalars.withUnsafeBufferPointer { px in
                                BLAS.sgemm(
                                    transposeA: true, transposeB: false, m: rows.count, n: inFeatures, k: gradient.shape[0],
                                    a: pdy.baseAddress! + rows.lowerBound, lda: plan.out, b: px.baseAddress!, ldb: inFeatures,
                                    beta: written ? 1 : 0, c: block, ldc: inFeatures)
                            }
                        }
                        written = true
                    }
                    if !written { block.initialize(repeating: 0, count: rows.count * inFeatures) }
                    layers[index].eachBlock?(result, rows.lowerBound * inFeatures..<rows.upperBound * inFeatures)
                }
            }
        }
        return results(from: 0, [])
    }

    /// A matrix `[rows, columns]` transposed to `[columns, rows]`.
    public static func transposed(_ matrix: Tensor) -> Tensor {
        precondition(matrix.rank == 2, "transposed: shape \(matrix.shape) is not a matrix")
        let rows = matrix.shape[0], columns = matrix.shape[1]
        var result = uninitializedFloats(rows * columns)
        matrix.scalars.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { destination in
                guard let from = source.baseAddress, let to = destination.baseAddress else { return }
                if let kernels = MicroKernels.active {
                    kernels.transpose(rows: rows, columns: columns, from, lds: columns, into: to, ldd: rows)
                } else {
                    for i in 0..<rows { for j in 0..<columns { to[j * rows + i] = from[i * columns + j] } }
                }
            }
        }
        return Tensor(shape: [columns, rows], scalars: result)
    }

    /// Lowers an NCHW batch to patch columns: `cols[p, n·Ho·Wo + oh·Wo + ow]`, where
    /// `p = (c·kh + i)·kw + j` indexes the receptive field; padding reads as zero.
    public static func im2col(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, into cols: UnsafeMutablePointer<Float>) {
        if g.isSamePadding {
            im2colSamePadding(x, g, into: cols)
        } else {
            im2colRows(x, g, into: cols)
        }
    }

    /// `im2col` row by row, for any geometry.
    static func im2colRows(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, into cols: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, plane = oh * ow, columns = g.batch * plane
        let kernelArea = g.kernelHeight * g.kernelWidth
        // Each patch row p = (c, i, j) is written by one part alone.
        Parallel.forEach(g.patchSize, grain: max(1, (1 << 15) / max(1, columns))) { rows in
            for p in rows {
                let c = p / kernelArea, i = p % kernelArea / g.kernelWidth, j = p % g.kernelWidth
                let row = cols + p * columns
                let (lo, hi) = validOutputRange(offset: j - g.padding, stride: g.stride, input: g.width, output: ow)
                for n in 0..<g.batch {
                    let image = x + (n * g.inChannels + c) * g.height * g.width
                    for y in 0..<oh {
                        let iy = y * g.stride - g.padding + i
                        let dst = row + n * plane + y * ow
                        if iy < 0 || iy >= g.height || lo >= hi {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
                        let src = image + iy * g.width + j - g.padding
                        if g.stride == 1 {
                            (dst + lo).update(from: src + lo, count: hi - lo)
                        } else {
                            for xo in lo..<hi { dst[xo] = src[xo * g.stride] }
                        }
                    }
                }
            }
        }
    }

    /// `im2col` for stride 1 and "same" padding (output as large as the input): a patch row's
    /// plane is then the input plane shifted by `(i − padding)·W + (j − padding)`, so it is one
    /// block copy per image and patch row, after which the rows and columns that fell outside the
    /// input are set to zero (instead of one short copy per output row).
    static func im2colSamePadding(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, into cols: UnsafeMutablePointer<Float>) {
        let width = g.width, height = g.height, plane = height * width, columns = g.batch * plane
        let kernelArea = g.kernelHeight * g.kernelWidth
        Parallel.forEach(g.patchSize, grain: max(1, (1 << 15) / max(1, columns))) { rows in
            for p in rows {
                let c = p / kernelArea, dy = p % kernelArea / g.kernelWidth - g.padding, dx = p % g.kernelWidth - g.padding
                let shift = dy * width + dx
                // Output rows whose input row lies inside, and the copy that stays within the plane.
                let firstRow = max(0, -dy), endRow = min(height, height - dy)
                let start = max(firstRow * width, -shift), end = min(endRow * width, plane - shift)
                for n in 0..<g.batch {
                    let image = x + (n * g.inChannels + c) * plane
                    let dst = cols + p * columns + n * plane
                    if end > start {
                        dst.update(repeating: 0, count: start)
                        (dst + start).update(from: image + start + shift, count: end - start)
                        (dst + end).update(repeating: 0, count: plane - end)
                    } else {
                        dst.update(repeating: 0, count: plane)
                    }
                    // Columns whose input column is outside: copied from the neighbouring row.
                    zeroColumnsOutside(dst, width: width, rows: firstRow..<endRow, shift: dx)
                }
            }
        }
    }

    /// Sets to zero, in `rows` of a plane `width` wide, the columns `x` whose `x + shift` falls
    /// outside `0..<width`: the first `−shift` columns or the last `shift`. A single column (3×3
    /// kernels) is stored element by element: a call to `memset` per row costs more than the row.
    @inline(__always)
    static func zeroColumnsOutside(_ plane: UnsafeMutablePointer<Float>, width: Int, rows: Range<Int>, shift: Int) {
        guard shift != 0 else { return }
        let count = min(width, abs(shift)), first = shift < 0 ? plane : plane + width - count
        if count == 1 {
            for y in rows { first[y * width] = 0 }
        } else {
            for y in rows { (first + y * width).update(repeating: 0, count: count) }
        }
    }

    /// The output positions `lo..<hi` whose input index `o·stride + offset` lies in `0..<input`.
    @inline(__always)
    static func validOutputRange(offset: Int, stride: Int, input: Int, output: Int) -> (Int, Int) {
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let hi = input - 1 - offset < 0 ? 0 : min(output, (input - 1 - offset) / stride + 1)
        return (min(lo, output), hi)
    }

    /// The adjoint of `im2col`: adds every patch column back onto the image it came from.
    public static func col2imAdd(_ cols: UnsafePointer<Float>, _ g: Conv2dGeometry, into dx: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, plane = oh * ow, columns = g.batch * plane
        // Channel c's patch rows add onto channel c's input planes only: parts own channels.
        Parallel.forEach(g.inChannels, grain: max(1, (1 << 15) / max(1, g.kernelHeight * g.kernelWidth * columns))) { channels in
            for c in channels {
                for i in 0..<g.kernelHeight {
                    for j in 0..<g.kernelWidth {
                        let row = cols + ((c * g.kernelHeight + i) * g.kernelWidth + j) * columns
                        let (lo, hi) = validOutputRange(offset: j - g.padding, stride: g.stride, input: g.width, output: ow)
                        if lo >= hi { continue }
                        for n in 0..<g.batch {
                            let image = dx + (n * g.inChannels + c) * g.height * g.width
                            for y in 0..<oh {
                                let iy = y * g.stride - g.padding + i
                                if iy < 0 || iy >= g.height { continue }
                                let src = row + n * plane + y * ow
                                let dst = image + iy * g.width + j - g.padding
                                if g.stride == 1 {
                                    for xo in lo..<hi { dst[xo] += src[xo] }  // contiguous: vectorises
                                } else {
                                    for xo in lo..<hi { dst[xo * g.stride] += src[xo] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`, assigning: `dx` becomes every patch column lifted back onto its
    /// image (`col2imSamePadding` for stride 1 and same padding, else `col2imAdd` onto zeros).
    /// `cols` is scratch: it may be overwritten.
    public static func col2im(_ cols: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry, into dx: UnsafeMutablePointer<Float>) {
        if g.isSamePadding {
            col2imSamePadding(cols, g, into: dx)
        } else {
            dx.update(repeating: 0, count: g.inputShape.reduce(1, *))
            col2imAdd(cols, g, into: dx)
        }
    }

    /// The adjoint of `im2colSamePadding`, assigning rather than adding: `dx` becomes the sum of
    /// every patch column lifted back onto its image (`col2imAdd` onto zeros, the same terms
    /// added in another order). For stride 1 and "same" padding, so the kernel is odd and its
    /// centre tap covers the whole plane: each image plane is that tap's plane copied, then every
    /// other tap's plane added at its shift `(i − padding)·W + (j − padding)` in one contiguous
    /// run, its elements whose column falls outside the image first set to zero in `cols` (which
    /// is scratch: it is overwritten).
    static func col2imSamePadding(_ cols: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry, into dx: UnsafeMutablePointer<Float>) {
        precondition(g.isSamePadding, "col2imSamePadding: not a same-padding geometry")
        let width = g.width, height = g.height, plane = height * width, columns = g.batch * plane
        let centre = g.padding * g.kernelWidth + g.padding
        // Channel c's patch rows add onto channel c's input planes only: parts own channels.
        Parallel.forEach(g.inChannels, grain: max(1, (1 << 15) / max(1, g.kernelHeight * g.kernelWidth * columns))) { channels in
            for c in channels {
                let rows = cols + c * g.kernelHeight * g.kernelWidth * columns
                for n in 0..<g.batch {
                    let dst = dx + (n * g.inChannels + c) * plane
                    dst.update(from: rows + centre * columns + n * plane, count: plane)
                    for tap in 0..<g.kernelHeight * g.kernelWidth where tap != centre {
                        let dy = tap / g.kernelWidth - g.padding, dx = tap % g.kernelWidth - g.padding
                        let src = rows + tap * columns + n * plane
                        let firstRow = max(0, -dy), endRow = min(height, height - dy)
                        zeroColumnsOutside(src, width: width, rows: firstRow..<endRow, shift: dx)
                        let shift = dy * width + dx
                        let start = max(firstRow * width, -shift), end = min(endRow * width, plane - shift)
                        if start < end {
                            let to = dst + shift
                            for k in start..<end { to[k] += src[k] }  // contiguous: vectorises
                        }
                    }
                }
            }
        }
    }

    /// Images per im2col chunk: the chunk's patch columns and its product each stay near 1 MiB,
    /// so that one core's chunk stays in its L2 cache through the lowering, the product and the
    /// passes over the product (bias, pooling, layout, col2im).
    public static func imagesPerChunk(_ g: Conv2dGeometry) -> Int {
        let perImage = max(1, max(g.patchSize, g.outChannels) * g.outHeight * g.outWidth)
        return max(1, min(g.batch, (1 << 18) / perImage))
    }

    /// Runs a convolution's batch as one pipeline per thread of the job: the batch is cut into
    /// chunks of `chunk` images (`imagesPerChunk`, fewer when that leaves a thread without one),
    /// part `p` gets a contiguous run of chunks, and works through them one after the other,
    /// lowering, product and the passes around it, with no synchronisation between the steps
    /// (its products and loops run on its own thread: it is a `Parallel` part).
    /// `body(part, chunk, chunks)` gets chunk indices; chunk `i` covers images
    /// `i·chunk ..< min((i+1)·chunk, batch)` (`chunkGeometry`). Returns what each part's `body`
    /// returned, in part order.
    public static func forEachChunkPipeline<PartResult>(
        _ g: Conv2dGeometry, _ body: (_ part: Int, _ chunk: Int, _ chunks: Range<Int>) -> PartResult
    ) -> [PartResult] {
        let threads = Parallel.threadsAvailable
        let chunk = max(1, min(imagesPerChunk(g), (g.batch + threads - 1) / threads))
        let chunks = (g.batch + chunk - 1) / chunk, parts = max(1, min(threads, chunks))
        return Parallel.map(parts, parts: parts) { part in body(part, chunk, chunks * part / parts..<chunks * (part + 1) / parts) }
    }

    /// Chunk `index` of `chunk` images: `sub.batch` images from image `start`.
    static func chunkGeometry(_ g: Conv2dGeometry, chunk: Int, index: Int) -> (start: Int, sub: Conv2dGeometry) {
        let start = index * chunk
        var sub = g
        sub.batch = min(chunk, g.batch - start)
        return (start, sub)
    }

    /// Runs the products of a convolution chunk by chunk (`forEachChunkPipeline`): im2col of
    /// `sub.batch` images from image `start`, then `product[O, n·Ho·Wo] = W[O, C·kh·kw] × cols`,
    /// handed to `body` while it is still in cache. Chunks run concurrently: `body` must only
    /// write what belongs to its chunk's images.
    static func forEachProductChunk(
        _ x: Tensor, weight w: Tensor, geometry g: Conv2dGeometry,
        _ body: (_ start: Int, _ sub: Conv2dGeometry, _ product: UnsafePointer<Float>) -> Void
    ) {
        let plane = g.outHeight * g.outWidth
        let inputStride = g.inChannels * g.height * g.width
        x.scalars.withUnsafeBufferPointer { px in
            w.scalars.withUnsafeBufferPointer { pw in
                _ = forEachChunkPipeline(g) { _, chunk, chunks in
                    let cols = ScratchBuffer(g.patchSize * chunk * plane)
                    let product = ScratchBuffer(g.outChannels * chunk * plane)
                    cols.withUnsafeMutableBufferPointer { pc in
                        product.withUnsafeMutableBufferPointer { pp in
                            for index in chunks {
                                let (start, sub) = chunkGeometry(g, chunk: chunk, index: index)
                                let columns = sub.batch * plane
                                im2col(px.baseAddress! + start * inputStride, sub, into: pc.baseAddress!)
                                BLAS.sgemm(
                                    transposeA: false, transposeB: false, m: g.outChannels, n: columns, k: g.patchSize,
                                    a: pw.baseAddress!, lda: g.patchSize, b: pc.baseAddress!, ldb: columns,
                                    c: pp.baseAddress!, ldc: columns)
                                body(start, sub, UnsafePointer(pp.baseAddress!))
                            }
                        }
                    }
                }
            }
        }
    }

    /// 2-D cross-correlation (PyTorch's `conv2d`): im2col over chunks of images, then one
    /// `sgemm` per chunk, `product[O, n·Ho·Wo] = W[O, C·kh·kw] × cols`, scattered into NCHW.
    public static func conv2d(_ x: Tensor, weight w: Tensor, bias b: Tensor?, geometry g: Conv2dGeometry) -> Tensor {
        let plane = g.outHeight * g.outWidth
        var y = Tensor(shape: g.outputShape, scalars: uninitializedFloats(g.outputShape.reduce(1, *)))  // every element is written below
        let biasValues = b?.scalars ?? [Float](repeating: 0, count: g.outChannels)
        y.scalars.withUnsafeMutableBufferPointer { py in
            let output = py.baseAddress!
            forEachProductChunk(x, weight: w, geometry: g) { start, sub, product in
                let columns = sub.batch * plane
                Parallel.forEach(sub.batch, grain: max(1, (1 << 15) / max(1, g.outChannels * plane))) { images in
                    for i in images {
                        for o in 0..<g.outChannels {
                            let src = product + o * columns + i * plane
                            let dst = output + ((start + i) * g.outChannels + o) * plane
                            let shift = biasValues[o]
                            for k in 0..<plane { dst[k] = src[k] + shift }
                        }
                    }
                }
            }
        }
        return y
    }

    /// `conv2d` followed by 2×2 max pooling with stride 2 (`maxPool2d` of the convolution's
    /// output), without writing the full-resolution output: each chunk's product is pooled while
    /// it is in cache. The outputs and `argMax` (indices into the convolution's `[N, O, Ho, Wo]`
    /// output) are bit for bit those of the two kernels in a row: the bias is added before the
    /// comparison, and the first maximum in row-major window order wins. The convolution's
    /// output sides must be even.
    /// Without `indices` (no gradient will be asked), `argMax` is empty and the windows are
    /// reduced by selects alone. With `relu`, the pooled values then go through a ReLU (as
    /// `Variable.relu`, which commutes with the pooling) while they are in cache.
    public static func conv2dMaxPool2x2(
        _ x: Tensor, weight w: Tensor, bias b: Tensor?, geometry g: Conv2dGeometry,
        indices: Bool = true, relu: Bool = false
    ) -> (output: Tensor, argMax: [Int32]) {
        precondition(g.outHeight % 2 == 0 && g.outWidth % 2 == 0, "conv2dMaxPool2x2: output \(g.outHeight)×\(g.outWidth) has an odd side")
        let plane = g.outHeight * g.outWidth, width = g.outWidth, pooledWidth = g.outWidth / 2, pooledHeight = g.outHeight / 2
        let pooledPlane = pooledHeight * pooledWidth
        let count = g.batch * g.outChannels * pooledPlane
        var output = uninitializedFloats(count)
        var arg = [Int32](unsafeUninitializedCapacity: indices ? count : 0) { _, initialized in initialized = indices ? count : 0 }
        let biasValues = b?.scalars ?? [Float](repeating: 0, count: g.outChannels)
        output.withUnsafeMutableBufferPointer { outputBuffer in
            arg.withUnsafeMutableBufferPointer { argBuffer in
                let py = outputBuffer.baseAddress!, pa = indices ? argBuffer.baseAddress : nil
                forEachProductChunk(x, weight: w, geometry: g) { start, sub, product in
                    let columns = sub.batch * plane
                    Parallel.forEach(sub.batch * g.outChannels, grain: max(1, (1 << 15) / max(1, plane))) { planes in
                        for index in planes {
                            let i = index / g.outChannels, o = index % g.outChannels
                            let src = product + o * columns + i * plane
                            let global = ((start + i) * g.outChannels + o) * plane  // the plane's offset in the conv output
                            if let kernels = MicroKernels.active {
                                kernels.maxPool2x2(
                                    plane: src, height: g.outHeight, width: width, shift: biasValues[o], relu: relu,
                                    values: py + global / 4, positions: pa.map { $0 + global / 4 }, topIndex: global)
                                continue
                            }
                            for yo in 0..<pooledHeight {
                                let top = 2 * yo * width, out = global / 4 + yo * pooledWidth
                                poolRow(
                                    top: src + top, width: width, count: pooledWidth, shift: biasValues[o], relu: relu,
                                    values: py + out, positions: pa.map { $0 + out }, topIndex: global + top)
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: [g.batch, g.outChannels, pooledHeight, pooledWidth], scalars: output), arg)
    }

    /// One row of 2×2 windows of a product plane: `count` windows whose top rows start at `top`
    /// (bottom rows `width` further), each reduced to its largest value plus `shift` (the bias,
    /// added before the comparison), the first one in row-major window order on ties, then
    /// through `max(·, 0)` with `relu`. With `positions`, each window's maximum's index, `topIndex`
    /// being the conv-output index of `top[0]`. Four windows at a time in SIMD lanes (the last
    /// group overlaps the one before when `count` is not a multiple of 4, writing the same
    /// values again), with selects in place of branches: the same comparisons in the same order
    /// as one window at a time, so the same bits.
    @inline(__always)
    static func poolRow(
        top: UnsafePointer<Float>, width: Int, count: Int, shift: Float, relu: Bool,
        values: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Int32>?, topIndex: Int
    ) {
        let bottom = top + width
        guard count >= 4 else {
            for xo in 0..<count {
                let a = 2 * xo
                var best = top[a] + shift, position = a
                let v1 = top[a + 1] + shift, v2 = bottom[a] + shift, v3 = bottom[a + 1] + shift
                if v1 > best { best = v1; position = a + 1 }
                if v2 > best { best = v2; position = a + width }
                if v3 > best { best = v3; position = a + width + 1 }
                values[xo] = relu ? max(best, 0) : best
                positions?[xo] = Int32(truncatingIfNeeded: topIndex + position)
            }
            return
        }
        let lanes = SIMD4<Int32>(0, 2, 4, 6), below = Int32(truncatingIfNeeded: width)
        var xo = 0
        while true {
            let a = 2 * xo
            let upper = UnsafeRawPointer(top + a).loadUnaligned(as: SIMD8<Float>.self) + shift
            let lower = UnsafeRawPointer(bottom + a).loadUnaligned(as: SIMD8<Float>.self) + shift
            let v1 = upper.oddHalf, v2 = lower.evenHalf, v3 = lower.oddHalf
            var best = upper.evenHalf
            let m1 = v1 .> best
            best.replace(with: v1, where: m1)
            let m2 = v2 .> best
            best.replace(with: v2, where: m2)
            let m3 = v3 .> best
            best.replace(with: v3, where: m3)
            if relu { best.replace(with: 0, where: best .<= 0) }  // max(best, 0), NaN kept
            UnsafeMutableRawPointer(values + xo).storeBytes(of: best, as: SIMD4<Float>.self)
            if let positions {
                let first = lanes &+ Int32(truncatingIfNeeded: topIndex + a)
                var position = first
                position.replace(with: first &+ 1, where: m1)
                position.replace(with: first &+ below, where: m2)
                position.replace(with: first &+ below &+ 1, where: m3)
                UnsafeMutableRawPointer(positions + xo).storeBytes(of: position, as: SIMD4<Int32>.self)
            }
            if xo + 4 == count { break }
            xo = min(xo + 4, count - 4)
        }
    }

    /// Gradients of `conv2d` from the output gradient `dy` `[N, O, Ho, Wo]`: with respect to
    /// the input (if `needInput`), the weight and the bias (if `needParameters`). Patch
    /// columns are recomputed from `x` chunk by chunk rather than kept from the forward pass.
    public static func conv2dBackward(
        _ dy: Tensor, input x: Tensor, weight w: Tensor, geometry g: Conv2dGeometry,
        needInput: Bool, needParameters: Bool
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let plane = g.outHeight * g.outWidth
        return dy.scalars.withUnsafeBufferPointer { pdy in
            let gradient = pdy.baseAddress!
            // dy of the chunk as [O, n·Ho·Wo], the layout of the forward product.
            return conv2dBackward(input: x, weight: w, geometry: g, needInput: needInput, needParameters: needParameters) { start, sub, product in
                let columns = sub.batch * plane
                Parallel.forEach(sub.batch, grain: max(1, (1 << 15) / max(1, g.outChannels * plane))) { images in
                    for i in images {
                        for o in 0..<g.outChannels {
                            (product + o * columns + i * plane).update(from: gradient + ((start + i) * g.outChannels + o) * plane, count: plane)
                        }
                    }
                }
            }
        }
    }

    /// Gradients of `conv2dMaxPool2x2` from the pooled output gradient `dy` `[N, O, Ho/2, Wo/2]`
    /// and the forward's `argMax`: each chunk's convolution gradient is written straight into the
    /// product layout (every window's maximum gets its gradient, the other three zero), so the
    /// full-resolution gradient is never written in NCHW. Bit for bit the gradients of
    /// `maxPool2dBackward` followed by `conv2dBackward`. With `reluOutput` (the forward's output
    /// when it ran with `relu`), the gradient first goes through the ReLU's backward (zero where
    /// that output is ≤ 0), as `Variable.relu`'s.
    /// For 3×3 kernels over at most 3 channels the weight and bias gradients come from
    /// `conv2dMaxPool2x2ParameterGradients` instead (the same terms summed in another order).
    public static func conv2dMaxPool2x2Backward(
        _ dy: Tensor, argMax: [Int32], input x: Tensor, weight w: Tensor, geometry g: Conv2dGeometry,
        needInput: Bool, needParameters: Bool, reluOutput: Tensor? = nil
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        guard takesDirectParameterGradients(g), needParameters else {
            return conv2dMaxPool2x2BackwardDense(
                dy, argMax: argMax, input: x, weight: w, geometry: g,
                needInput: needInput, needParameters: needParameters, reluOutput: reluOutput)
        }
        let (dw, db) = conv2dMaxPool2x2ParameterGradients(dy, argMax: argMax, input: x, geometry: g, reluOutput: reluOutput)
        let dx =
            needInput
            ? conv2dMaxPool2x2BackwardDense(
                dy, argMax: argMax, input: x, weight: w, geometry: g,
                needInput: true, needParameters: false, reluOutput: reluOutput
            ).input : nil
        return (dx, dw, db)
    }

    /// `conv2dMaxPool2x2Backward` through the dense products of `conv2dBackward`.
    static func conv2dMaxPool2x2BackwardDense(
        _ dy: Tensor, argMax: [Int32], input x: Tensor, weight w: Tensor, geometry g: Conv2dGeometry,
        needInput: Bool, needParameters: Bool, reluOutput: Tensor?
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let plane = g.outHeight * g.outWidth, width = g.outWidth, pooledWidth = g.outWidth / 2, pooledHeight = g.outHeight / 2
        let pooled = reluOutput ?? Tensor(shape: [0])
        return dy.scalars.withUnsafeBufferPointer { pdy in
            pooled.scalars.withUnsafeBufferPointer { pooledValues in
                argMax.withUnsafeBufferPointer { indices in
                    let upstream = pdy.baseAddress!, pa = indices.baseAddress!, py = reluOutput == nil ? nil : pooledValues.baseAddress
                    return conv2dBackward(input: x, weight: w, geometry: g, needInput: needInput, needParameters: needParameters) { start, sub, product in
                        let columns = sub.batch * plane
                        Parallel.forEach(sub.batch * g.outChannels, grain: max(1, (1 << 15) / max(1, plane))) { planes in
                            for index in planes {
                                let i = index / g.outChannels, o = index % g.outChannels
                                let dst = product + o * columns + i * plane
                                let global = ((start + i) * g.outChannels + o) * plane
                                for yo in 0..<pooledHeight {
                                    let top = 2 * yo * width, out = global / 4 + yo * pooledWidth
                                    unpoolRow(
                                        gradients: upstream + out, positions: pa + out, pooled: py.map { $0 + out }, count: pooledWidth,
                                        top: dst + top, width: width, topIndex: global + top)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `poolRow` for one row of `count` 2×2 windows: each window's four gradients,
    /// written at `top` (its top rows; bottom rows `width` further), are `gradients[xo]` at the
    /// maximum (`positions[xo]`, a conv-output index, `topIndex` being that of `top[0]`) and zero
    /// elsewhere; with `pooled` (the ReLU'd forward output), zero where that output is ≤ 0.
    /// Four windows at a time in SIMD lanes, the last group overlapping the one before (the same
    /// values written again).
    @inline(__always)
    static func unpoolRow(
        gradients: UnsafePointer<Float>, positions: UnsafePointer<Int32>, pooled: UnsafePointer<Float>?,
        count: Int, top: UnsafeMutablePointer<Float>, width: Int, topIndex: Int
    ) {
        let bottom = top + width
        guard count >= 4 else {
            for xo in 0..<count {
                let a = 2 * xo
                top[a] = 0; top[a + 1] = 0; bottom[a] = 0; bottom[a + 1] = 0
                let gradient = gradients[xo]
                top[Int(positions[xo]) - topIndex] = pooled.map { $0[xo] <= 0 ? 0 : gradient } ?? gradient
            }
            return
        }
        let lanes = SIMD4<Int32>(0, 2, 4, 6), below = Int32(truncatingIfNeeded: width)
        var xo = 0
        while true {
            let a = 2 * xo
            var gradient = UnsafeRawPointer(gradients + xo).loadUnaligned(as: SIMD4<Float>.self)
            if let pooled { gradient.replace(with: 0, where: UnsafeRawPointer(pooled + xo).loadUnaligned(as: SIMD4<Float>.self) .<= 0) }
            // Each window's maximum relative to its top-left corner: 0, 1, width or width + 1.
            let corner = UnsafeRawPointer(positions + xo).loadUnaligned(as: SIMD4<Int32>.self) &- (lanes &+ Int32(truncatingIfNeeded: topIndex + a))
            let g0 = gradient.replacing(with: 0, where: corner .!= 0), g1 = gradient.replacing(with: 0, where: corner .!= 1)
            let g2 = gradient.replacing(with: 0, where: corner .!= below), g3 = gradient.replacing(with: 0, where: corner .!= below &+ 1)
            UnsafeMutableRawPointer(top + a).storeBytes(of: SIMD8(g0[0], g1[0], g0[1], g1[1], g0[2], g1[2], g0[3], g1[3]), as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(bottom + a).storeBytes(of: SIMD8(g2[0], g3[0], g2[1], g3[1], g2[2], g3[2], g2[3], g3[3]), as: SIMD8<Float>.self)
            if xo + 4 == count { break }
            xo = min(xo + 4, count - 4)
        }
    }

    /// The products of a convolution's backward pass, chunk by chunk (`forEachChunkPipeline`):
    /// `fill` writes the chunk's output gradient in the product layout `[O, n·Ho·Wo]`; the bias
    /// gradient sums it (each plane with `planeSum`, image by image), the weight gradient
    /// multiplies it by the recomputed patch columns (summed transposed with Gauntlet's
    /// kernels), and the input gradient's columns are lifted back with col2im. Each pipeline
    /// adds its chunks' weight and bias gradients into its own sums (in chunk order), and the
    /// pipelines' sums are added in order at the end.
    static func conv2dBackward(
        input x: Tensor, weight w: Tensor, geometry g: Conv2dGeometry, needInput: Bool, needParameters: Bool,
        fill: (_ start: Int, _ sub: Conv2dGeometry, _ product: UnsafeMutablePointer<Float>) -> Void
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let plane = g.outHeight * g.outWidth
        let inputStride = g.inChannels * g.height * g.width
        let weightCount = g.weightShape.reduce(1, *)
        // Written chunk by chunk in the pipelines, by col2im.
        var dx = needInput ? Tensor(shape: g.inputShape, scalars: uninitializedFloats(g.inputShape.reduce(1, *))) : nil
        // Each part's weight and bias gradient sums, [dW | db].
        let partials = x.scalars.withUnsafeBufferPointer { px in
            w.scalars.withUnsafeBufferPointer { pw in
                dx.withUnsafeMutableScalars { pdx in
                    forEachChunkPipeline(g) { _, chunk, chunks -> [Float] in
                        // With Gauntlet's kernels, the weight gradient is summed transposed,
                        // dWᵀ[C·kh·kw, O] += cols × dYᵀ (B not transposed, which they need; dYᵀ is the
                        // smaller operand to transpose), and turned back once at the end.
                        let kernels = needParameters ? MicroKernels.active : nil, transposed = kernels != nil
                        var sums = [Float](repeating: 0, count: needParameters ? weightCount + g.outChannels : 0)
                        let dProduct = ScratchBuffer(g.outChannels * chunk * plane)
                        let cols = ScratchBuffer(g.patchSize * chunk * plane)
                        let dProductT = ScratchBuffer(transposed ? g.outChannels * chunk * plane : 0)
                        sums.withUnsafeMutableBufferPointer { ps in
                            dProduct.withUnsafeMutableBufferPointer { pp in
                                dProductT.withUnsafeMutableBufferPointer { pt in
                                    cols.withUnsafeMutableBufferPointer { pc in
                                        for index in chunks {
                                            let (start, sub) = chunkGeometry(g, chunk: chunk, index: index)
                                            let columns = sub.batch * plane
                                            fill(start, sub, pp.baseAddress!)
                                            if needParameters {
                                                let dw = ps.baseAddress!, db = dw + weightCount
                                                for i in 0..<sub.batch {
                                                    for o in 0..<g.outChannels {
                                                        db[o] += planeSum(pp.baseAddress! + o * columns + i * plane, count: plane)
                                                    }
                                                }
                                                im2col(px.baseAddress! + start * inputStride, sub, into: pc.baseAddress!)
                                                if let kernels {
                                                    kernels.transpose(
                                                        rows: g.outChannels, columns: columns, pp.baseAddress!, lds: columns,
                                                        into: pt.baseAddress!, ldd: g.outChannels)
                                                    kernels.sgemm(
                                                        transposeA: false, m: g.patchSize, n: g.outChannels, k: columns,
                                                        a: pc.baseAddress!, lda: columns, b: pt.baseAddress!, ldb: g.outChannels,
                                                        accumulate: true, c: dw, ldc: g.outChannels)
                                                } else {
                                                    BLAS.sgemm(
                                                        transposeA: false, transposeB: true, m: g.outChannels, n: g.patchSize, k: columns,
                                                        a: pp.baseAddress!, lda: columns, b: pc.baseAddress!, ldb: columns,
                                                        beta: 1, c: dw, ldc: g.patchSize)
                                                }
                                            }
                                            if let pdx {
                                                BLAS.sgemm(
                                                    transposeA: true, transposeB: false, m: g.patchSize, n: columns, k: g.outChannels,
                                                    a: pw.baseAddress!, lda: g.patchSize, b: pp.baseAddress!, ldb: columns,
                                                    c: pc.baseAddress!, ldc: columns)
                                                col2im(pc.baseAddress!, sub, into: pdx + start * inputStride)
                                            }
                                        }
                                        if let kernels {
                                            let dwT = Array(ps[0..<weightCount])
                                            kernels.transpose(
                                                rows: g.patchSize, columns: g.outChannels, dwT, lds: g.outChannels,
                                                into: ps.baseAddress!, ldd: g.patchSize)
                                        }
                                    }
                                }
                            }
                        }
                        return sums
                    }
                }
            }
        }
        guard needParameters else { return (dx, nil, nil) }
        // The parts' sums, added in part order.
        var total = partials[0]
        for part in partials.dropFirst() {
            for k in total.indices { total[k] += part[k] }
        }
        return (
            dx, Tensor(shape: g.weightShape, scalars: Array(total[0..<weightCount])),
            Tensor(shape: [g.outChannels], scalars: Array(total[weightCount...]))
        )
    }

    /// The sum of `count` floats: eight running sums in SIMD lanes (one add chain would wait on
    /// each add's latency), added together at the end, then the tail in order.
    @inline(__always)
    static func planeSum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var k = 0
        while k + 8 <= count {
            lanes += UnsafeRawPointer(values + k).loadUnaligned(as: SIMD8<Float>.self)
            k += 8
        }
        var sum = lanes.sum()
        while k < count {
            sum += values[k]
            k += 1
        }
        return sum
    }

    /// Scratch space for `count` floats whose contents are unspecified, starting at a 64-byte
    /// (cache-line) boundary: the rows of a chunk's patch columns and products are whole lines
    /// long at the layers' shapes, so every row starts a line and Gauntlet's products load no
    /// vector across two lines, and need no extra column tile to avoid that.
    final class ScratchBuffer {
        let pointer: UnsafeMutablePointer<Float>
        let count: Int

        init(_ count: Int) {
            self.count = count
            pointer = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
                .bindMemory(to: Float.self, capacity: max(1, count))
        }

        deinit { pointer.deallocate() }

        func withUnsafeMutableBufferPointer<Result>(_ body: (UnsafeMutableBufferPointer<Float>) -> Result) -> Result {
            body(UnsafeMutableBufferPointer(start: pointer, count: count))
        }
    }

    /// A scratch array whose contents are unspecified (every element is written before it is read).
    static func uninitializedFloats(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}

extension Tensor {
    /// A tensor of `shape` whose elements are unspecified: for outputs a kernel writes in full.
    public static func unfilled(shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: Kernels.uninitializedFloats(shape.reduce(1, *)))
    }
}

extension Optional where Wrapped == Tensor {
    /// Calls `body` with the wrapped tensor's storage, or with `nil` when there is none.
    mutating func withUnsafeMutableScalars<Result>(_ body: (UnsafeMutablePointer<Float>?) -> Result) -> Result {
        guard self != nil else { return body(nil) }
        return self!.scalars.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
