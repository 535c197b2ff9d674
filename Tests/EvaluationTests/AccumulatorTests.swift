import Evaluation
import Foundation
import Tensors
import Testing

@Suite struct AccumulatorTests {
    @Test func accuracyAndLossInClosedForm() {
        // Row 0: logits (0, log 3) → p = (1/4, 3/4), label 1: correct, loss −log(3/4).
        // Row 1: logits (0, 0) → tie, predicted class 0 (lowest index), label 1: wrong, loss log 2.
        // Row 2: logits (2, 0) → label 0: correct, loss log(1 + e⁻²).
        let logits = Tensor(shape: [3, 2], scalars: [0, Float(log(3.0)), 0, 0, 2, 0])
        var accumulator = ClassificationAccumulator()
        accumulator.add(logits: logits, labels: [1, 1, 0])
        #expect(accumulator.predictions == [1, 0, 0])
        #expect(abs(accumulator.accuracy - 2.0 / 3) < 1e-12)
        let expected = (-log(0.75) + log(2.0) + log(1 + exp(-2.0))) / 3
        #expect(abs(accumulator.meanLoss - expected) < 1e-6)
    }

    @Test func mergingEqualsOnePass() {
        var rng = RandomSource(seed: 1)
        let logits = Tensor.normal(shape: [10, 4], using: &rng)
        let labels = (0..<10).map { $0 % 4 }
        var whole = ClassificationAccumulator()
        whole.add(logits: logits, labels: labels)
        var first = ClassificationAccumulator(), second = ClassificationAccumulator()
        first.add(logits: logits.slice(0..<3), labels: Array(labels[0..<3]))
        second.add(logits: logits.slice(3..<10), labels: Array(labels[3..<10]))
        first.merge(second)
        #expect(first.correct == whole.correct && first.predictions == whole.predictions)
        #expect(abs(first.meanLoss - whole.meanLoss) < 1e-9)
        #expect(ClassificationAccumulator().accuracy.isNaN)
    }
}
