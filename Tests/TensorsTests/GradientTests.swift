import Foundation
import Testing
import Tensors

/// Finite-difference checks of every derivative rule in `Derivatives.swift`.
@Suite struct GradientTests {
    let check = GradientCheck()

    /// Values spaced at least 0.05 apart in random order: no ties or kinks within the step.
    static func separated(_ shape: [Int], seed: UInt64, offset: Float = 0.5) -> Tensor {
        var rng = RandomSource(seed: seed)
        let count = shape.reduce(1, *)
        let order = rng.permutation(count)
        return Tensor(shape: shape, scalars: order.map { (Float($0) - Float(count) / 2) * 0.05 + offset * 0.025 })
    }

    static func normal(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
        var rng = RandomSource(seed: seed)
        return Tensor.normal(shape: shape, std: std, using: &rng)
    }

    func expectPasses(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Variable]) -> Variable) {
        let failures = check.failures(inputs: inputs, f)
        #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(String(describing: failures.first))", sourceLocation: sourceLocation)
    }

    @Test func linear() {
        expectPasses([Self.normal([4, 5], seed: 1), Self.normal([3, 5], seed: 2), Self.normal([3], seed: 3)]) {
            $0[0].linear(weight: $0[1], bias: $0[2])
        }
        expectPasses([Self.normal([2, 3], seed: 4), Self.normal([4, 3], seed: 5)]) { $0[0].linear(weight: $0[1], bias: nil) }
    }

    @Test func conv2d() {
        expectPasses([Self.normal([2, 2, 5, 6], seed: 6), Self.normal([3, 2, 3, 3], seed: 7, std: 0.5), Self.normal([3], seed: 8)]) {
            $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 1, padding: 1)
        }
        expectPasses([Self.normal([1, 2, 7, 7], seed: 9), Self.normal([2, 2, 3, 2], seed: 10, std: 0.5)]) {
            $0[0].conv2d(weight: $0[1], bias: nil, stride: 2, padding: 1)
        }
    }

    @Test func conv2dFusedWithMaxPooling() {
        expectPasses([Self.normal([2, 2, 6, 4], seed: 13), Self.normal([3, 2, 3, 3], seed: 14, std: 0.5), Self.normal([3], seed: 15)]) {
            $0[0].conv2dMaxPool2x2(weight: $0[1], bias: $0[2], stride: 1, padding: 1)
        }
        // Four channels: weight gradients through the dense products (fewer take the direct sums).
        expectPasses([Self.normal([2, 4, 4, 6], seed: 20), Self.normal([2, 4, 3, 3], seed: 21, std: 0.5), Self.normal([2], seed: 22)]) {
            $0[0].conv2dMaxPool2x2(weight: $0[1], bias: $0[2], stride: 1, padding: 1)
        }
        expectPasses([Self.normal([1, 1, 11, 7], seed: 16), Self.normal([2, 1, 3, 3], seed: 17, std: 0.5)]) {
            $0[0].conv2dMaxPool2x2(weight: $0[1], bias: nil, stride: 2, padding: 1)
        }
        // With the ReLU: biases of ±2 keep every pooled value far from the ReLU's kink (one channel
        // blocked, two passing), small weights keep the windows' maxima apart by more than the step.
        let bias = Tensor(shape: [3], scalars: [2, -2, 2])
        expectPasses([Self.normal([2, 2, 6, 4], seed: 18), Self.normal([3, 2, 3, 3], seed: 19, std: 0.1), bias]) {
            $0[0].conv2dMaxPool2x2(weight: $0[1], bias: $0[2], stride: 1, padding: 1, relu: true)
        }
    }

    @Test func pooling() {
        let x = Self.separated([2, 2, 6, 6], seed: 11)
        expectPasses([x]) { $0[0].maxPool2d(kernel: 2) }
        expectPasses([x]) { $0[0].maxPool2d(kernel: 3, stride: 2, padding: 1) }
        expectPasses([x]) { $0[0].avgPool2d(kernel: 2) }
        expectPasses([x]) { $0[0].avgPool2d(kernel: 3, stride: 2, padding: 1) }
    }

    @Test func elementwise() {
        let x = Self.separated([3, 4], seed: 12)  // no element within the step of 0
        let y = Self.normal([3, 4], seed: 13)
        expectPasses([x]) { $0[0].relu() }
        expectPasses([x]) { $0[0].masked(by: Tensor(shape: [3, 4], scalars: (0..<12).map { $0 % 3 == 0 ? 0 : 1.25 })) }
        expectPasses([x, y]) { $0[0] + $0[1] }
        expectPasses([x, y]) { $0[0] * $0[1] }
        expectPasses([x]) { $0[0].scaled(by: -2.5) }
        expectPasses([x]) { $0[0].sum() }
        expectPasses([x]) { $0[0].mean() }
        expectPasses([x]) { $0[0].reshaped([2, 6]) }
        expectPasses([Self.normal([2, 3, 2, 2], seed: 14)]) { $0[0].channelAffine(scale: [2, -1, 0.5], shift: [1, 0, -3]) }
    }

    @Test func batchNorm() {
        let x = Self.normal([3, 2, 3, 3], seed: 15, std: 2)
        let gamma = Tensor(shape: [2], scalars: [1.5, -0.7]), beta = Tensor(shape: [2], scalars: [0.3, 0.1])
        let loose = GradientCheck(step: 1e-2, absoluteTolerance: 5e-3, relativeTolerance: 3e-2)
        let train = loose.failures(inputs: [x, gamma, beta]) { $0[0].batchNorm2d(gamma: $0[1], beta: $0[2], epsilon: 1e-5).output }
        #expect(train.isEmpty, "training mode: \(train.count) mismatches, first: \(String(describing: train.first))")
        expectPasses([x, gamma, beta]) {
            $0[0].batchNorm2d(gamma: $0[1], beta: $0[2], epsilon: 1e-5, statistics: ([0.2, -0.4], [1.3, 0.6])).output
        }
        // Fixed statistics and constant γ, β (an attack's pass): one affine map, the same
        // values as with γ and β as gradient leaves, and its input gradient.
        let statistics: (mean: [Float], variance: [Float]) = ([0.2, -0.4], [1.3, 0.6])
        let tape = Tape()
        let constant = tape.leaf(x).batchNorm2d(gamma: tape.leaf(gamma), beta: tape.leaf(beta), epsilon: 1e-5, statistics: statistics).output
        let learned = tape.leaf(x).batchNorm2d(
            gamma: tape.leaf(gamma, requiresGradient: true), beta: tape.leaf(beta, requiresGradient: true), epsilon: 1e-5, statistics: statistics
        ).output
        #expect(constant.value.maxAbsDifference(learned.value) < 1e-5)
        expectPasses([x]) { $0[0].batchNorm2d(gamma: $0[0].tape.leaf(gamma), beta: $0[0].tape.leaf(beta), epsilon: 1e-5, statistics: statistics).output }
    }

    @Test func softmaxFamily() {
        let logits = Self.normal([4, 5], seed: 16, std: 2)
        expectPasses([logits]) { $0[0].logSoftmax() }
        expectPasses([logits]) { $0[0].softmax() }
        for reduction in [Reduction.mean, .sum, .none] {
            expectPasses([logits]) { $0[0].crossEntropy(labels: [0, 4, 2, 2], reduction: reduction) }
        }
    }

    @Test func regressionLosses() {
        let outputs = Self.normal([4, 6], seed: 18)
        let targets = Self.normal([4, 3], seed: 19)
        for reduction in [Reduction.mean, .sum, .none] {
            expectPasses([Self.normal([4, 3], seed: 20)]) { $0[0].meanSquaredError(targets: targets, reduction: reduction) }
            expectPasses([outputs]) { $0[0].gaussianNegativeLogLikelihood(targets: targets, reduction: reduction) }
        }
    }

    @Test func regressionLossValues() {
        // Closed forms: MSE of errors (1, −2) over T = 2 is 2.5; the Gaussian NLL of a target one
        // standard deviation (σ² = e) from the mean is ½(1 + 1/e·e) + ½ log 2π = 1 + ½ log 2π.
        let tape = Tape()
        let mse = tape.leaf(Tensor(shape: [1, 2], scalars: [1, 0])).meanSquaredError(targets: Tensor(shape: [1, 2], scalars: [0, 2]))
        #expect(abs(mse.value.scalars[0] - 2.5) < 1e-6)
        let e = Float(M_E)
        let nll = tape.leaf(Tensor(shape: [1, 2], scalars: [0.5, 1])).gaussianNegativeLogLikelihood(
            targets: Tensor(shape: [1, 1], scalars: [0.5 + sqrtf(e)]))
        #expect(abs(Double(nll.value.scalars[0]) - (1 + 0.5 * log(2 * Double.pi))) < 1e-5)
    }

    @Test func checkerCatchesAWrongDerivative() {
        // A deliberately wrong rule (derivative of 2x claimed as x) must be reported.
        let failures = check.failures(inputs: [Self.normal([3], seed: 17)]) { v in
            v[0].tape.record(v[0].value * 2, inputs: [v[0]]) { dy, _ in [dy] }
        }
        #expect(failures.count == 3)
    }
}

@Suite struct TapeTests {
    @Test func reusedVariableAccumulatesGradient() {
        let tape = Tape()
        let x = tape.leaf(Tensor(shape: [2], scalars: [3, -1]), requiresGradient: true)
        let y = (x * x + x).sum()  // d/dx (x² + x) = 2x + 1
        tape.backward(from: y)
        #expect(tape.gradient(of: x)?.scalars == [7, -1])
    }

    @Test func constantsGetNoGradientAndSkipWork() {
        let tape = Tape()
        let data = tape.leaf(Tensor(shape: [2, 3], repeating: 1))
        let weight = tape.leaf(Tensor(shape: [4, 3], repeating: 0.5), requiresGradient: true)
        let loss = data.linear(weight: weight, bias: nil).sum()
        tape.backward(from: loss)
        #expect(tape.gradient(of: data) == nil)
        #expect(tape.gradient(of: weight)?.scalars == [Float](repeating: 2, count: 12))
        let frozen = Tape()
        let out = frozen.leaf(Tensor(shape: [1], scalars: [2])).scaled(by: 3)
        #expect(!frozen.requiresGradient(out))
    }
}

@Suite struct RandomSourceTests {
    @Test func sameSeedSameStreamAndDerivedStreamsDiffer() {
        var a = RandomSource(seed: 42), b = RandomSource(seed: 42)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var init1 = RandomSource(seed: 42).derived("init"), shuffle = RandomSource(seed: 42).derived("shuffle")
        #expect(init1.next() != shuffle.next())
        #expect(RandomSource.deriveSeed(42, "init") == RandomSource.deriveSeed(42, "init"))
    }

    @Test func normalAndUniformHaveTheirMoments() {
        var rng = RandomSource(seed: 9)
        let n = Tensor.normal(shape: [20000], using: &rng)
        let mean = n.sum() / 20000
        let variance = n.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / 20000 - mean * mean
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        let u = Tensor.uniform(shape: [20000], using: &rng)
        #expect(u.scalars.allSatisfy { $0 >= 0 && $0 < 1 } && abs(u.sum() / 20000 - 0.5) < 0.01)
        #expect(Set(rng.permutation(50)) == Set(0..<50))
    }

    /// The batched draw (transform split over threads) is the one-by-one draw, bit for bit, and
    /// leaves the generator where the one-by-one draws leave it.
    @Test(arguments: [0, 1, 7, 50_000, 150_001]) func normalsAreOneNormalAfterAnother(count: Int) {
        var batched = RandomSource(seed: 11), single = RandomSource(seed: 11)
        let samples = batched.normals(count: count)
        #expect(samples.map(\.bitPattern) == (0..<count).map { _ in single.normal().bitPattern })
        #expect(batched.next() == single.next())
    }

    /// Batch slices and their concatenation: rows in order, the inverse of each other.
    @Test func slicesConcatenateBackToTheBatch() {
        let batch = Tensor(shape: [5, 2, 3], scalars: (0..<30).map(Float.init))
        let parts = [batch.slice(0..<2), batch.slice(2..<2), batch.slice(2..<5)]
        #expect(parts.map(\.shape) == [[2, 2, 3], [0, 2, 3], [3, 2, 3]])
        #expect(parts[2].scalars == (12..<30).map(Float.init))
        #expect(Tensor(concatenating: parts) == batch)
        #expect(batch.slice(0..<5) == batch && batch.slice(1..<5).scalars.first == 6)
    }

    /// Part of a dropout mask is that part of the whole mask, and the generator ends where the
    /// whole mask leaves it.
    @Test func dropoutMaskElementsAreThatPartOfTheWholeMask() {
        var whole = RandomSource(seed: 12)
        let mask = whole.dropoutMask(count: 1000, p: 0.3, keep: 1 / 0.7)
        // 300 dropped expected, standard deviation √(1000·0.3·0.7) ≈ 14.5: within 5 of them.
        #expect(Set(mask) == [0, 1 / 0.7] && abs(mask.filter { $0 == 0 }.count - 300) < 73)
        for range in [0..<1000, 0..<10, 990..<1000, 333..<667, 500..<500] {
            var part = RandomSource(seed: 12)
            #expect(part.dropoutMask(count: 1000, p: 0.3, keep: 1 / 0.7, elements: range) == Array(mask[range]), "\(range)")
            var after = whole
            #expect(part.next() == after.next(), "\(range)")
        }
    }
}
