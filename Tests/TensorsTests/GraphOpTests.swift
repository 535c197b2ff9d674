import Foundation
import Tensors
import Testing

/// The operations graph models add: reference cases and finite-difference checks.
@Suite struct GraphOpTests {
    let check = GradientCheck()

    func expectPasses(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Variable]) -> Variable) {
        let failures = check.failures(inputs: inputs, f)
        #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(String(describing: failures.first))", sourceLocation: sourceLocation)
    }

    /// 1×1 output is the plane's mean; windows that tile the plane are average pooling's.
    @Test func adaptiveAveragePoolingAveragesItsWindows() {
        var rng = RandomSource(seed: 3)
        let x = Tensor.normal(shape: [2, 3, 6, 4], using: &rng)
        let tape = Tape()
        let global = tape.leaf(x).adaptiveAvgPool2d(outputHeight: 1, outputWidth: 1).value
        #expect(global.shape == [2, 3, 1, 1])
        for plane in 0..<6 {
            let mean = x.scalars[(plane * 24)..<((plane + 1) * 24)].reduce(0, +) / 24
            #expect(abs(global.scalars[plane] - mean) < 1e-6)
        }
        let square = Tensor.normal(shape: [1, 2, 6, 6], using: &rng)
        let adaptive = tape.leaf(square).adaptiveAvgPool2d(outputHeight: 3, outputWidth: 3).value
        #expect(adaptive.maxAbsDifference(tape.leaf(square).avgPool2d(kernel: 2).value) < 1e-6)
        // 5 rows into 3: PyTorch's windows [0, 2), [1, 4), [3, 5) overlap.
        let rows = Tensor(shape: [1, 1, 5, 1], scalars: [1, 2, 3, 4, 5])
        #expect(tape.leaf(rows).adaptiveAvgPool2d(outputHeight: 3, outputWidth: 1).value.scalars == [1.5, 3, 4.5])
    }

    @Test func adaptiveAveragePoolingGradient() {
        var rng = RandomSource(seed: 4)
        expectPasses([Tensor.normal(shape: [2, 2, 5, 7], using: &rng)]) { $0[0].adaptiveAvgPool2d(outputHeight: 3, outputWidth: 2) }
        expectPasses([Tensor.normal(shape: [1, 3, 4, 4], using: &rng)]) { $0[0].adaptiveAvgPool2d(outputHeight: 1, outputWidth: 1) }
    }

    @Test func sumOfSeveralTerms() {
        var rng = RandomSource(seed: 5)
        let terms = (0..<3).map { _ in Tensor.normal(shape: [2, 3], using: &rng) }
        let tape = Tape()
        let total = Variable.sum(terms.map { tape.leaf($0) }).value
        let expected: [Float] = (0..<6).map { i in
            let pair: Float = terms[0].scalars[i] + terms[1].scalars[i]
            return pair + terms[2].scalars[i]
        }
        #expect(total.scalars == expected)
        expectPasses(terms) { Variable.sum($0) }
        // A term used twice gets twice the gradient.
        expectPasses([terms[0]]) { Variable.sum([$0[0], $0[0]]) }
    }
}

/// Activations, token shapes, batched products and layer normalisation.
@Suite struct TransformerOpTests {
    let check = GradientCheck()

    func expectPasses(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Variable]) -> Variable) {
        let failures = check.failures(inputs: inputs, f)
        #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(String(describing: failures.first))", sourceLocation: sourceLocation)
    }

    static func normal(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
        var rng = RandomSource(seed: seed)
        return Tensor.normal(shape: shape, std: std, using: &rng)
    }

    /// Values from the definitions, computed in Double (PyTorch's formulas), at a few points.
    @Test func activationsFollowTheirDefinitions() {
        let points: [Float] = [-4, -3, -1.5, -0.2, 0, 0.3, 1, 2.5, 3, 5]
        let tape = Tape()
        let x = tape.leaf(Tensor(shape: [points.count], scalars: points))
        func expect(_ y: Variable, _ f: (Double) -> Double, _ name: String) {
            for (i, p) in points.enumerated() {
                #expect(abs(Double(y.value.scalars[i]) - f(Double(p))) < 2e-6 * max(1, abs(f(Double(p)))), "\(name)(\(p))")
            }
        }
        expect(x.sigmoid(), { 1 / (1 + exp(-$0)) }, "sigmoid")
        expect(x.tanh(), { Foundation.tanh($0) }, "tanh")
        expect(x.gelu(), { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, "gelu")
        expect(
            x.gelu(tanhApproximation: true), { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }, "gelu_tanh")
        expect(x.silu(), { $0 / (1 + exp(-$0)) }, "silu")
        expect(x.leakyReLU(slope: 0.1), { $0 > 0 ? $0 : 0.1 * $0 }, "leaky_relu")
        expect(x.hardswish(), { $0 * min(max($0 + 3, 0), 6) / 6 }, "hardswish")
    }

    @Test func activationGradients() {
        // Away from hard swish's and leaky ReLU's kinks (−3, 0, 3) by more than the step.
        let x = Tensor(shape: [2, 5], scalars: [-4, -2.5, -1.2, -0.4, 0.35, 0.8, 1.7, 2.6, 3.4, 4.1])
        expectPasses([x]) { $0[0].sigmoid() }
        expectPasses([x]) { $0[0].tanh() }
        expectPasses([x]) { $0[0].gelu() }
        expectPasses([x]) { $0[0].gelu(tanhApproximation: true) }
        expectPasses([x]) { $0[0].silu() }
        expectPasses([x]) { $0[0].leakyReLU(slope: 0.2) }
        expectPasses([x]) { $0[0].hardswish() }
    }

    @Test func permutationsConcatenationAndSlices() {
        let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        let tape = Tape()
        let p = tape.leaf(x).permuted([0, 2, 1]).value
        #expect(p.shape == [2, 4, 3])
        for n in 0..<2 { for i in 0..<3 { for j in 0..<4 { #expect(p.scalars[(n * 4 + j) * 3 + i] == x.scalars[(n * 3 + i) * 4 + j]) } } }
        let y = Tensor(shape: [2, 1, 4], scalars: (100..<108).map(Float.init))
        let joined = Variable.concatenated([tape.leaf(y), tape.leaf(x)], axis: 1).value
        #expect(joined.shape == [2, 4, 4] && Array(joined.scalars[0..<8]) == [100, 101, 102, 103, 0, 1, 2, 3])
        #expect(tape.leaf(joined).sliced(axis: 1, range: 1..<4).value == x)
        expectPasses([Self.normal([2, 3, 4], seed: 1)]) { $0[0].permuted([2, 0, 1]) }
        expectPasses([Self.normal([2, 1, 3], seed: 2), Self.normal([2, 2, 3], seed: 3)]) { Variable.concatenated($0, axis: 1) }
        expectPasses([Self.normal([2, 5, 3], seed: 4)]) { $0[0].sliced(axis: 1, range: 1..<3) }
        expectPasses([Self.normal([1, 2, 3], seed: 5)]) { $0[0].repeatedOverBatch(3) }
    }

    @Test func batchedProductsAndSoftmax() {
        let a = Self.normal([2, 3, 4], seed: 6), b = Self.normal([2, 4, 5], seed: 7)
        let tape = Tape()
        let y = tape.leaf(a).matmul(tape.leaf(b)).value
        for n in 0..<2 {
            for i in 0..<3 {
                for j in 0..<5 {
                    var sum: Float = 0
                    for k in 0..<4 { sum += a.scalars[(n * 3 + i) * 4 + k] * b.scalars[(n * 4 + k) * 5 + j] }
                    #expect(abs(y.scalars[(n * 3 + i) * 5 + j] - sum) < 1e-5)
                }
            }
        }
        expectPasses([a, b]) { $0[0].matmul($0[1]) }
        // a · cᵀ without a transposed copy: the same values as the product with c permuted.
        let c = Self.normal([2, 5, 4], seed: 13)
        let transposed = tape.leaf(a).matmul(tape.leaf(c), transposingOther: true).value
        #expect(transposed.maxAbsDifference(tape.leaf(a).matmul(tape.leaf(c).permuted([0, 2, 1])).value) < 1e-6)
        expectPasses([a, c]) { $0[0].matmul($0[1], transposingOther: true) }
        // Softmax against its definition in Double, rows of 11 (one vector and a partial one).
        let z = Self.normal([2, 3, 11], seed: 8, std: 3)
        for scale: Float in [1, 0.25] {
            let s = tape.leaf(z).softmaxLastAxis(scaledBy: scale).value
            for row in 0..<6 {
                let logits = z.scalars[(row * 11)..<(row * 11 + 11)].map { Double(scale) * Double($0) }
                let top = logits.max()!, total = logits.reduce(0) { $0 + exp($1 - top) }
                for k in 0..<11 { #expect(abs(Double(s.scalars[row * 11 + k]) - exp(logits[k] - top) / total) < 1e-6) }
            }
        }
        expectPasses([Self.normal([2, 3, 4], seed: 9)]) { $0[0].softmaxLastAxis() }
        expectPasses([Self.normal([2, 3, 9], seed: 9)]) { $0[0].softmaxLastAxis(scaledBy: 0.5) }
    }

    /// The fused self-attention equals attention written with the separate ops (permutes,
    /// products, softmax, mask), and has its gradient; with and without a dropout mask.
    @Test func selfAttentionEqualsItsComposition() {
        let (n, t, heads, width) = (2, 5, 3, 4)
        let d = heads * width
        let qkv = Self.normal([n, t, 3 * d], seed: 14)
        var rng = RandomSource(seed: 15)
        let mask = Tensor(shape: [n, heads, t, t], scalars: rng.dropoutMask(count: n * heads * t * t, p: 0.3, keep: 1 / 0.7))
        let scale = 1 / Float(width).squareRoot()
        func composed(_ x: Variable, _ mask: Tensor?) -> Variable {
            let split = x.reshaped([n, t, 3, heads, width]).permuted([2, 0, 3, 1, 4])
            func part(_ i: Int) -> Variable { split.sliced(axis: 0, range: i..<(i + 1)).reshaped([n, heads, t, width]) }
            var weights = part(0).matmul(part(1).permuted([0, 1, 3, 2])).scaled(by: scale).softmaxLastAxis()
            if let mask { weights = weights * x.tape.leaf(mask) }
            return weights.matmul(part(2)).permuted([0, 2, 1, 3]).reshaped([n, t, d])
        }
        for m in [nil, mask] {
            let tape = Tape()
            let fused = tape.leaf(qkv).selfAttention(heads: heads, scale: scale, dropoutMask: m).value
            #expect(fused.shape == [n, t, d])
            #expect(fused.maxAbsDifference(composed(tape.leaf(qkv), m).value) < 1e-5)
            expectPasses([qkv]) { $0[0].selfAttention(heads: heads, scale: scale, dropoutMask: m) }
        }
    }

    /// Layer norm, GELU, softmax and self-attention split large inputs over the job's threads:
    /// each row (sample) gives the same bits as when computed alone.
    @Test func rowWiseOpsGiveTheSameBitsSplitOverThreads() {
        let tape = Tape()
        func expectRowsMatch(_ x: Tensor, rows: Int, _ f: (Variable) -> Variable, _ name: String) {
            let whole = f(tape.leaf(x)).value
            let size = x.count / x.shape[0], outSize = whole.count / x.shape[0]
            for first in [0, rows / 2, x.shape[0] - 3] {
                let part = Tensor(shape: [3] + x.shape.dropFirst(), scalars: Array(x.scalars[(first * size)..<((first + 3) * size)]))
                let alone = f(tape.leaf(part)).value
                #expect(Array(whole.scalars[(first * outSize)..<((first + 3) * outSize)]) == alone.scalars, "\(name) rows \(first)…")
            }
        }
        let rows = Self.normal([9000, 4], seed: 16)
        expectRowsMatch(rows, rows: 9000, { $0.layerNorm(weight: nil, bias: nil, epsilon: 1e-5) }, "layerNorm")
        expectRowsMatch(rows, rows: 9000, { $0.gelu() }, "gelu")
        expectRowsMatch(rows, rows: 9000, { $0.softmaxLastAxis(scaledBy: 0.5) }, "softmax")
        let packed = Self.normal([33_000, 2, 3], seed: 17)
        expectRowsMatch(packed, rows: 33_000, { $0.selfAttention(heads: 1, scale: 0.7) }, "selfAttention")
    }

    /// `VectorMath.exp` within 2 ulp and `normalCDF` within 4e-7 of Double's, over their ranges,
    /// at counts that leave a partial vector; their limits and NaN.
    @Test func vectorMathMatchesDouble() {
        let points = (0..<20_003).map { Float(-90 + 180 * Double($0) / 20_002) }
        var exps = [Float](repeating: 0, count: points.count), cdfs = exps
        points.withUnsafeBufferPointer { p in
            VectorMath.map(p.count, p.baseAddress!, into: &exps) { VectorMath.exp($0) }
            VectorMath.map(p.count, p.baseAddress!, into: &cdfs) { VectorMath.normalCDF($0) }
        }
        for (i, x) in points.enumerated() {
            let exact = exp(Double(x))
            if x >= -87.3 && x <= 88.3 {
                #expect(abs(Double(exps[i]) - exact) <= 2 * Double(Float(exact).ulp), "exp(\(x))")
            } else if x < -87.5 {
                #expect(exps[i] == 0, "exp(\(x))")
            } else if x > 88.4 {
                #expect(exps[i] == .infinity, "exp(\(x))")
            }
            #expect(abs(Double(cdfs[i]) - erfc(-Double(x) / 2.0.squareRoot()) / 2) < 4e-7, "Φ(\(x))")
        }
        let limits: [Float] = [-.infinity, .infinity, .nan, 0]
        var out = [Float](repeating: 0, count: 4)
        limits.withUnsafeBufferPointer { VectorMath.map(4, $0.baseAddress!, into: &out) { VectorMath.exp($0) } }
        #expect(out[0] == 0 && out[1] == .infinity && out[2].isNaN && out[3] == 1)
        limits.withUnsafeBufferPointer { VectorMath.map(4, $0.baseAddress!, into: &out) { VectorMath.normalCDF($0) } }
        #expect(out[0] == 0 && out[1] == 1 && out[2].isNaN && abs(out[3] - 0.5) < 1e-7)
    }

    @Test func layerNormalisation() {
        let x = Self.normal([2, 3, 5], seed: 10, std: 2)
        let gamma = Self.normal([5], seed: 11), beta = Self.normal([5], seed: 12)
        let tape = Tape()
        let y = tape.leaf(x).layerNorm(weight: tape.leaf(gamma), bias: tape.leaf(beta), epsilon: 1e-5).value
        for row in 0..<6 {
            let values = x.scalars[(row * 5)..<(row * 5 + 5)].map(Double.init)
            let mean = values.reduce(0, +) / 5
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 5
            for k in 0..<5 {
                let expected = (values[k] - mean) / (variance + 1e-5).squareRoot() * Double(gamma.scalars[k]) + Double(beta.scalars[k])
                #expect(abs(Double(y.scalars[row * 5 + k]) - expected) < 1e-5)
            }
        }
        expectPasses([x, gamma, beta]) { $0[0].layerNorm(weight: $0[1], bias: $0[2], epsilon: 1e-5) }
        expectPasses([x]) { $0[0].layerNorm(weight: nil, bias: nil, epsilon: 1e-5) }
    }
}

/// The general convolution (groups, dilation, per-axis stride, padding per side) against its
/// definition, and its gradients.
@Suite struct GeneralConvolutionTests {
    static let geometries: [ConvolutionGeometry] = [
        ConvolutionGeometry(batch: 2, inChannels: 4, height: 7, width: 6, outChannels: 6, kernelHeight: 3, kernelWidth: 3, groups: 2),
        // Depthwise: one group per channel.
        ConvolutionGeometry(
            batch: 1, inChannels: 3, height: 6, width: 6, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: (1, 1, 1, 1), groups: 3),
        ConvolutionGeometry(
            batch: 2, inChannels: 2, height: 9, width: 8, outChannels: 3, kernelHeight: 3, kernelWidth: 2, stride: (2, 1), dilation: (2, 3),
            pads: (0, 2, 1, 1)),
        ConvolutionGeometry(batch: 1, inChannels: 2, height: 5, width: 5, outChannels: 2, kernelHeight: 1, kernelWidth: 1, stride: (2, 2)),
    ]

    @Test(arguments: geometries.indices)
    func matchesItsDefinitionAndHasItsGradients(_ index: Int) {
        let g = Self.geometries[index]
        var rng = RandomSource(seed: UInt64(index + 1))
        let x = Tensor.normal(shape: [g.batch, g.inChannels, g.height, g.width], using: &rng)
        let w = Tensor.normal(shape: g.weightShape, std: 0.5, using: &rng)
        let b = Tensor.normal(shape: [g.outChannels], using: &rng)
        let fast = Kernels.convolution(x, weight: w, bias: b, geometry: g)
        let reference = ReferenceKernels.convolution(x, weight: w, bias: b, geometry: g)
        #expect(fast.shape == reference.shape && fast.maxAbsDifference(reference) < 1e-4, "\(g)")
        let failures = GradientCheck().failures(inputs: [x, w, b]) { $0[0].convolution(weight: $0[1], bias: $0[2], geometry: g) }
        #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(String(describing: failures.first))")
    }

    /// Without groups, dilation or uneven padding it is the chain's convolution.
    @Test func theSimpleCaseIsTheChainConvolution() {
        var rng = RandomSource(seed: 9)
        let x = Tensor.normal(shape: [2, 3, 6, 6], using: &rng), w = Tensor.normal(shape: [4, 3, 3, 3], using: &rng)
        let g = ConvolutionGeometry(
            batch: 2, inChannels: 3, height: 6, width: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, stride: (2, 2), pads: (1, 1, 1, 1))
        let tape = Tape()
        let chain = tape.leaf(x).conv2d(weight: tape.leaf(w), bias: nil, stride: 2, padding: 1).value
        #expect(Kernels.convolution(x, weight: w, bias: nil, geometry: g).maxAbsDifference(chain) < 1e-5)
    }
}

@Suite struct GatherAndChannelAffineTests {
    @Test func gatherPicksAndItsGradientAddsUp() {
        let x = Tensor(shape: [1, 4, 2], scalars: (0..<8).map(Float.init))
        let tape = Tape()
        #expect(tape.leaf(x).gathered(axis: 1, indices: [3, 0, 3]).value.scalars == [6, 7, 0, 1, 6, 7])
        var rng = RandomSource(seed: 5)
        let failures = GradientCheck().failures(inputs: [Tensor.normal(shape: [2, 4, 3], using: &rng)]) { $0[0].gathered(axis: 1, indices: [2, 0, 2]) }
        #expect(failures.isEmpty)
    }

    @Test func channelScaleShiftGradients() {
        var rng = RandomSource(seed: 6)
        let inputs = [Tensor.normal(shape: [2, 3, 2, 2], using: &rng), Tensor.normal(shape: [3], using: &rng), Tensor.normal(shape: [3], using: &rng)]
        let tape = Tape()
        let y = tape.leaf(inputs[0]).channelScaleShift(weight: tape.leaf(inputs[1]), bias: tape.leaf(inputs[2])).value
        #expect(abs(y.scalars[5] - (inputs[0].scalars[5] * inputs[1].scalars[1] + inputs[2].scalars[1])) < 1e-6)
        #expect(GradientCheck().failures(inputs: inputs) { $0[0].channelScaleShift(weight: $0[1], bias: $0[2]) }.isEmpty)
    }
}
