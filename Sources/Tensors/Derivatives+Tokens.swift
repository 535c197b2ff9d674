import Foundation

// Shape operations, products and normalisations of token sequences (`[N, T, D]`), for
// attention and transformers: each with its derivative; finite-difference checks in TensorsTests.

extension Variable {
    // MARK: - Shapes

    /// The axes reordered (`torch.permute`): output axis `i` is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Variable {
        let x = value
        precondition(order.sorted() == Array(0..<x.rank), "permuted: order \(order) for \(x.shape)")
        let y = Kernels.permuted(x, order)
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return tape.record(y, inputs: [self]) { dy, _ in [Kernels.permuted(dy, inverse)] }
    }

    /// The variables joined along `axis` (`torch.cat`); every other axis must agree.
    public static func concatenated(_ parts: [Variable], axis: Int) -> Variable {
        precondition(!parts.isEmpty, "concatenated: no parts")
        let values = parts.map(\.value)
        let y = Kernels.concatenated(values, axis: axis)
        let sizes = values.map { $0.shape[axis] }
        return parts[0].tape.record(y, inputs: parts) { dy, needed in
            var start = 0
            return sizes.enumerated().map { index, size in
                defer { start += size }
                return needed[index] ? Kernels.sliced(dy, axis: axis, range: start..<(start + size)) : nil
            }
        }
    }

    /// The elements with index in `range` along `axis` (`x[:, a:b]`).
    public func sliced(axis: Int, range: Range<Int>) -> Variable {
        let x = value
        precondition(axis < x.rank && range.lowerBound >= 0 && range.upperBound <= x.shape[axis], "sliced: \(range) of axis \(axis) of \(x.shape)")
        return tape.record(Kernels.sliced(x, axis: axis, range: range), inputs: [self]) { dy, _ in
            [Kernels.padded(dy, axis: axis, before: range.lowerBound, after: x.shape[axis] - range.upperBound)]
        }
    }

    /// `self` (`[1, …]`, a learned constant) repeated `count` times along the batch axis; the
    /// gradient is the sum over the batch.
    public func repeatedOverBatch(_ count: Int) -> Variable {
        let p = value
        precondition(p.shape.first == 1, "repeatedOverBatch: \(p.shape) is not one sample")
        let y = Tensor(shape: [count] + p.shape.dropFirst(), scalars: Array([[Float]](repeating: p.scalars, count: count).joined()))
        return tape.record(y, inputs: [self]) { dy, _ in [Kernels.sumOverBatch(dy)] }
    }

    // MARK: - Products

    /// Batched matrix product (`torch.matmul` of equal batch shapes): `[B…, M, K] × [B…, K, N]`
    /// → `[B…, M, N]`; with `transposingOther`, `self · otherᵀ` for `other` `[B…, N, K]` (no
    /// transposed copy is made).
    public func matmul(_ other: Variable, transposingOther: Bool = false) -> Variable {
        let a = value, b = other.value
        let r = a.rank
        precondition(
            r >= 2 && r == b.rank && a.shape.dropLast(2) == b.shape.dropLast(2) && a.shape[r - 1] == b.shape[transposingOther ? r - 1 : r - 2],
            "matmul: \(a.shape) × \(b.shape)\(transposingOther ? "ᵀ" : "")")
        let y = Kernels.batchedProduct(a, b, transposeA: false, transposeB: transposingOther)
        return tape.record(y, inputs: [self, other]) { dy, needed in
            [
                needed[0] ? Kernels.batchedProduct(dy, b, transposeA: false, transposeB: !transposingOther) : nil,
                // d(bᵀ) = aᵀ·dy, so db = dyᵀ·a when b entered transposed.
                needed[1]
                    ? (transposingOther
                        ? Kernels.batchedProduct(dy, a, transposeA: true, transposeB: false)
                        : Kernels.batchedProduct(a, dy, transposeA: true, transposeB: false)) : nil,
            ]
        }
    }

    /// Softmax over the last axis (attention weights over keys) of `scale · self`.
    public func softmaxLastAxis(scaledBy scale: Float = 1) -> Variable {
        let shape = self.shape
        let last = shape.last!
        return reshaped([shape.reduce(1, *) / last, last]).softmax(scaledBy: scale).reshaped(shape)
    }

    // MARK: - Normalisation

    /// Layer normalisation over the last axis (`F.layer_norm` with `normalized_shape` the last
    /// dimension): `(x − μ)/√(σ² + eps) · weight + bias`, biased variance, per row.
    public func layerNorm(weight: Variable?, bias: Variable?, epsilon: Float) -> Variable {
        let x = value
        let d = x.shape.last!, rows = x.count / d
        let gamma = weight?.value.scalars ?? [Float](repeating: 1, count: d), beta = bias?.value.scalars ?? [Float](repeating: 0, count: d)
        var xHat = Tensor.unfilled(shape: x.shape), y = Tensor.unfilled(shape: x.shape)
        var inverseStd = [Float](repeating: 0, count: rows)
        x.scalars.withUnsafeBufferPointer { px in
            xHat.scalars.withUnsafeMutableBufferPointer { ph in
                y.scalars.withUnsafeMutableBufferPointer { py in
                    inverseStd.withUnsafeMutableBufferPointer { pi in
                        gamma.withUnsafeBufferPointer { pg in
                            beta.withUnsafeBufferPointer { pb in
                                let (input, hats, outs, inverses) = (px.baseAddress!, ph.baseAddress!, py.baseAddress!, pi.baseAddress!)
                                let (scale, shift) = (pg.baseAddress!, pb.baseAddress!)
                                // Rows are independent: split over the job's threads (one part alone inside a batch part).
                                Parallel.forEach(rows, grain: max(1, (1 << 14) / max(1, d))) { range in
                                    for r in range {
                                        let row = input + r * d, hat = hats + r * d, out = outs + r * d
                                        var mean: Float = 0
                                        for k in 0..<d { mean += row[k] }
                                        mean /= Float(d)
                                        var variance: Float = 0
                                        for k in 0..<d { variance += (row[k] - mean) * (row[k] - mean) }
                                        let inverse = 1 / (variance / Float(d) + epsilon).squareRoot()
                                        inverses[r] = inverse
                                        for k in 0..<d {
                                            hat[k] = (row[k] - mean) * inverse
                                            out[k] = hat[k] * scale[k] + shift[k]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let inputs = [self] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
        let inverse = inverseStd, normalised = xHat
        return tape.record(y, inputs: inputs) { dy, needed in
            var dx = Tensor.unfilled(shape: x.shape), dGamma = Tensor(shape: [d]), dBeta = Tensor(shape: [d])
            dy.scalars.withUnsafeBufferPointer { pdy in
                normalised.scalars.withUnsafeBufferPointer { ph in
                    dx.scalars.withUnsafeMutableBufferPointer { pdx in
                        dGamma.scalars.withUnsafeMutableBufferPointer { pdg in
                            dBeta.scalars.withUnsafeMutableBufferPointer { pdb in
                                gamma.withUnsafeBufferPointer { pgamma in
                                    let dg = pdg.baseAddress!, db = pdb.baseAddress!, scale = pgamma.baseAddress!
                                    for r in 0..<rows {
                                        let g = pdy.baseAddress! + r * d, hat = ph.baseAddress! + r * d, out = pdx.baseAddress! + r * d
                                        var meanG: Float = 0, meanGX: Float = 0
                                        for k in 0..<d {
                                            let scaled = g[k] * scale[k]
                                            meanG += scaled
                                            meanGX += scaled * hat[k]
                                            dg[k] += g[k] * hat[k]
                                            db[k] += g[k]
                                        }
                                        meanG /= Float(d)
                                        meanGX /= Float(d)
                                        let inverseR = inverse[r]
                                        for k in 0..<d { out[k] = inverseR * (g[k] * scale[k] - meanG - hat[k] * meanGX) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            var out: [Tensor?] = [needed[0] ? dx : nil]
            if weight != nil { out.append(dGamma) }
            if bias != nil { out.append(dBeta) }
            return out
        }
    }
}

extension Kernels {
    /// `x` with its axes reordered: output axis `i` is input axis `order[i]`.
    public static func permuted(_ x: Tensor, _ order: [Int]) -> Tensor {
        if order == Array(0..<x.rank) { return x }
        let shape = order.map { x.shape[$0] }
        var inputStrides = [Int](repeating: 1, count: x.rank)
        for axis in stride(from: x.rank - 2, through: 0, by: -1) { inputStrides[axis] = inputStrides[axis + 1] * x.shape[axis + 1] }
        let strides = order.map { inputStrides[$0] }
        let count = shape.reduce(1, *)
        // The output's last axis is the inner loop (a strided read); an odometer walks the others.
        let inner = shape.last!, innerStride = strides.last!, outer = shape.count - 1
        var index = [Int](repeating: 0, count: outer)
        let scalars = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            x.scalars.withUnsafeBufferPointer { px in
                var source = 0, target = 0
                while target < count {
                    for k in 0..<inner { out[target + k] = px[source + k * innerStride] }
                    target += inner
                    var axis = outer - 1
                    while axis >= 0 {
                        index[axis] += 1
                        source += strides[axis]
                        if index[axis] < shape[axis] { break }
                        source -= strides[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// The tensors joined along `axis`.
    public static func concatenated(_ parts: [Tensor], axis: Int) -> Tensor {
        let first = parts[0].shape
        precondition(
            parts.allSatisfy { $0.rank == first.count && $0.shape.enumerated().allSatisfy { $0.offset == axis || $0.element == first[$0.offset] } },
            "concatenated: shapes \(parts.map(\.shape)) along axis \(axis)")
        let outer = first[..<axis].reduce(1, *), inner = first[(axis + 1)...].reduce(1, *)
        var shape = first
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        var scalars: [Float] = []
        scalars.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[axis] * inner
                scalars += part.scalars[(o * block)..<((o + 1) * block)]
            }
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// The elements with index in `range` along `axis`.
    public static func sliced(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor {
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *), size = x.shape[axis]
        var shape = x.shape
        shape[axis] = range.count
        var scalars: [Float] = []
        scalars.reserveCapacity(outer * range.count * inner)
        for o in 0..<outer { scalars += x.scalars[((o * size + range.lowerBound) * inner)..<((o * size + range.upperBound) * inner)] }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// `x` with `before` and `after` zero slices added along `axis` (the adjoint of `sliced`).
    public static func padded(_ x: Tensor, axis: Int, before: Int, after: Int) -> Tensor {
        var parts: [Tensor] = []
        func zeros(_ count: Int) -> Tensor {
            var shape = x.shape
            shape[axis] = count
            return Tensor(shape: shape)
        }
        if before > 0 { parts.append(zeros(before)) }
        parts.append(x)
        if after > 0 { parts.append(zeros(after)) }
        return parts.count == 1 ? x : concatenated(parts, axis: axis)
    }

    /// The sum over the batch axis, keeping it with size 1.
    public static func sumOverBatch(_ x: Tensor) -> Tensor {
        let size = x.count / max(1, x.shape[0])
        var y = Tensor(shape: [1] + x.shape.dropFirst())
        for n in 0..<x.shape[0] { for i in 0..<size { y.scalars[i] += x.scalars[n * size + i] } }
        return y
    }

    /// `op(a) · op(b)` for each matrix of a batch: `a` `[B…, ·, ·]`, `b` `[B…, ·, ·]`, where
    /// `op` transposes the last two axes when asked.
    public static func batchedProduct(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        let r = a.rank
        let (aRows, aColumns) = (a.shape[r - 2], a.shape[r - 1]), (bRows, bColumns) = (b.shape[r - 2], b.shape[r - 1])
        let m = transposeA ? aColumns : aRows, k = transposeA ? aRows : aColumns, n = transposeB ? bRows : bColumns
        let batch = a.shape.dropLast(2).reduce(1, *)
        var y = Tensor(shape: Array(a.shape.dropLast(2)) + [m, n])
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                y.scalars.withUnsafeMutableBufferPointer { py in
                    for i in 0..<batch {
                        BLAS.sgemm(
                            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                            a: pa.baseAddress! + i * aRows * aColumns, lda: aColumns,
                            b: pb.baseAddress! + i * bRows * bColumns, ldb: bColumns,
                            c: py.baseAddress! + i * m * n, ldc: n)
                    }
                }
            }
        }
        return y
    }
}

extension Variable {
    /// The entries at `indices` along `axis`, in that order (`torch.index_select`; an index may
    /// repeat, and its gradients add up).
    public func gathered(axis: Int, indices: [Int]) -> Variable {
        precondition(!indices.isEmpty && indices.allSatisfy { (0..<shape[axis]).contains($0) }, "gathered: \(indices) of axis \(axis) of \(shape)")
        return Variable.concatenated(indices.map { sliced(axis: axis, range: $0..<($0 + 1)) }, axis: axis)
    }

    /// `x · weight[c] + bias[c]` per channel (axis 1) with learned coefficients (a normalisation's
    /// affine step): x `[N, C, …]`, weight and bias `[C]`.
    public func channelScaleShift(weight: Variable, bias: Variable) -> Variable {
        let x = value, w = weight.value, b = bias.value
        let channels = x.shape[1]
        precondition(w.shape == [channels] && b.shape == [channels], "channelScaleShift: \(w.shape), \(b.shape) for \(x.shape)")
        let y = Kernels.channelAffine(x, scale: w.scalars, shift: b.scalars)
        return tape.record(y, inputs: [self, weight, bias]) { dy, needed in
            let sums = needed[1] || needed[2] ? Kernels.channelSums(dy, weightedBy: x) : (sum: [], weighted: [])
            let dx = needed[0] ? Kernels.channelAffine(dy, scale: w.scalars, shift: [Float](repeating: 0, count: channels)) : nil
            return [dx, needed[1] ? Tensor(shape: [channels], scalars: sums.weighted) : nil, needed[2] ? Tensor(shape: [channels], scalars: sums.sum) : nil]
        }
    }
}
