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

@Suite struct MetricTests {
    // Three samples, four classes; labels 0, 2, 3.
    // Row 0: label's logit 0.9 is highest → top-1 and top-2 hit.
    // Row 1: label's logit 0.5 is second (0.7 higher) → top-2 hit only.
    // Row 2: label's logit 0.1 ties with one competitor and is below two → no hit up to top-2,
    //        top-3 also misses (three competitors ≥ 0.1).
    let logits = Tensor(
        shape: [3, 4],
        scalars: [
            0.9, 0.1, 0.2, 0.3,
            0.1, 0.7, 0.5, 0.0,
            0.6, 0.1, 0.4, 0.1,
        ])
    let labels = [0, 2, 3]

    func value(_ metric: any Metric) -> Double {
        var accumulator = metric.makeAccumulator()
        accumulator.add(logits: logits, labels: labels)
        return accumulator.value
    }

    @Test func topKInClosedForm() {
        #expect(value(Accuracy()) == 1.0 / 3)
        #expect(value(TopKAccuracy(k: 1)) == 1.0 / 3)
        #expect(value(TopKAccuracy(k: 2)) == 2.0 / 3)
        #expect(value(TopKAccuracy(k: 3)) == 2.0 / 3)
        #expect(TopKAccuracy(k: 2).name == "top_2_accuracy")
        #expect(TopKAccuracy(k: 10).problems(classCount: 10).first?.contains("below the number of classes (10)") == true)
        #expect(TopKAccuracy(k: 0).problems(classCount: 10) == ["k must be ≥ 1, got 0"])
    }

    @Test func crossEntropyMatchesTheReferenceLogSoftmax() {
        let reference = ReferenceKernels.logSoftmax(logits)
        let expected = -(Double(reference[0, 0]) + Double(reference[1, 2]) + Double(reference[2, 3])) / 3
        #expect(abs(value(CrossEntropy()) - expected) < 1e-6)
        #expect(!CrossEntropy().columns[0].higherIsBetter && Accuracy().columns[0].higherIsBetter)
    }

    @Test func accumulatorsMergeExactly() {
        for metric in [Accuracy(), TopKAccuracy(k: 2), CrossEntropy()] as [any Metric] {
            var first = metric.makeAccumulator(), second = metric.makeAccumulator()
            first.add(logits: logits.slice(0..<1), labels: [0])
            second.add(logits: logits.slice(1..<3), labels: [2, 3])
            first.merge(second)
            #expect(abs(first.value - value(metric)) < 1e-12, "\(metric.name)")
            #expect(metric.makeAccumulator().value.isNaN)
        }
    }
}
