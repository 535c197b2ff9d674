import Foundation
import Layers
import Tensors
import Testing

/// Optimizer updates against hand-computed sequences of PyTorch's update rules.
@Suite struct OptimizerTests {
    func parameter(_ values: [Float], gradient: [Float]) -> Parameter {
        let p = Parameter(name: "w", value: Tensor(shape: [values.count], scalars: values))
        p.gradient = Tensor(shape: [gradient.count], scalars: gradient)
        return p
    }

    @Test func sgdWithMomentumAndWeightDecay() {
        let p = parameter([1], gradient: [0.5])
        let sgd = SGDSpec(lr: 0.1, momentum: 0.9, weightDecay: 0.01).makeOptimizer()
        // step 1: g = 0.5 + 0.01·1 = 0.51; b = g; θ = 1 − 0.1·0.51 = 0.949
        sgd.step([p])
        #expect(abs(p.value.scalars[0] - 0.949) < 1e-6)
        // step 2: g = 0.5 + 0.01·0.949 = 0.50949; b = 0.9·0.51 + 0.50949 = 0.96849; θ = 0.949 − 0.096849
        sgd.step([p])
        #expect(abs(p.value.scalars[0] - (0.949 - 0.096849)) < 1e-6)
    }

    @Test func nesterovUsesLookAhead() {
        let p = parameter([0], gradient: [1])
        let sgd = SGDSpec(lr: 1, momentum: 0.5, nesterov: true).makeOptimizer()
        sgd.step([p])  // b = 1; update g + μb = 1.5
        #expect(p.value.scalars[0] == -1.5)
        sgd.step([p])  // b = 0.5 + 1 = 1.5; update 1 + 0.75 = 1.75
        #expect(p.value.scalars[0] == -3.25)
    }

    @Test func adamBiasCorrection() {
        // With bias correction the first step is lr · g / (|g| + ε), whatever the betas.
        let p = parameter([1, -2], gradient: [0.3, -4])
        let adam = AdamSpec(lr: 0.01).makeOptimizer()
        adam.step([p])
        #expect(abs(p.value.scalars[0] - (1 - 0.01)) < 1e-6)
        #expect(abs(p.value.scalars[1] - (-2 + 0.01)) < 1e-6)
        // Second step with gradient 0.1 for the first element:
        // m = 0.9·0.03 + 0.1·0.1 = 0.037 → m̂ = 0.037/0.19; v = 0.999·9e-5 + 0.001·0.01 = 1.0e-4 → v̂ = v/(1−0.999²)
        p.gradient = Tensor(shape: [2], scalars: [0.1, -4])
        adam.step([p])
        let mHat = 0.037 / 0.19, vHat = (0.999 * 9e-5 + 0.001 * 0.01) / (1 - 0.999 * 0.999)
        let expected = 0.99 - 0.01 * mHat / (vHat.squareRoot() + 1e-8)
        #expect(abs(Double(p.value.scalars[0]) - expected) < 1e-6)
    }

    @Test func adamUpdatesEveryElementOfALargeParameter() {
        // Large enough to be split over the job's threads: every element takes the first step
        // lr · g / (|g| + ε), with its own sign.
        let count = 200_003
        let gradient: [Float] = (0..<count).map { i in
            let size = Float(i % 7 + 1)
            return i % 2 == 0 ? size : -size
        }
        let p = parameter([Float](repeating: 1, count: count), gradient: gradient)
        AdamSpec(lr: 0.01).makeOptimizer().step([p])
        let expected: [Float] = gradient.map { $0 > 0 ? 0.99 : 1.01 }
        #expect(zip(p.value.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func adamLanesAreThePerElementRule() {
        // Three steps with weight decay on 1,003 elements (lanes of eight and a tail): bit for bit
        // PyTorch's rule written out one element at a time, in the same order of operations.
        let count = 1003, lr: Float = 0.01, b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8, decay: Float = 0.01
        var rng = RandomSource(seed: 6)
        var theta = (0..<count).map { _ in rng.normal() }
        let p = parameter(theta, gradient: theta)
        let adam = AdamSpec(lr: lr, weightDecay: decay).makeOptimizer()
        var m = [Float](repeating: 0, count: count), v = m
        for t in 1...3 {
            let g = (0..<count).map { _ in rng.normal() }
            p.gradient = Tensor(shape: [count], scalars: g)
            adam.step([p])
            let stepSize = lr / (1 - powf(b1, Float(t))), root = (1 - powf(b2, Float(t))).squareRoot()
            for i in 0..<count {
                let gi = g[i] + decay * theta[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                theta[i] -= stepSize * m[i] / (v[i].squareRoot() / root + eps)
            }
            #expect(p.value.scalars.map(\.bitPattern) == theta.map(\.bitPattern), "step \(t)")
        }
    }

    @Test func adamElementwiseUpdatesInAnyRangesAreTheStep() throws {
        // Three steps with weight decay: one Adam steps a parameter whole, another applies its
        // element-wise updates in uneven ranges taken out of order; the same bits every step.
        let count = 1003
        var rng = RandomSource(seed: 8)
        let start = (0..<count).map { _ in rng.normal() }
        let whole = parameter(start, gradient: start), blocks = parameter(start, gradient: start)
        let spec = AdamSpec(lr: 0.01, weightDecay: 0.01)
        let stepper = spec.makeOptimizer(), elementwise = try #require(spec.makeOptimizer() as? any ElementwiseOptimizer)
        let ranges = stride(from: 0, to: count, by: 37).map { $0..<min($0 + 37, count) }.reversed()
        for t in 1...3 {
            let g = Tensor(shape: [count], scalars: (0..<count).map { _ in rng.normal() })
            whole.gradient = g
            stepper.step([whole])
            let update = elementwise.beginStep(of: blocks, count: count)
            g.scalars.withUnsafeBufferPointer { pg in
                blocks.value.scalars.withUnsafeMutableBufferPointer { theta in
                    for range in ranges { update.apply(theta.baseAddress!, pg.baseAddress!, range) }
                }
            }
            #expect(blocks.value.scalars.map(\.bitPattern) == whole.value.scalars.map(\.bitPattern), "step \(t)")
        }
        #expect(whole.value.maxAbsDifference(Tensor(shape: [count], scalars: start)) > 0.01)
    }

    @Test func rangesAreChecked() {
        #expect(SGDSpec(lr: 0).problems().count == 1)
        #expect(SGDSpec(lr: 0.1, nesterov: true).problems() == ["nesterov needs momentum > 0"])
        #expect(AdamSpec(beta1: 1).problems().count == 1)
        #expect(AdamSpec().problems().isEmpty)
    }
}

@Suite struct ScheduleTests {
    @Test func ratesFollowPyTorchsFormulas() {
        #expect((0..<3).map { ConstantSchedule().rate(base: 0.1, epoch: $0, epochs: 3) } == [0.1, 0.1, 0.1])
        let step = (0..<5).map { StepSchedule(stepSize: 2, gamma: 0.5).rate(base: 0.4, epoch: $0, epochs: 5) }
        #expect(step == [0.4, 0.4, 0.2, 0.2, 0.1])
        let exponential = (0..<3).map { ExponentialSchedule(gamma: 0.5).rate(base: 1, epoch: $0, epochs: 3) }
        #expect(exponential == [1, 0.5, 0.25])
        // Cosine over 4 epochs from 1 to 0: (1 + cos(π e/4)) / 2 for e = 0…3.
        let cosine = (0..<4).map { CosineSchedule().rate(base: 1, epoch: $0, epochs: 4) }
        let expected: [Float] = [1, 0.8535534, 0.5, 0.14644662]
        #expect(zip(cosine, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(abs(CosineSchedule(etaMin: 0.1).rate(base: 1, epoch: 2, epochs: 4) - 0.55) < 1e-6)
        #expect(StepSchedule(stepSize: 0, gamma: 2).problems().count == 2)
    }
}
