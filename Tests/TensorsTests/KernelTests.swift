import Foundation
import Testing
@testable import Tensors

/// Fast kernels against their naive reference twins, on odd shapes, strides and paddings.
@Suite struct KernelTests {
    static let geometries: [Conv2dGeometry] = [
        Conv2dGeometry(batch: 2, inChannels: 3, height: 7, width: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3),
        Conv2dGeometry(
            batch: 3, inChannels: 2, height: 8, width: 9, outChannels: 5, kernelHeight: 3, kernelWidth: 2,
            stride: 2, padding: 1),
        Conv2dGeometry(
            batch: 1, inChannels: 1, height: 5, width: 5, outChannels: 2, kernelHeight: 5, kernelWidth: 5,
            stride: 1, padding: 2),
        // Large enough that the loops around the products split over the job's threads.
        Conv2dGeometry(
            batch: 16, inChannels: 8, height: 16, width: 16, outChannels: 8, kernelHeight: 3, kernelWidth: 3,
            stride: 1, padding: 1),
        Conv2dGeometry(
            batch: 12, inChannels: 6, height: 15, width: 15, outChannels: 5, kernelHeight: 3, kernelWidth: 3,
            stride: 2, padding: 1),
    ]

    @Test func parallelPartsCoverEveryIndexOnce() {
        for (count, grain, parts) in [(0, 1, 2), (1, 1, 2), (7, 1, 3), (100, 30, 8), (100, 60, 2), (1 << 16, 1 << 10, 2)] {
            let seen = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, count))
            seen.initialize(repeating: 0)
            defer { seen.deallocate() }
            let base = seen.baseAddress!
            Parallel.forEach(count, grain: grain, parts: parts) { range in
                for i in range { base[i] += 1 }
            }
            #expect(seen.prefix(count).allSatisfy { $0 == 1 }, "count \(count), grain \(grain), parts \(parts)")
        }
    }

    @Test func parallelMapKeepsIndexOrder() {
        for (count, parts) in [(0, nil), (1, nil), (7, 3), (1000, nil), (1000, 8)] as [(Int, Int?)] {
            #expect(Parallel.map(count, parts: parts) { $0 * $0 } == (0..<count).map { $0 * $0 }, "count \(count)")
        }
    }

    @Test func largeActivationsAndPoolingMatchTheirSerialDefinitions() {
        var rng = RandomSource(seed: 12)
        let x = Tensor.normal(shape: [16, 8, 16, 16], using: &rng), dy = Tensor.normal(shape: [16, 8, 16, 16], using: &rng)
        let tape = Tape()
        let input = tape.leaf(x, requiresGradient: true)
        let y = input.relu()
        tape.backward(from: y, seed: dy)
        #expect(y.value.scalars == x.scalars.map { max($0, 0) })
        #expect(tape.gradient(of: input)!.scalars == zip(x.scalars, dy.scalars).map { $0 <= 0 ? 0 : $1 })

        let g = Conv2dGeometry(batch: 16, inChannels: 8, height: 16, width: 16, outChannels: 8, kernelHeight: 2, kernelWidth: 2, stride: 2, padding: 0)
        let (pooled, argMax) = Kernels.maxPool2d(x, geometry: g)
        #expect(pooled == ReferenceKernels.maxPool2d(x, geometry: g))
        let upstream = Tensor.normal(shape: pooled.shape, using: &rng)
        var serial = [Float](repeating: 0, count: x.count)
        for k in 0..<upstream.count { serial[Int(argMax[k])] += upstream.scalars[k] }
        #expect(Kernels.maxPool2dBackward(upstream, argMax: argMax, inputShape: x.shape).scalars == serial)
        #expect(Kernels.maxPool2dBackward(upstream, argMax: argMax, geometry: g).scalars == serial)
        // Odd sides leave a row and a column outside every window: the general path zeroes them.
        let odd = Conv2dGeometry(batch: 2, inChannels: 3, height: 7, width: 5, outChannels: 3, kernelHeight: 2, kernelWidth: 2, stride: 2, padding: 0)
        let small = Tensor.normal(shape: odd.inputShape, using: &rng)
        let (oddPooled, oddArg) = Kernels.maxPool2d(small, geometry: odd)
        let oddUpstream = Tensor.normal(shape: oddPooled.shape, using: &rng)
        #expect(
            Kernels.maxPool2dBackward(oddUpstream, argMax: oddArg, geometry: odd)
                == Kernels.maxPool2dBackward(oddUpstream, argMax: oddArg, inputShape: small.shape))
    }

    @Test func linearMatchesReference() {
        var rng = RandomSource(seed: 1)
        let x = Tensor.normal(shape: [5, 7], using: &rng)
        let w = Tensor.normal(shape: [3, 7], using: &rng)
        let b = Tensor.normal(shape: [3], using: &rng)
        #expect(Kernels.linear(x, weight: w, bias: b).maxAbsDifference(ReferenceKernels.linear(x, weight: w, bias: b)) < 1e-5)
        #expect(Kernels.linear(x, weight: w, bias: nil).maxAbsDifference(ReferenceKernels.linear(x, weight: w, bias: nil)) < 1e-5)
        // Given the weight transposed too, the product reads that instead.
        let transposed = Kernels.transposed(w)
        #expect(transposed.shape == [7, 3])
        for o in 0..<3 {
            for i in 0..<7 { #expect(transposed.scalars[i * 3 + o] == w.scalars[o * 7 + i]) }
        }
        for bias in [b, nil] {
            #expect(
                Kernels.linear(x, weight: w, bias: bias, transposedWeight: transposed)
                    .maxAbsDifference(ReferenceKernels.linear(x, weight: w, bias: bias)) < 1e-5)
        }
        // Larger than a tile, with a weight whose transpose is then read wrongly if mislaid.
        let wide = Tensor.normal(shape: [67, 300], using: &rng), batch = Tensor.normal(shape: [33, 300], using: &rng)
        #expect(
            Kernels.linear(batch, weight: wide, bias: nil, transposedWeight: Kernels.transposed(wide))
                .maxAbsDifference(ReferenceKernels.linear(batch, weight: wide, bias: nil)) < 1e-4)
    }

    /// A split batch's linear weight gradient, `Σₚ dYₚᵀ·Xₚ`, against the sum written out in
    /// Double, with an empty part, a part without a gradient, and more output rows than one
    /// thread's block; where the AVX-512 kernels run, the bits of one product over the batch.
    @Test func linearWeightGradientSumsTheParts() throws {
        var rng = RandomSource(seed: 3)
        let outFeatures = 37, inFeatures = 29
        let sizes = [5, 0, 9, 4, 6]
        let inputs = sizes.map { Tensor.normal(shape: [$0, inFeatures], using: &rng) }
        var gradients: [Tensor?] = sizes.map { Tensor.normal(shape: [$0, outFeatures], using: &rng) }
        gradients[3] = nil
        let result = try #require(Kernels.linearWeightGradient(outputGradients: gradients, inputs: inputs))
        #expect(result.shape == [outFeatures, inFeatures])
        var expected = Tensor(shape: [outFeatures, inFeatures])
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                var sum = 0.0
                for (gradient, input) in zip(gradients, inputs) {
                    guard let gradient else { continue }
                    for n in 0..<input.shape[0] { sum += Double(gradient[n, o]) * Double(input[n, i]) }
                }
                expected[o, i] = Float(sum)
            }
        }
        #expect(result.maxAbsDifference(expected) <= 1e-5 * expected.scalars.map(abs).max()!)
        if MicroKernels.isEnabled {
            let used = [0, 2, 4]
            let dy = Tensor(concatenating: used.map { gradients[$0]! }), x = Tensor(concatenating: used.map { inputs[$0] })
            var whole = Tensor(shape: [outFeatures, inFeatures])
            dy.scalars.withUnsafeBufferPointer { pdy in
                x.scalars.withUnsafeBufferPointer { px in
                    whole.scalars.withUnsafeMutableBufferPointer { pw in
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: dy.shape[0],
                            a: pdy.baseAddress!, lda: outFeatures, b: px.baseAddress!, ldb: inFeatures, c: pw.baseAddress!, ldc: inFeatures)
                    }
                }
            }
            #expect(result.scalars.elementsEqual(whole.scalars) { $0.bitPattern == $1.bitPattern })
        }
        // Parts without samples or gradients add nothing: zeros, or nil when no part has a gradient.
        let empty = Kernels.linearWeightGradient(outputGradients: [Tensor(shape: [0, 3])], inputs: [Tensor(shape: [0, 2])])
        #expect(empty == Tensor(shape: [3, 2]))
        #expect(Kernels.linearWeightGradient(outputGradients: [nil, nil], inputs: inputs.prefix(2).map { $0 }) == nil)
    }

    /// Several layers' weight gradients in one job: each block of rows handed once, already
    /// summed, to its layer's `eachBlock`; the results those of `linearWeightGradient` one by one.
    @Test func linearWeightGradientsHandEachSummedBlockOverOnce() throws {
        var rng = RandomSource(seed: 4)
        let shapes = [(out: 37, in: 29), (out: 6, in: 11), (out: 5, in: 3)]  // 37 rows: three blocks, the last partial
        let sizes = [7, 0, 9]
        let inputs = shapes.map { shape in sizes.map { Tensor.normal(shape: [$0, shape.in], using: &rng) } }
        var gradients = shapes.map { shape in sizes.map { Optional(Tensor.normal(shape: [$0, shape.out], using: &rng)) } }
        gradients[1] = [nil, nil, nil]
        // What each block's body saw: how often each element was handed over, and its value then.
        let seen = shapes.map { UnsafeMutablePointer<Float>.allocate(capacity: $0.out * $0.in) }
        let handed = shapes.map { shape in UnsafeMutablePointer<Int>.allocate(capacity: shape.out * shape.in) }
        defer { seen.forEach { $0.deallocate() }; handed.forEach { $0.deallocate() } }
        for (count, shape) in zip(handed, shapes) { count.initialize(repeating: 0, count: shape.out * shape.in) }
        let lock = NSLock()
        let requests = shapes.indices.map { layer in
            Kernels.LinearWeightGradient(outputGradients: gradients[layer], inputs: inputs[layer]) { gradient, elements in
                lock.lock()
                defer { lock.unlock() }
                for i in elements {
                    seen[layer][i] = gradient[i]
                    handed[layer][i] += 1
                }
            }
        }
        let results = Kernels.linearWeightGradients(requests)
        #expect(results[1] == nil)
        for layer in [0, 2] {
            let result = try #require(results[layer]),
                alone = try #require(Kernels.linearWeightGradient(outputGradients: gradients[layer], inputs: inputs[layer]))
            let count = shapes[layer].out * shapes[layer].in
            #expect(result.shape == [shapes[layer].out, shapes[layer].in])
            #expect(result.scalars.map(\.bitPattern) == alone.scalars.map(\.bitPattern))
            #expect((0..<count).allSatisfy { handed[layer][$0] == 1 }, "layer \(layer): every element handed over once")
            #expect((0..<count).allSatisfy { seen[layer][$0].bitPattern == result.scalars[$0].bitPattern }, "layer \(layer): handed over summed")
            #expect(result.scalars.contains { $0 != 0 })
        }
    }

    @Test(arguments: geometries) func conv2dMatchesReference(g: Conv2dGeometry) {
        var rng = RandomSource(seed: 2)
        let x = Tensor.normal(shape: g.inputShape, using: &rng)
        let w = Tensor.normal(shape: g.weightShape, using: &rng)
        let b = Tensor.normal(shape: [g.outChannels], using: &rng)
        let fast = Kernels.conv2d(x, weight: w, bias: b, geometry: g)
        #expect(fast.shape == g.outputShape)
        #expect(fast.maxAbsDifference(ReferenceKernels.conv2d(x, weight: w, bias: b, geometry: g)) < 1e-4)
    }

    /// The input gradient is the convolution's adjoint: <conv(x), dy> = <x, dX> for any x (no
    /// bias), checked against the reference convolution over batches of several chunks.
    @Test(arguments: geometries + pooledGeometries.filter { $0.batch < 100 }) func convolutionInputGradientIsTheAdjoint(g: Conv2dGeometry) {
        var rng = RandomSource(seed: 4)
        let w = Tensor.normal(shape: g.weightShape, using: &rng), dy = Tensor.normal(shape: g.outputShape, using: &rng)
        let x = Tensor.normal(shape: g.inputShape, using: &rng)
        let left = zip(ReferenceKernels.conv2d(x, weight: w, bias: nil, geometry: g).scalars, dy.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        // Twice, so that the second gradient's storage may be what the first left behind.
        for _ in 0..<2 {
            let dx = Kernels.conv2dBackward(dy, input: x, weight: w, geometry: g, needInput: true, needParameters: false).input!
            let right = zip(x.scalars, dx.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(left - right) < 1e-4 * max(1, abs(left)), "\(left) against \(right)")
        }
    }

    /// Weight and bias gradients against their sums written out in Double, over the test
    /// geometries and one whose pipelines each add up several chunks.
    @Test(
        arguments: geometries + [
            Conv2dGeometry(
                batch: 20, inChannels: 32, height: 10, width: 10, outChannels: 8,
                kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        ])
    func convolutionParameterGradientsAreTheirSums(g: Conv2dGeometry) {
        var rng = RandomSource(seed: 6)
        let w = Tensor.normal(shape: g.weightShape, using: &rng), dy = Tensor.normal(shape: g.outputShape, using: &rng)
        let x = Tensor.normal(shape: g.inputShape, using: &rng)
        let gradients = Kernels.conv2dBackward(dy, input: x, weight: w, geometry: g, needInput: false, needParameters: true)
        let (oh, ow) = (g.outHeight, g.outWidth)
        var dw = [Double](repeating: 0, count: w.count), db = [Double](repeating: 0, count: g.outChannels)
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        let d = Double(dy.scalars[((n * g.outChannels + o) * oh + y) * ow + xo])
                        db[o] += d
                        for c in 0..<g.inChannels {
                            for i in 0..<g.kernelHeight {
                                for j in 0..<g.kernelWidth {
                                    let iy = y * g.stride - g.padding + i, ix = xo * g.stride - g.padding + j
                                    guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                    dw[((o * g.inChannels + c) * g.kernelHeight + i) * g.kernelWidth + j] +=
                                        d * Double(x.scalars[((n * g.inChannels + c) * g.height + iy) * g.width + ix])
                                }
                            }
                        }
                    }
                }
            }
        }
        let scale = dw.map(abs).max()!
        #expect(zip(gradients.weight!.scalars, dw).allSatisfy { abs(Double($0) - $1) <= 1e-5 * scale })
        #expect(zip(gradients.bias!.scalars, db).allSatisfy { abs(Double($0) - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(gradients.input == nil)
    }

    /// Adam's update, over lengths around the vector width and with and without weight decay,
    /// bit for bit the rule written out one element at a time.
    @Test func adamUpdateIsItsRuleElementByElement() {
        var rng = RandomSource(seed: 13)
        for count in [1, 15, 16, 17, 100] {
            for decay: Float in [0, 0.01] {
                let theta0 = (0..<count).map { _ in rng.nextUnitFloat() - 0.5 }, g = (0..<count).map { _ in rng.nextUnitFloat() - 0.5 }
                let m0 = (0..<count).map { _ in rng.nextUnitFloat() * 0.1 }, v0 = (0..<count).map { _ in rng.nextUnitFloat() * 0.01 }
                var theta = theta0, m = m0, v = v0
                let (b1, b2, eps, step, root): (Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 1e-3 / 0.19, 0.0447)
                Kernels.adamUpdate(
                    count: count, theta: &theta, gradient: g, m: &m, v: &v, beta1: b1, beta2: b2, eps: eps,
                    decay: decay, stepSize: step, rootCorrection2: root)
                for i in 0..<count {
                    let gi = decay == 0 ? g[i] : g[i] + decay * theta0[i]
                    let mi = b1 * m0[i] + (1 - b1) * gi, vi = b2 * v0[i] + (1 - b2) * gi * gi
                    let ti = theta0[i] - step * mi / (vi.squareRoot() / root + eps)
                    #expect(
                        m[i].bitPattern == mi.bitPattern && v[i].bitPattern == vi.bitPattern && theta[i].bitPattern == ti.bitPattern,
                        "count \(count) decay \(decay) element \(i)")
                }
            }
        }
    }

    @Test func samePaddingPatchesAreBitForBitTheRowByRowOnes() {
        // Stride 1 with the output as large as the input: kernels 1, 3, 5 and a wide one, odd sides.
        let shapes = [(1, 0, 5, 4), (3, 1, 7, 6), (5, 2, 6, 9), (3, 1, 1, 1), (5, 2, 3, 2)]
        var rng = RandomSource(seed: 13)
        for (kernel, padding, height, width) in shapes {
            let g = Conv2dGeometry(
                batch: 3, inChannels: 2, height: height, width: width, outChannels: 1,
                kernelHeight: kernel, kernelWidth: kernel, stride: 1, padding: padding)
            #expect(g.outHeight == height && g.outWidth == width)
            let x = Tensor.normal(shape: g.inputShape, using: &rng)
            let count = g.patchSize * g.batch * height * width
            var fast = [Float](repeating: .nan, count: count), rows = [Float](repeating: -.infinity, count: count)
            x.scalars.withUnsafeBufferPointer { px in
                fast.withUnsafeMutableBufferPointer { Kernels.im2colSamePadding(px.baseAddress!, g, into: $0.baseAddress!) }
                rows.withUnsafeMutableBufferPointer { Kernels.im2colRows(px.baseAddress!, g, into: $0.baseAddress!) }
            }
            #expect(fast.map(\.bitPattern) == rows.map(\.bitPattern), "kernel \(kernel), \(height)×\(width)")
        }
    }

    @Test func samePaddingCol2imIsCol2imAddOntoZeros() {
        // Kernels 1, 3, 5 and a wide one, odd sides, over several images and channels.
        let shapes = [(1, 0, 5, 4), (3, 1, 7, 6), (5, 2, 6, 9), (3, 1, 1, 1), (5, 2, 3, 2), (3, 1, 14, 14)]
        var rng = RandomSource(seed: 14)
        for (kernel, padding, height, width) in shapes {
            let g = Conv2dGeometry(
                batch: 3, inChannels: 2, height: height, width: width, outChannels: 1,
                kernelHeight: kernel, kernelWidth: kernel, stride: 1, padding: padding)
            var columns = Tensor.normal(shape: [g.patchSize * g.batch * height * width], using: &rng).scalars
            var added = [Float](repeating: 0, count: g.inputShape.reduce(1, *)), assigned = [Float](repeating: .nan, count: added.count)
            columns.withUnsafeMutableBufferPointer { pc in
                added.withUnsafeMutableBufferPointer { Kernels.col2imAdd(pc.baseAddress!, g, into: $0.baseAddress!) }
                assigned.withUnsafeMutableBufferPointer { Kernels.col2imSamePadding(pc.baseAddress!, g, into: $0.baseAddress!) }
            }
            let worst = zip(added, assigned).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5 * added.map(abs).max()!, "kernel \(kernel), \(height)×\(width): off by \(worst)")
        }
    }

    @Test(arguments: geometries) func im2colAndCol2imAreAdjoint(g: Conv2dGeometry) {
        // <im2col(x), c> == <x, col2im(c)> for any x and c: the backward pass relies on it.
        var rng = RandomSource(seed: 3)
        let x = Tensor.normal(shape: g.inputShape, using: &rng)
        let columns = Tensor.normal(shape: [g.patchSize * g.batch * g.outHeight * g.outWidth], using: &rng)
        var lowered = [Float](repeating: 0, count: columns.count)
        var lifted = [Float](repeating: 0, count: x.count)
        x.scalars.withUnsafeBufferPointer { px in lowered.withUnsafeMutableBufferPointer { Kernels.im2col(px.baseAddress!, g, into: $0.baseAddress!) } }
        columns.scalars.withUnsafeBufferPointer { pc in lifted.withUnsafeMutableBufferPointer { Kernels.col2imAdd(pc.baseAddress!, g, into: $0.baseAddress!) } }
        let left = zip(lowered, columns.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(x.scalars, lifted).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(left - right) < 1e-3 * max(1, abs(left)))
        // The assigning col2im, over whatever was there before: col2imAdd onto zeros.
        var scratch = columns.scalars, assigned = [Float](repeating: .nan, count: x.count)
        scratch.withUnsafeMutableBufferPointer { pc in assigned.withUnsafeMutableBufferPointer { Kernels.col2im(pc.baseAddress!, g, into: $0.baseAddress!) } }
        #expect(zip(assigned, lifted).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    @Test func poolingMatchesReference() {
        var rng = RandomSource(seed: 4)
        for (kernel, stride, padding) in [(2, 2, 0), (3, 2, 1), (3, 1, 1)] {
            let x = Tensor.normal(shape: [2, 3, 7, 8], using: &rng)
            let g = Conv2dGeometry(
                batch: 2, inChannels: 3, height: 7, width: 8, outChannels: 3,
                kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding)
            #expect(Kernels.maxPool2d(x, geometry: g).output == ReferenceKernels.maxPool2d(x, geometry: g))
            #expect(Kernels.avgPool2d(x, geometry: g).maxAbsDifference(ReferenceKernels.avgPool2d(x, geometry: g)) < 1e-6)
        }
    }

    @Test func twoByTwoPoolingPicksTheFirstMaximumOfEachWindow() {
        // Values from {−1, 0, 1}: most windows hold ties; one window starts with NaN.
        var rng = RandomSource(seed: 11)
        var x = Tensor(shape: [2, 2, 5, 6], scalars: (0..<120).map { _ in Float(Int(rng.nextUnitFloat() * 3) - 1) })
        x.scalars[0] = .nan
        let g = Conv2dGeometry(batch: 2, inChannels: 2, height: 5, width: 6, outChannels: 2, kernelHeight: 2, kernelWidth: 2, stride: 2, padding: 0)
        let (output, argMax) = Kernels.maxPool2d(x, geometry: g)
        var out = 0
        for plane in 0..<4 {
            for yo in 0..<2 {
                for xo in 0..<3 {
                    let window = [(0, 0), (0, 1), (1, 0), (1, 1)].map { plane * 30 + (2 * yo + $0.0) * 6 + 2 * xo + $0.1 }
                    var first = window[0]
                    for index in window.dropFirst() where x.scalars[index] > x.scalars[first] { first = index }
                    #expect(Int(argMax[out]) == first)
                    #expect(output.scalars[out] == x.scalars[first] || (output.scalars[out].isNaN && x.scalars[first].isNaN))
                    out += 1
                }
            }
        }
        #expect(output.scalars[0].isNaN && out == output.count)
    }

    /// Convolutions whose outputs have even sides, one of them over several im2col chunks.
    static let pooledGeometries: [Conv2dGeometry] = [
        Conv2dGeometry(batch: 2, inChannels: 1, height: 6, width: 8, outChannels: 3, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        Conv2dGeometry(batch: 3, inChannels: 2, height: 11, width: 7, outChannels: 4, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1),
        Conv2dGeometry(batch: 130, inChannels: 4, height: 16, width: 16, outChannels: 6, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        // Rows of 14, 7, 5 and 3 windows: whole and overlapping groups of four, and none; of 20
        // and 16: one vector of sixteen and a partial one, and exactly one.
        Conv2dGeometry(batch: 2, inChannels: 1, height: 4, width: 28, outChannels: 3, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        Conv2dGeometry(batch: 2, inChannels: 1, height: 4, width: 40, outChannels: 2, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        Conv2dGeometry(batch: 1, inChannels: 1, height: 2, width: 32, outChannels: 2, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        Conv2dGeometry(batch: 3, inChannels: 2, height: 6, width: 14, outChannels: 2, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        Conv2dGeometry(batch: 2, inChannels: 2, height: 4, width: 10, outChannels: 2, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        Conv2dGeometry(batch: 2, inChannels: 1, height: 6, width: 6, outChannels: 2, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
    ]

    /// The fused backward's weight and bias gradients against the separate kernels': bit for bit
    /// (the values are exact, so also for the direct sums), except that the direct sums leave out
    /// positions whose gradient is zero, so a NaN input there does not reach them: where the
    /// separate kernels give NaN, the direct sums may give a number.
    func expectSameGradients(
        _ together: (input: Tensor?, weight: Tensor?, bias: Tensor?), _ apart: (input: Tensor?, weight: Tensor?, bias: Tensor?),
        direct: Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (fused, separate) in [(together.weight!, apart.weight!), (together.bias!, apart.bias!)] {
            let same = zip(fused.scalars, separate.scalars).allSatisfy { $0.bitPattern == $1.bitPattern || (direct && $1.isNaN) }
            #expect(same, "\(fused.scalars) against \(separate.scalars)", sourceLocation: sourceLocation)
        }
        #expect(together.weight!.scalars.filter(\.isNaN).count <= apart.weight!.scalars.filter(\.isNaN).count, sourceLocation: sourceLocation)
    }

    @Test(arguments: pooledGeometries) func convolutionFusedWithPoolingIsBitForBitTheTwoKernels(g: Conv2dGeometry) {
        var rng = RandomSource(seed: 12)
        // Values from {−1, 0, 1} with a zero bias make ties in most pooling windows; one NaN.
        var x = Tensor(shape: g.inputShape, scalars: (0..<g.inputShape.reduce(1, *)).map { _ in Float(Int(rng.nextUnitFloat() * 3) - 1) })
        x.scalars[5] = .nan
        let w = Tensor(shape: g.weightShape, scalars: (0..<g.weightShape.reduce(1, *)).map { _ in Float(Int(rng.nextUnitFloat() * 3) - 1) })
        for b in [Tensor(shape: [g.outChannels]), Tensor.normal(shape: [g.outChannels], using: &rng)] {
            let pool = Conv2dGeometry(
                batch: g.batch, inChannels: g.outChannels, height: g.outHeight, width: g.outWidth, outChannels: g.outChannels,
                kernelHeight: 2, kernelWidth: 2, stride: 2, padding: 0)
            let conv = Kernels.conv2d(x, weight: w, bias: b, geometry: g)
            let (pooled, argMax) = Kernels.maxPool2d(conv, geometry: pool)
            let fused = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g)
            #expect(fused.output.shape == pooled.shape && fused.argMax == argMax)
            #expect(fused.output.scalars.map(\.bitPattern) == pooled.scalars.map(\.bitPattern))
            #expect(pooled.scalars.contains(where: \.isNaN) && pooled.scalars.contains { !$0.isNaN })
            let withoutIndices = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, indices: false)
            #expect(withoutIndices.argMax.isEmpty && withoutIndices.output.scalars.map(\.bitPattern) == pooled.scalars.map(\.bitPattern))

            // Gradients in halves: every product and sum below is exact, so the weight gradients that
            // `conv2dMaxPool2x2ParameterGradients` sums in its own order (3×3 over ≤ 3 channels) are
            // bit for bit the dense ones too.
            let dy = Tensor(shape: pooled.shape, scalars: (0..<pooled.count).map { _ in Float(Int(rng.nextUnitFloat() * 5) - 2) / 2 })
            let apart = Kernels.conv2dBackward(
                Kernels.maxPool2dBackward(dy, argMax: argMax, geometry: pool), input: x, weight: w, geometry: g,
                needInput: true, needParameters: true)
            let together = Kernels.conv2dMaxPool2x2Backward(
                dy, argMax: fused.argMax, input: x, weight: w, geometry: g,
                needInput: true, needParameters: true)
            #expect(together.input!.scalars.map(\.bitPattern) == apart.input!.scalars.map(\.bitPattern))
            expectSameGradients(together, apart, direct: Kernels.takesDirectParameterGradients(g))
            let inputOnly = Kernels.conv2dMaxPool2x2Backward(
                dy, argMax: fused.argMax, input: x, weight: w, geometry: g,
                needInput: true, needParameters: false)
            #expect(inputOnly.weight == nil && inputOnly.bias == nil)
            #expect(inputOnly.input!.scalars.map(\.bitPattern) == apart.input!.scalars.map(\.bitPattern))

            // With the ReLU: the pooled values through Variable.relu's rule, forward and backward.
            let rectified = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, relu: true)
            #expect(rectified.output.scalars.map(\.bitPattern) == pooled.scalars.map { max($0, 0).bitPattern } && rectified.argMax == argMax)
            let rectifiedOnly = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, indices: false, relu: true)
            #expect(rectifiedOnly.argMax.isEmpty && rectifiedOnly.output.scalars.map(\.bitPattern) == rectified.output.scalars.map(\.bitPattern))
            let maskedDy = Tensor(shape: dy.shape, scalars: zip(pooled.scalars, dy.scalars).map { $0 <= 0 ? 0 : $1 })
            let apartReLU = Kernels.conv2dBackward(
                Kernels.maxPool2dBackward(maskedDy, argMax: argMax, geometry: pool), input: x, weight: w,
                geometry: g, needInput: true, needParameters: true)
            let togetherReLU = Kernels.conv2dMaxPool2x2Backward(
                dy, argMax: rectified.argMax, input: x, weight: w, geometry: g,
                needInput: true, needParameters: true, reluOutput: rectified.output)
            #expect(togetherReLU.input!.scalars.map(\.bitPattern) == apartReLU.input!.scalars.map(\.bitPattern))
            expectSameGradients(togetherReLU, apartReLU, direct: Kernels.takesDirectParameterGradients(g))
            #expect(maskedDy.scalars.contains(0) && maskedDy.scalars.contains { $0 != 0 })
        }
    }

    /// The direct weight and bias gradients of a first layer (3×3 over 1 or 3 channels, stride 1
    /// or 2) against the dense products with inexact values: the same sums in another order.
    @Test func directParameterGradientsAgreeWithTheDenseProducts() {
        for (index, g) in [
            Conv2dGeometry(batch: 70, inChannels: 1, height: 28, width: 28, outChannels: 8, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
            Conv2dGeometry(batch: 5, inChannels: 3, height: 7, width: 11, outChannels: 4, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1),
            Conv2dGeometry(batch: 4, inChannels: 2, height: 10, width: 6, outChannels: 3, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 0),
            // More output channels than a vector has lanes: two groups, the second partial.
            Conv2dGeometry(batch: 3, inChannels: 1, height: 6, width: 6, outChannels: 20, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1),
        ].enumerated() {
            #expect(Kernels.takesDirectParameterGradients(g))
            var rng = RandomSource(seed: 40 + UInt64(index))
            let x = Tensor.normal(shape: g.inputShape, using: &rng)
            let w = Tensor.normal(shape: g.weightShape, std: 0.3, using: &rng)
            let b = Tensor.normal(shape: [g.outChannels], using: &rng)
            for relu in [false, true] {
                let forward = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, relu: relu)
                let dy = Tensor.normal(shape: forward.output.shape, using: &rng)
                let reluOutput = relu ? forward.output : nil
                let dense = Kernels.conv2dMaxPool2x2BackwardDense(
                    dy, argMax: forward.argMax, input: x, weight: w, geometry: g,
                    needInput: true, needParameters: true, reluOutput: reluOutput)
                let direct = Kernels.conv2dMaxPool2x2Backward(
                    dy, argMax: forward.argMax, input: x, weight: w, geometry: g,
                    needInput: true, needParameters: true, reluOutput: reluOutput)
                let scale = dense.weight!.scalars.map(abs).max()!
                #expect(direct.weight!.maxAbsDifference(dense.weight!) <= 1e-5 * scale)
                #expect(direct.bias!.maxAbsDifference(dense.bias!) <= 1e-5 * dense.bias!.scalars.map(abs).max()!)
                #expect(direct.input!.scalars.map(\.bitPattern) == dense.input!.scalars.map(\.bitPattern))
                let parametersOnly = Kernels.conv2dMaxPool2x2Backward(
                    dy, argMax: forward.argMax, input: x, weight: w, geometry: g,
                    needInput: false, needParameters: true, reluOutput: reluOutput)
                #expect(parametersOnly.input == nil && parametersOnly.weight == direct.weight && parametersOnly.bias == direct.bias)
                // Every family's vectorised kernel and the loop: the same sums in another rounding.
                for kernels in [nil] + MicroKernels.available {
                    let other = Kernels.conv2dMaxPool2x2ParameterGradients(
                        dy, argMax: forward.argMax, input: x, geometry: g,
                        reluOutput: reluOutput, kernels: kernels)
                    let name = kernels?.name ?? "loop"
                    #expect(other.weight.maxAbsDifference(dense.weight!) <= 1e-5 * scale, "\(name)")
                    #expect(other.bias.maxAbsDifference(dense.bias!) <= 1e-5 * dense.bias!.scalars.map(abs).max()!, "\(name)")
                }
            }
        }
    }

    /// How products are cut into blocks for 1 to 5 threads: contiguous, covering C's longer side
    /// once, each starting at a multiple of 16, one per thread; one block for small products.
    @Test func productBlocksCoverTheLongerSideOnce() {
        for (m, n, k) in [(37, 300, 100), (300, 37, 100), (129, 130, 70), (20, 40, 2000), (64, 64, 64)] {
            for threads in 1...5 {
                let (alongColumns, bounds) = BLAS.blocks(m: m, n: n, k: k, threads: threads)
                let side = alongColumns ? n : m
                #expect(alongColumns == (n >= m))
                #expect(bounds.first == 0 && bounds.last == side && zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 })
                #expect(bounds.dropLast().allSatisfy { $0 % 16 == 0 })
                let parts = m * n * k < 1 << 20 || threads == 1 ? 1 : min(threads, (side + 15) / 16)
                #expect(bounds.count - 1 == parts, "\(m)×\(n)×\(k), \(threads) threads: \(bounds)")
            }
        }
    }

    /// Products split over the job's threads (blocks of C's rows or columns, each one call)
    /// against a naive product in Double, for every transposition, with strides wider than the
    /// matrices, alpha and beta (OpenBLAS's route on every CPU): C's spare columns left alone,
    /// and each block bit for bit the one call that computes it alone (the promise `BLAS` makes
    /// for OpenBLAS, whose kernels may round an element differently in a call of another
    /// shape); inside a part, one call for the whole product.
    @Test func splitProductsAreTheirBlocksCalls() {
        var rng = RandomSource(seed: 31)
        for (m, n, k) in [(37, 300, 100), (300, 37, 100), (129, 130, 70)] {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                // Stored shapes with 3 spare columns each: A is m×k (k×m transposed), B k×n (n×k).
                let (aRows, aColumns) = transposeA ? (k, m) : (m, k), (bRows, bColumns) = transposeB ? (n, k) : (k, n)
                let lda = aColumns + 3, ldb = bColumns + 3, ldc = n + 3
                let a = (0..<aRows * lda).map { _ in rng.nextUnitFloat() - 0.5 }, b = (0..<bRows * ldb).map { _ in rng.nextUnitFloat() - 0.5 }
                let c0 = (0..<m * ldc).map { _ in rng.nextUnitFloat() }
                let label = "\(m)×\(n)×\(k) \(transposeA) \(transposeB)"
                // The product as one call of a block of C: rows × columns.
                func call(_ rows: Range<Int>, _ columns: Range<Int>, onto c: inout [Float]) {
                    let aOffset = transposeA ? rows.lowerBound : rows.lowerBound * lda
                    let bOffset = transposeB ? columns.lowerBound * ldb : columns.lowerBound
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in
                                BLAS.sgemmOnThisThread(
                                    transposeA: transposeA, transposeB: transposeB, m: rows.count, n: columns.count, k: k,
                                    alpha: 1.5, a: pa.baseAddress! + aOffset, lda: lda, b: pb.baseAddress! + bOffset, ldb: ldb,
                                    beta: 0.5, c: pc.baseAddress! + rows.lowerBound * ldc + columns.lowerBound, ldc: ldc)
                            }
                        }
                    }
                }
                var split = c0, blockwise = c0
                BLAS.sgemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.5, a: a, lda: lda,
                    b: b, ldb: ldb, beta: 0.5, c: &split, ldc: ldc)
                let (alongColumns, bounds) = BLAS.blocks(m: m, n: n, k: k)
                #expect(bounds.count - 1 == min(BLAS.threadCount, (max(m, n) + 15) / 16), "\(label): \(bounds)")
                for (start, end) in zip(bounds, bounds.dropFirst()) {
                    if alongColumns { call(0..<m, start..<end, onto: &blockwise) } else { call(start..<end, 0..<n, onto: &blockwise) }
                }
                #expect(split.map(\.bitPattern) == blockwise.map(\.bitPattern), "\(label)")
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for p in 0..<k {
                            let x = Double(transposeA ? a[p * lda + i] : a[i * lda + p]), y = Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                            sum += x * y
                        }
                        worst = max(worst, abs(Double(split[i * ldc + j]) - (1.5 * sum + 0.5 * Double(c0[i * ldc + j]))))
                    }
                    // The spare columns are left alone.
                    #expect(split[i * ldc + n..<i * ldc + ldc] == c0[i * ldc + n..<i * ldc + ldc])
                }
                #expect(worst < 1e-4, "\(label): \(worst)")
                // Inside a part (one thread available): one call.
                var inPart = c0, whole = c0
                Parallel.$insidePart.withValue(true) {
                    BLAS.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.5, a: a, lda: lda,
                        b: b, ldb: ldb, beta: 0.5, c: &inPart, ldc: ldc)
                }
                call(0..<m, 0..<n, onto: &whole)
                #expect(inPart.map(\.bitPattern) == whole.map(\.bitPattern), "\(label) inside a part")
            }
        }
    }

    /// Convolutions run their chunks as one pipeline per thread and products are split over the
    /// job's threads; several of them side by side in one process (trials run in parallel in
    /// process) give the same bits as each alone, and so do the products beside them.
    @Test func convolutionsSideBySideGiveTheSameBitsAsAlone() {
        let g = Conv2dGeometry(batch: 40, inChannels: 8, height: 12, width: 12, outChannels: 16, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        var rng = RandomSource(seed: 30)
        let x = Tensor.normal(shape: g.inputShape, using: &rng)
        let w = Tensor.normal(shape: g.weightShape, std: 0.2, using: &rng)
        let b = Tensor.normal(shape: [g.outChannels], using: &rng)
        let features = Tensor.normal(shape: [64, 300], using: &rng), weights = Tensor.normal(shape: [200, 300], using: &rng)
        @Sendable func run() -> [[UInt32]] {
            let forward = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, relu: true)
            let backward = Kernels.conv2dMaxPool2x2Backward(
                forward.output, argMax: forward.argMax, input: x, weight: w, geometry: g,
                needInput: true, needParameters: true, reluOutput: forward.output)
            let product = Kernels.linear(features, weight: weights, bias: nil)
            return [forward.output, backward.input!, backward.weight!, backward.bias!, product].map { $0.scalars.map(\.bitPattern) }
        }
        let alone = run()
        let sideBySide = Results()
        DispatchQueue.concurrentPerform(iterations: 6) { index in
            let bits = run()
            sideBySide.lock.withLock { sideBySide.runs[index] = bits }
        }
        #expect(sideBySide.runs.count == 6)
        for (index, bits) in sideBySide.runs { #expect(bits == alone, "run \(index)") }
    }

    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var runs: [Int: [[UInt32]]] = [:]
    }

    @Test func logSoftmaxMatchesReferenceAndIsStable() {
        var rng = RandomSource(seed: 6)
        let moderate = Tensor.normal(shape: [4, 10], std: 3, using: &rng)
        #expect(Kernels.logSoftmax(moderate).maxAbsDifference(ReferenceKernels.logSoftmax(moderate)) < 1e-5)

        // Extreme logits overflow a naive exp; the max-shifted kernel stays finite.
        let extreme = Tensor(shape: [2, 4], scalars: [-1000, 0, 1000, 5, 0, 0, 0, 0])
        let fast = Kernels.logSoftmax(extreme)
        #expect(fast.scalars.allSatisfy { $0.isFinite })
        #expect(abs(fast[0, 2]) < 1e-6)  // the dominant logit has probability 1
        #expect(abs(fast[1, 0] - (-1.3862944)) < 1e-6)  // uniform row: log(1/4)
        let softmax = Kernels.softmax(moderate)
        for row in 0..<4 {
            let total = (0..<10).reduce(Float(0)) { $0 + softmax[row, $1] }
            #expect(abs(total - 1) < 1e-5)
        }
    }

    /// The per-channel affine map of some rows of a batch, read straight from the batch: each
    /// element `scale[c] · x + shift[c]` as written out here, the bits of slicing the rows first.
    @Test func channelAffineOfRowsIsTheAffineMapOfTheSlicedRows() {
        var rng = RandomSource(seed: 6)
        let images = Tensor.normal(shape: [5, 3, 4, 2], mean: 1, std: 2, using: &rng)
        let table = Tensor.normal(shape: [6, 3], using: &rng)
        let scale: [Float] = [0.5, -2, 3], shift: [Float] = [1, 0.25, -4]
        for x in [images, table] {
            let plane = x.count / (x.shape[0] * 3)
            for rows in [0..<x.shape[0], 1..<4, 4..<5, 2..<2] {
                let y = Kernels.channelAffine(x, rows: rows, scale: scale, shift: shift)
                #expect(y.shape == [rows.count] + x.shape.dropFirst())
                #expect(y == Kernels.channelAffine(x.slice(rows), scale: scale, shift: shift), "\(x.shape), rows \(rows)")
                for n in 0..<rows.count {
                    for c in 0..<3 {
                        for k in 0..<plane {
                            let source = x.scalars[((rows.lowerBound + n) * 3 + c) * plane + k]
                            #expect(y.scalars[(n * 3 + c) * plane + k] == scale[c] * source + shift[c])
                        }
                    }
                }
            }
        }
    }

    @Test func batchNormMomentsAndAffineMatchReference() {
        var rng = RandomSource(seed: 5)
        let x = Tensor.normal(shape: [4, 3, 5, 5], mean: 2, std: 3, using: &rng)
        let (mean, variance) = Kernels.channelMoments(x)
        let gamma: [Float] = [0.5, 1, 2], beta: [Float] = [0, -1, 3]
        let tape = Tape()
        let y = tape.leaf(x).batchNorm2d(
            gamma: tape.leaf(Tensor(shape: [3], scalars: gamma)),
            beta: tape.leaf(Tensor(shape: [3], scalars: beta)), epsilon: 1e-5
        ).output
        let reference = ReferenceKernels.batchNorm(x, mean: mean, variance: variance, gamma: gamma, beta: beta, epsilon: 1e-5)
        #expect(y.value.maxAbsDifference(reference) < 1e-4)
        for c in 0..<3 {
            var values: [Double] = []
            for n in 0..<4 { for i in 0..<5 { for j in 0..<5 { values.append(Double(x[n, c, i, j])) } } }
            let mu = values.reduce(0, +) / Double(values.count)
            let biased = values.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(values.count)
            #expect(abs(Double(mean[c]) - mu) < 1e-5 && abs(Double(variance[c]) - biased) < 1e-4)
        }
    }
}
