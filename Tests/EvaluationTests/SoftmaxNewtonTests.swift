@testable import Evaluation
import Tensors
import Testing

@Suite struct SoftmaxNewtonTests {
    /// Counts how often the solver asks for features (one pass over the data costs count × classes).
    final class Counter { var calls = 0 }

    /// Temperature scaling of very large logits (|z| in the thousands): at the minimum the
    /// rounding of the gradient's sum (terms of that size) keeps it above 1e-9 while no step
    /// lowers the loss any more. The solver stops there after a few passes instead of running
    /// its 100 iterations of line searches, and the result is the minimum.
    @Test func stopsWhenRoundingLeavesNothingToGain() {
        let (z, labels) = CalibratorTests.overconfident(n: 5000, classes: 10, trueTemperature: 2, seed: 11)
        let logits = z * 1000
        let counter = Counter()
        let solver = SoftmaxNewton(count: labels.count, classes: 10, parameterCount: 1, labels: labels) { i, c in
            counter.calls += 1
            return [(0, logits.double(i, c))]
        }
        let theta = solver.minimise(from: [1])[0]
        let passes = counter.calls / (labels.count * 10)
        #expect(passes <= 200, "\(passes) passes over the data")
        // A minimum: neither neighbour is lower, and the generating temperature 2 (in units of
        // the unscaled logits) is recovered roughly.
        let best = solver.nll([theta])
        #expect(solver.nll([theta * (1 + 1e-6)]) >= best && solver.nll([theta * (1 - 1e-6)]) >= best)
        #expect(abs(1 / (theta * 1000) - 2) < 0.3, "temperature \(1 / (theta * 1000))")
    }
}
