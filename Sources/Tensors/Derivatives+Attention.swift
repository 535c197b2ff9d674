extension Variable {
    /// Scaled dot-product self-attention over packed projections, head by head, with no
    /// permuted copies: `self` is `[N, T, 3D]`, each token's queries, keys and values side by
    /// side (PyTorch's `in_proj` output order), each of the three `heads` blocks of `D / heads`
    /// features. Per sample and head, with Q, K, V that head's `T × D/heads` matrices read in
    /// place: `weights = softmax(scale · Q·Kᵀ)` over the keys, times `dropoutMask` (`[N, heads,
    /// T, T]`, already scaled by 1/(1 − p)) when one is given, and `output = weights · V`,
    /// written at the head's columns of the result `[N, T, D]` (heads concatenated, as PyTorch
    /// joins them before `out_proj`). The gradient with respect to `self` has the same layout.
    public func selfAttention(heads: Int, scale: Float, dropoutMask: Tensor? = nil) -> Variable {
        precondition(shape.count == 3 && heads > 0 && shape[2] % (3 * heads) == 0, "selfAttention: \(shape) is not [N, T, 3·heads·width]")
        let (n, t, packed) = (shape[0], shape[1], shape[2])
        let d = packed / 3, width = d / heads, plane = t * t
        precondition(dropoutMask.map { $0.shape == [n, heads, t, t] } ?? true, "selfAttention: mask \(dropoutMask?.shape ?? []) for \(shape)")
        let qkv = value
        // Samples are independent: they are split over the job's threads (one part alone inside
        // a batch part), each part with its own scratch; the results do not depend on the split.
        let grain = max(1, (1 << 16) / max(1, heads * plane * width))
        // The softmax weights, and those times the mask (the same tensor without a mask).
        var probabilities = Tensor.unfilled(shape: [n, heads, t, t])
        var weights = dropoutMask == nil ? Tensor(shape: [0]) : Tensor.unfilled(shape: [n, heads, t, t])
        var output = Tensor.unfilled(shape: [n, t, d])
        let maskScalars = dropoutMask?.scalars ?? []
        maskScalars.withUnsafeBufferPointer { pm in
            qkv.scalars.withUnsafeBufferPointer { px in
                probabilities.scalars.withUnsafeMutableBufferPointer { pp in
                    weights.scalars.withUnsafeMutableBufferPointer { pw in
                        output.scalars.withUnsafeMutableBufferPointer { po in
                            let (x, probability, weight, out) = (px.baseAddress!, pp.baseAddress!, pw.baseAddress, po.baseAddress!)
                            let mask = dropoutMask == nil ? nil : pm.baseAddress
                            Parallel.forEach(n, grain: grain) { samples in
                                // Kᵀ of one head, copied (`width × T`) so that every product takes B as
                                // stored (Gauntlet's kernels, not a library call per small product).
                                let keysT = UnsafeMutablePointer<Float>.allocate(capacity: width * t)
                                defer { keysT.deallocate() }
                                for sample in samples {
                                    for head in 0..<heads {
                                        let q = x + sample * t * packed + head * width, offset = (sample * heads + head) * plane
                                        let p = probability + offset
                                        Kernels.transpose(rows: t, columns: width, q + d, lds: packed, into: keysT, ldd: t)
                                        BLAS.sgemm(
                                            transposeA: false, transposeB: false, m: t, n: t, k: width, a: q, lda: packed, b: keysT, ldb: t, c: p, ldc: t)
                                        for row in 0..<t { Kernels.softmaxRow(p + row * t, into: p + row * t, count: t, scale: scale) }
                                        var a = UnsafePointer(p)
                                        if let mask, let weight {
                                            for i in 0..<plane { weight[offset + i] = p[i] * mask[offset + i] }
                                            a = UnsafePointer(weight + offset)
                                        }
                                        BLAS.sgemm(
                                            transposeA: false, transposeB: false, m: t, n: width, k: t, a: a, lda: t, b: q + 2 * d, ldb: packed,
                                            c: out + sample * t * d + head * width, ldc: d)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let applied = dropoutMask == nil ? probabilities : weights
        return tape.record(output, inputs: [self]) { dy, _ in
            var dqkv = Tensor.unfilled(shape: qkv.shape)
            maskScalars.withUnsafeBufferPointer { pm in
                dy.scalars.withUnsafeBufferPointer { pdy in
                    qkv.scalars.withUnsafeBufferPointer { px in
                        applied.scalars.withUnsafeBufferPointer { pw in
                            probabilities.scalars.withUnsafeBufferPointer { pp in
                                dqkv.scalars.withUnsafeMutableBufferPointer { pdx in
                                    let (dyBase, xBase, wBase, pBase, dxBase) = (
                                        pdy.baseAddress!, px.baseAddress!, pw.baseAddress!, pp.baseAddress!, pdx.baseAddress!
                                    )
                                    let mask = dropoutMask == nil ? nil : pm.baseAddress
                                    Parallel.forEach(n, grain: grain) { samples in
                                        let g = UnsafeMutablePointer<Float>.allocate(capacity: plane)
                                        let valuesT = UnsafeMutablePointer<Float>.allocate(capacity: width * t)
                                        defer {
                                            g.deallocate()
                                            valuesT.deallocate()
                                        }
                                        for sample in samples {
                                            for head in 0..<heads {
                                                let x = xBase + sample * t * packed + head * width
                                                let dx = dxBase + sample * t * packed + head * width
                                                let dOut = dyBase + sample * t * d + head * width
                                                let offset = (sample * heads + head) * plane
                                                // dV = weightsᵀ · dOut; d(weights) = dOut · Vᵀ
                                                BLAS.sgemm(
                                                    transposeA: true, transposeB: false, m: t, n: width, k: t, a: wBase + offset, lda: t,
                                                    b: dOut, ldb: d, c: dx + 2 * d, ldc: packed)
                                                Kernels.transpose(rows: t, columns: width, x + 2 * d, lds: packed, into: valuesT, ldd: t)
                                                BLAS.sgemm(
                                                    transposeA: false, transposeB: false, m: t, n: t, k: width, a: dOut, lda: d, b: valuesT, ldb: t,
                                                    c: g, ldc: t)
                                                if let mask { for i in 0..<plane { g[i] *= mask[offset + i] } }
                                                // d(scores), row by row
                                                for row in 0..<t {
                                                    let gr = g + row * t
                                                    Kernels.softmaxRowGradient(gr, probabilities: pBase + offset + row * t, into: gr, count: t, scale: scale)
                                                }
                                                // dQ = dS · K; dK = dSᵀ · Q
                                                BLAS.sgemm(
                                                    transposeA: false, transposeB: false, m: t, n: width, k: t, a: g, lda: t, b: x + d, ldb: packed,
                                                    c: dx, ldc: packed)
                                                BLAS.sgemm(
                                                    transposeA: true, transposeB: false, m: t, n: width, k: t, a: g, lda: t, b: x, ldb: packed,
                                                    c: dx + d, ldc: packed)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return [dqkv]
        }
    }
}

extension Kernels {
    /// `dst[j·ldd + i] = src[i·lds + j]` for `i < rows`, `j < columns` (exact: values are
    /// only moved), by Gauntlet's kernels when a family is active.
    static func transpose(
        rows: Int, columns: Int, _ src: UnsafePointer<Float>, lds: Int, into dst: UnsafeMutablePointer<Float>, ldd: Int
    ) {
        if let kernels = MicroKernels.active {
            kernels.transpose(rows: rows, columns: columns, src, lds: lds, into: dst, ldd: ldd)
            return
        }
        for i in 0..<rows { for j in 0..<columns { dst[j * ldd + i] = src[i * lds + j] } }
    }
}
