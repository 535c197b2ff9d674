import Foundation

// Every differentiable operation of the engine, each with its derivative rule beside its
// forward pass. Coarse operations (linear+bias, conv2d, pooling, batch norm, softmax
// cross-entropy) are primitives with hand-written derivatives; the gradient checks in
// TensorsTests cover every one of them.

/// How a loss over a batch is reduced.
public enum Reduction: String, Sendable, Codable {
    /// The average over the batch (PyTorch's default).
    case mean
    /// The sum over the batch.
    case sum
    /// One value per sample.
    case none
}

extension Variable {
    // MARK: - Products

    /// `y = x · Wᵀ + b`: x `[N, in]`, weight `[out, in]`, bias `[out]` (PyTorch's `F.linear`).
    /// `transposedWeight`, when given, is the weight's value transposed (`[in, out]`), which
    /// the forward product then reads (`Kernels.linear`). Without `weightGradient`, the backward
    /// pass leaves the weight's gradient to the caller (nil on the tape), which computes it from
    /// this input and the output's gradient (`Kernels.linearWeightGradient`).
    public func linear(weight: Variable, bias: Variable?, transposedWeight: Tensor? = nil, weightGradient: Bool = true) -> Variable {
        let x = value, w = weight.value
        precondition(x.rank == 2 && w.rank == 2 && x.shape[1] == w.shape[1], "linear: input \(x.shape), weight \(w.shape)")
        let y = Kernels.linear(x, weight: w, bias: bias?.value, transposedWeight: transposedWeight)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return tape.record(y, inputs: inputs) { dy, needed in
            let batch = x.shape[0], inFeatures = x.shape[1], outFeatures = w.shape[0]
            var dx: Tensor?
            var dw: Tensor?
            // Products with beta 0 overwrite every element of a non-empty result.
            func result(_ shape: [Int], inner: Int) -> Tensor {
                inner > 0 ? Tensor(shape: shape, scalars: Kernels.uninitializedFloats(shape.reduce(1, *))) : Tensor(shape: shape)
            }
            if needed[0] {
                var g = result(x.shape, inner: outFeatures)
                dy.scalars.withUnsafeBufferPointer { pdy in
                    w.scalars.withUnsafeBufferPointer { pw in
                        g.scalars.withUnsafeMutableBufferPointer { pg in
                            BLAS.sgemm(
                                transposeA: false, transposeB: false, m: batch, n: inFeatures, k: outFeatures,
                                a: pdy.baseAddress!, lda: outFeatures, b: pw.baseAddress!, ldb: inFeatures,
                                c: pg.baseAddress!, ldc: inFeatures)
                        }
                    }
                }
                dx = g
            }
            if needed[1] && weightGradient {
                dw = Kernels.linearWeightGradient(outputGradients: [dy], inputs: [x])
            }
            guard needed.count == 3 else { return [dx, dw] }
            var db = Tensor(shape: [outFeatures])
            if needed[2] {
                for n in 0..<batch { for o in 0..<outFeatures { db.scalars[o] += dy.scalars[n * outFeatures + o] } }
            }
            return [dx, dw, needed[2] ? db : nil]
        }
    }

    /// 2-D cross-correlation: x `[N, C, H, W]`, weight `[O, C, kh, kw]`, bias `[O]`
    /// (PyTorch's `F.conv2d` with equal stride and zero padding on both axes).
    public func conv2d(weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0) -> Variable {
        let x = value, w = weight.value
        let g = convolutionGeometry(w, stride: stride, padding: padding, op: "conv2d")
        let y = Kernels.conv2d(x, weight: w, bias: bias?.value, geometry: g)
        return recordConvolution(y, weight: weight, bias: bias) { dy, needInput, needParameters in
            Kernels.conv2dBackward(dy, input: x, weight: w, geometry: g, needInput: needInput, needParameters: needParameters)
        }
    }

    /// `conv2d(weight:bias:stride:padding:)` then `maxPool2d(kernel: 2)` (then `relu()` with
    /// `relu`) as one op: the same values and gradients, bit for bit, without the convolution's
    /// full-resolution output in memory (`Kernels.conv2dMaxPool2x2`). The convolution's output
    /// sides must be even.
    public func conv2dMaxPool2x2(weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0, relu: Bool = false) -> Variable {
        let x = value, w = weight.value
        let g = convolutionGeometry(w, stride: stride, padding: padding, op: "conv2dMaxPool2x2")
        let needsIndices = ([self, weight] + (bias.map { [$0] } ?? [])).contains { tape.requiresGradient($0) }
        let (y, argMax) = Kernels.conv2dMaxPool2x2(x, weight: w, bias: bias?.value, geometry: g, indices: needsIndices, relu: relu)
        return recordConvolution(y, weight: weight, bias: bias) { dy, needInput, needParameters in
            Kernels.conv2dMaxPool2x2Backward(
                dy, argMax: argMax, input: x, weight: w, geometry: g,
                needInput: needInput, needParameters: needParameters, reluOutput: relu ? y : nil)
        }
    }

    /// The checked geometry of convolving this `[N, C, H, W]` value with `w` `[O, C, kh, kw]`.
    private func convolutionGeometry(_ w: Tensor, stride: Int, padding: Int, op: String) -> Conv2dGeometry {
        let x = value
        precondition(x.rank == 4 && w.rank == 4 && x.shape[1] == w.shape[1], "\(op): input \(x.shape), weight \(w.shape)")
        let g = Conv2dGeometry(
            batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
            outChannels: w.shape[0], kernelHeight: w.shape[2], kernelWidth: w.shape[3],
            stride: stride, padding: padding)
        precondition(g.isValid, "\(op): kernel \(w.shape[2])×\(w.shape[3]) does not fit input \(x.shape) with padding \(padding)")
        return g
    }

    /// Records a convolution's output with its inputs (this value, the weight, the bias if any);
    /// `backward` gets the output gradient and whether the input and the parameters need theirs.
    private func recordConvolution(
        _ y: Tensor, weight: Variable, bias: Variable?,
        backward: @escaping (Tensor, _ needInput: Bool, _ needParameters: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?)
    ) -> Variable {
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return tape.record(y, inputs: inputs) { dy, needed in
            let grads = backward(dy, needed[0], needed[1] || (needed.count == 3 && needed[2]))
            return needed.count == 3 ? [grads.input, grads.weight, grads.bias] : [grads.input, grads.weight]
        }
    }

    // MARK: - Pooling

    /// Max pooling with a square window (PyTorch's `F.max_pool2d`; `stride` defaults to `kernel`).
    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        let x = value
        let g = Self.poolGeometry(x.shape, kernel: kernel, stride: stride ?? kernel, padding: padding)
        let (y, argMax) = Kernels.maxPool2d(x, geometry: g)
        return tape.record(y, inputs: [self]) { dy, _ in  // keeps the indices, not the input
            [Kernels.maxPool2dBackward(dy, argMax: argMax, geometry: g)]
        }
    }

    /// Average pooling with a square window, padding counted in the divisor (PyTorch's default).
    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        let g = Self.poolGeometry(shape, kernel: kernel, stride: stride ?? kernel, padding: padding)
        let y = Kernels.avgPool2d(value, geometry: g)
        return tape.record(y, inputs: [self]) { dy, _ in [Kernels.avgPool2dBackward(dy, geometry: g)] }
    }

    private static func poolGeometry(_ shape: [Int], kernel: Int, stride: Int, padding: Int) -> Conv2dGeometry {
        precondition(shape.count == 4, "pooling needs an NCHW input, got \(shape)")
        let g = Conv2dGeometry(
            batch: shape[0], inChannels: shape[1], height: shape[2], width: shape[3],
            outChannels: shape[1], kernelHeight: kernel, kernelWidth: kernel,
            stride: stride, padding: padding)
        precondition(g.isValid && padding * 2 <= kernel, "pooling: window \(kernel) stride \(stride) padding \(padding) on \(shape)")
        return g
    }

    // MARK: - Element-wise

    /// `max(x, 0)`; the derivative at 0 is taken as 0, as in PyTorch.
    public func relu() -> Variable {
        let x = value
        guard x.count > 0 else { return tape.record(x, inputs: [self]) { dy, _ in [dy] } }
        // One pass each way into fresh buffers, branch-free so that both loops vectorise; a NaN
        // input stays NaN forward and passes its gradient backward, as before.
        let y = Tensor(
            shape: x.shape,
            scalars: x.scalars.withUnsafeBufferPointer { px in
                [Float](unsafeUninitializedCapacity: px.count) { out, initialized in
                    let input = px.baseAddress!, output = out.baseAddress!
                    Parallel.forEach(px.count, grain: 1 << 16) { range in
                        for i in range { output[i] = max(input[i], 0) }
                    }
                    initialized = px.count
                }
            })
        return tape.record(y, inputs: [self]) { dy, _ in
            let dx = x.scalars.withUnsafeBufferPointer { px in
                dy.scalars.withUnsafeBufferPointer { pdy in
                    [Float](unsafeUninitializedCapacity: px.count) { out, initialized in
                        let input = px.baseAddress!, upstream = pdy.baseAddress!, output = out.baseAddress!
                        Parallel.forEach(px.count, grain: 1 << 16) { range in
                            for i in range {
                                let gradient = upstream[i]  // loaded unconditionally, so the select vectorises
                                output[i] = input[i] <= 0 ? 0 : gradient
                            }
                        }
                        initialized = px.count
                    }
                }
            }
            return [Tensor(shape: x.shape, scalars: dx)]
        }
    }

    /// `x ⊙ mask` with a constant mask of the same shape (dropout's masked, rescaled pass).
    public func masked(by mask: Tensor) -> Variable {
        precondition(mask.shape == shape, "mask \(mask.shape) for \(shape)")
        return masked(by: mask, output: Self.product(value, mask))
    }

    /// `masked(by:)` with the product already computed (`RandomSource.dropout` makes the mask and
    /// the product in one pass); the gradient is `dy · mask` as there.
    public func masked(by mask: Tensor, output: Tensor) -> Variable {
        precondition(mask.shape == shape && output.shape == shape, "mask \(mask.shape), output \(output.shape) for \(shape)")
        return tape.record(output, inputs: [self]) { dy, _ in [Self.product(dy, mask)] }
    }

    /// `scale[c] · x + shift[c]` per channel (axis 1) with constant coefficients; input
    /// normalisation `(x − mean) / std` is this with `scale = 1/std`, `shift = −mean/std`.
    public func channelAffine(scale: [Float], shift: [Float]) -> Variable {
        precondition(
            shape.count >= 2 && shape[1] == scale.count && scale.count == shift.count,
            "channelAffine: \(scale.count) coefficients for \(shape)")
        let y = Kernels.channelAffine(value, scale: scale, shift: shift)
        return tape.record(y, inputs: [self]) { dy, _ in
            [Kernels.channelAffine(dy, scale: scale, shift: [Float](repeating: 0, count: scale.count))]
        }
    }

    /// The same values with another shape of equal element count (`flatten` is one use).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let oldShape = shape
        return tape.record(value.reshaped(newShape), inputs: [self]) { dy, _ in [dy.reshaped(oldShape)] }
    }

    /// Element-wise sum of two variables of equal shape.
    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        lhs.tape.record(lhs.value + rhs.value, inputs: [lhs, rhs]) { dy, _ in [dy, dy] }
    }

    /// Element-wise product of two variables of equal shape.
    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        let a = lhs.value, b = rhs.value
        precondition(a.shape == b.shape, "shape mismatch \(a.shape) * \(b.shape)")
        return lhs.tape.record(product(a, b), inputs: [lhs, rhs]) { dy, needed in
            [needed[0] ? product(dy, b) : nil, needed[1] ? product(dy, a) : nil]
        }
    }

    /// Every element multiplied by a constant.
    public func scaled(by factor: Float) -> Variable {
        tape.record(value * factor, inputs: [self]) { dy, _ in [dy * factor] }
    }

    /// The sum of all elements, as a tensor of shape `[1]`.
    public func sum() -> Variable {
        let shape = self.shape
        return tape.record(Tensor(shape: [1], scalars: [Float(value.sum())]), inputs: [self]) { dy, _ in
            [Tensor(shape: shape, repeating: dy.scalars[0])]
        }
    }

    /// The mean of all elements, as a tensor of shape `[1]`.
    public func mean() -> Variable { sum().scaled(by: 1 / Float(value.count)) }

    /// The element-wise product, written straight into new storage (not a copy of `a` then
    /// multiplied in place: one pass over memory fewer).
    private static func product(_ a: Tensor, _ b: Tensor) -> Tensor {
        let count = a.count
        let scalars = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in for i in 0..<count { out[i] = pa[i] * pb[i] } }
            }
            initialized = count
        }
        return Tensor(shape: a.shape, scalars: scalars)
    }

    // MARK: - Normalisation

    /// Batch normalisation of an NCHW input, per channel:
    /// `y = γ (x − μ) / √(σ² + ε) + β` (Ioffe & Szegedy, 2015).
    /// With `statistics == nil` it uses the batch's mean and biased variance (training) and
    /// returns them so the layer can update its running estimates; otherwise it uses the given
    /// fixed statistics (inference), and the gradient treats them as constants.
    public func batchNorm2d(
        gamma: Variable, beta: Variable, epsilon: Float,
        statistics: (mean: [Float], variance: [Float])? = nil
    ) -> (output: Variable, batchMean: [Float], batchVariance: [Float]) {
        let x = value, gammaValues = gamma.value.scalars
        precondition(x.rank == 4 && x.shape[1] == gammaValues.count, "batchNorm2d: \(gammaValues.count) channels for \(x.shape)")
        let moments = statistics ?? Kernels.channelMoments(x)
        let invStd = moments.variance.map { 1 / ($0 + epsilon).squareRoot() }
        let channels = gammaValues.count
        if let statistics, !tape.requiresGradient(gamma), !tape.requiresGradient(beta) {
            // Fixed statistics and constant γ, β (evaluations, attacks): one affine pass,
            // y = x · γ/σ + (β − μ·γ/σ), with the same map backward for x.
            let scale = (0..<channels).map { gammaValues[$0] * invStd[$0] }
            let shift = (0..<channels).map { beta.value.scalars[$0] - statistics.mean[$0] * scale[$0] }
            let y = Kernels.channelAffine(x, scale: scale, shift: shift)
            let output = tape.record(y, inputs: [self]) { dy, _ in
                [Kernels.channelAffine(dy, scale: scale, shift: [Float](repeating: 0, count: channels))]
            }
            return (output, statistics.mean, statistics.variance)
        }
        // x̂ = (x − μ)/σ is saved for the derivative.
        let xHat = Kernels.channelAffine(x, scale: invStd, shift: (0..<channels).map { -moments.mean[$0] * invStd[$0] })
        let y = Kernels.channelAffine(xHat, scale: gammaValues, shift: beta.value.scalars)
        let usesBatch = statistics == nil
        let count = Float(x.count / channels)
        let output = tape.record(y, inputs: [self, gamma, beta]) { dy, needed in
            // Σdy and Σdy·x̂ per channel: for γ and β, and for x with the batch's statistics.
            let sums = needed[1] || needed[2] || (needed[0] && usesBatch) ? Kernels.channelSums(dy, weightedBy: xHat) : (sum: [], weighted: [])
            var dx: Tensor?
            if needed[0] {
                if usesBatch {
                    // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy·x̂))
                    var g = dy
                    let n = x.shape[0], plane = x.shape[2] * x.shape[3]
                    g.scalars.withUnsafeMutableBufferPointer { pg in
                        xHat.scalars.withUnsafeBufferPointer { ph in
                            let (gradient, hat) = (pg.baseAddress!, ph.baseAddress!)
                            // Planes (sample, channel) are independent: split over the job's threads.
                            Parallel.forEach(n * channels, grain: max(1, (1 << 15) / max(1, plane))) { planes in
                                for index in planes {
                                    let c = index % channels, offset = index * plane
                                    let k = gammaValues[c] * invStd[c]
                                    let meanDy = sums.sum[c] / count, meanDyXHat = sums.weighted[c] / count
                                    for i in offset..<(offset + plane) { gradient[i] = k * (gradient[i] - meanDy - hat[i] * meanDyXHat) }
                                }
                            }
                        }
                    }
                    dx = g
                } else {
                    dx = Kernels.channelAffine(
                        dy, scale: (0..<channels).map { gammaValues[$0] * invStd[$0] },
                        shift: [Float](repeating: 0, count: channels))
                }
            }
            return [
                dx,
                needed[1] ? Tensor(shape: [channels], scalars: sums.weighted) : nil,
                needed[2] ? Tensor(shape: [channels], scalars: sums.sum) : nil,
            ]
        }
        return (output, moments.mean, moments.variance)
    }

    // MARK: - Softmax and losses

    /// Row-wise `log softmax` of `[N, K]` logits.
    public func logSoftmax() -> Variable {
        let y = Kernels.logSoftmax(value)
        return tape.record(y, inputs: [self]) { dy, _ in
            // dx = dy − softmax · Σ_k dy_k
            let rows = y.shape[0], classes = y.shape[1]
            var dx = dy
            for r in 0..<rows {
                var total: Float = 0
                for k in 0..<classes { total += dy.scalars[r * classes + k] }
                for k in 0..<classes { dx.scalars[r * classes + k] -= expf(y.scalars[r * classes + k]) * total }
            }
            return [dx]
        }
    }

    /// Row-wise softmax of `[N, K]` logits, each scaled by `scale` first: `softmax(scale·z)`
    /// (attention's `1/√d` folded in). `exp` is `VectorMath.exp` (within 2 ulp, the same bits on
    /// every CPU); evaluations' probabilities use `Kernels.softmax` instead.
    public func softmax(scaledBy scale: Float = 1) -> Variable {
        let rows = shape[0], classes = shape[1]
        var y = Tensor.unfilled(shape: value.shape)
        value.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeMutableBufferPointer { py in
                let (input, output) = (px.baseAddress!, py.baseAddress!)
                // Rows are independent: split over the job's threads (one part alone inside a batch part).
                Parallel.forEach(rows, grain: max(1, (1 << 14) / max(1, classes))) { range in
                    for r in range { Kernels.softmaxRow(input + r * classes, into: output + r * classes, count: classes, scale: scale) }
                }
            }
        }
        return tape.record(y, inputs: [self]) { dy, _ in
            // dx = scale · y ⊙ (dy − Σ_k dy_k y_k)
            var dx = Tensor.unfilled(shape: dy.shape)
            dy.scalars.withUnsafeBufferPointer { pdy in
                y.scalars.withUnsafeBufferPointer { py in
                    dx.scalars.withUnsafeMutableBufferPointer { pdx in
                        for r in 0..<rows {
                            let offset = r * classes
                            Kernels.softmaxRowGradient(
                                pdy.baseAddress! + offset, probabilities: py.baseAddress! + offset, into: pdx.baseAddress! + offset, count: classes,
                                scale: scale)
                        }
                    }
                }
            }
            return [dx]
        }
    }

    /// Cross-entropy of `[N, K]` logits against integer labels, `−log softmax(z)[label]`,
    /// fused so the derivative is `softmax(z) − onehot(label)` (scaled by 1/N for `.mean`).
    /// Returns shape `[1]` for `.mean`/`.sum` and `[N]` for `.none`.
    public func crossEntropy(labels: [Int], reduction: Reduction = .mean) -> Variable {
        let logits = value
        let rows = logits.shape[0], classes = logits.shape[1]
        precondition(labels.count == rows, "crossEntropy: \(labels.count) labels for \(rows) rows")
        precondition(labels.allSatisfy { (0..<classes).contains($0) }, "crossEntropy: label outside 0..<\(classes)")
        let logProbabilities = Kernels.logSoftmax(logits)
        let perSample = (0..<rows).map { -logProbabilities.scalars[$0 * classes + labels[$0]] }
        let output: Tensor
        switch reduction {
        case .none: output = Tensor(shape: [rows], scalars: perSample)
        case .sum: output = Tensor(shape: [1], scalars: [Float(perSample.reduce(0.0) { $0 + Double($1) })])
        case .mean: output = Tensor(shape: [1], scalars: [Float(perSample.reduce(0.0) { $0 + Double($1) } / Double(rows))])
        }
        return tape.record(output, inputs: [self]) { dy, _ in
            var dx = logProbabilities
            for r in 0..<rows {
                let weight: Float =
                    switch reduction {
                    case .none: dy.scalars[r]
                    case .sum: dy.scalars[0]
                    case .mean: dy.scalars[0] / Float(rows)
                    }
                for k in 0..<classes {
                    let i = r * classes + k
                    dx.scalars[i] = (expf(dx.scalars[i]) - (k == labels[r] ? 1 : 0)) * weight
                }
            }
            return [dx]
        }
    }

    /// Mean squared error of `[N, T]` predictions against `[N, T]` targets: per sample
    /// `(1/T) Σ_t (ŷ_t − y_t)²` (PyTorch's `F.mse_loss` when reduced by `.mean`). Targets are
    /// constants. Returns shape `[1]` for `.mean`/`.sum` and `[N]` for `.none`.
    public func meanSquaredError(targets: Tensor, reduction: Reduction = .mean) -> Variable {
        let predictions = value
        precondition(
            predictions.rank == 2 && predictions.shape == targets.shape,
            "meanSquaredError: predictions \(predictions.shape), targets \(targets.shape)")
        let rows = predictions.shape[0], columns = predictions.shape[1]
        var perSample = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            for t in 0..<columns {
                let e = Double(predictions.scalars[r * columns + t] - targets.scalars[r * columns + t])
                perSample[r] += e * e / Double(columns)
            }
        }
        return tape.record(Self.reduce(perSample, reduction), inputs: [self]) { dy, _ in
            var dx = Tensor(shape: predictions.shape)
            for r in 0..<rows {
                let weight = Self.rowWeight(dy, row: r, rows: rows, reduction: reduction) * 2 / Float(columns)
                for t in 0..<columns {
                    let i = r * columns + t
                    dx.scalars[i] = weight * (predictions.scalars[i] - targets.scalars[i])
                }
            }
            return [dx]
        }
    }

    /// Gaussian negative log-likelihood of `[N, 2T]` outputs (means `μ` in columns `0..<T`,
    /// log-variances `s = log σ²` in columns `T..<2T`, the mean–variance network of Nix & Weigend
    /// 1994 and Kendall & Gal 2017) against `[N, T]` targets: per sample
    /// `(1/T) Σ_t ½ (s_t + (y_t − μ_t)² e^(−s_t) + log 2π)`. Returns shape `[1]` for
    /// `.mean`/`.sum` and `[N]` for `.none`.
    public func gaussianNegativeLogLikelihood(targets: Tensor, reduction: Reduction = .mean) -> Variable {
        let outputs = value
        let rows = targets.shape[0], columns = targets.rank == 2 ? targets.shape[1] : 0
        precondition(
            outputs.rank == 2 && targets.rank == 2 && outputs.shape == [rows, 2 * columns],
            "gaussianNegativeLogLikelihood: outputs \(outputs.shape), targets \(targets.shape)")
        let halfLogTwoPi = 0.5 * log(2 * Double.pi)
        var perSample = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            for t in 0..<columns {
                let mean = Double(outputs.scalars[r * 2 * columns + t]), logVariance = Double(outputs.scalars[r * 2 * columns + columns + t])
                let e = Double(targets.scalars[r * columns + t]) - mean
                perSample[r] += (0.5 * (logVariance + e * e * exp(-logVariance)) + halfLogTwoPi) / Double(columns)
            }
        }
        return tape.record(Self.reduce(perSample, reduction), inputs: [self]) { dy, _ in
            // ∂/∂μ = (μ − y) e^(−s) / T, ∂/∂s = ½ (1 − (y − μ)² e^(−s)) / T
            var dx = Tensor(shape: outputs.shape)
            for r in 0..<rows {
                let weight = Self.rowWeight(dy, row: r, rows: rows, reduction: reduction) / Float(columns)
                for t in 0..<columns {
                    let m = r * 2 * columns + t, s = m + columns
                    let e = outputs.scalars[m] - targets.scalars[r * columns + t]
                    let precision = expf(-outputs.scalars[s])
                    dx.scalars[m] = weight * e * precision
                    dx.scalars[s] = weight * 0.5 * (1 - e * e * precision)
                }
            }
            return [dx]
        }
    }

    /// Per-sample losses reduced as `reduction` asks (accumulated in Double).
    private static func reduce(_ perSample: [Double], _ reduction: Reduction) -> Tensor {
        switch reduction {
        case .none: Tensor(shape: [perSample.count], scalars: perSample.map(Float.init))
        case .sum: Tensor(shape: [1], scalars: [Float(perSample.reduce(0, +))])
        case .mean: Tensor(shape: [1], scalars: [Float(perSample.reduce(0, +) / Double(max(1, perSample.count)))])
        }
    }

    /// The incoming gradient of row `row` of a reduced per-sample loss.
    private static func rowWeight(_ dy: Tensor, row: Int, rows: Int, reduction: Reduction) -> Float {
        switch reduction {
        case .none: dy.scalars[row]
        case .sum: dy.scalars[0]
        case .mean: dy.scalars[0] / Float(rows)
        }
    }
}
