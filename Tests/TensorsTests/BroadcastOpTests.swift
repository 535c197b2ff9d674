import Foundation
import Tensors
import Testing

/// Broadcasting element-wise operations, reductions over axes, clipping and expansion: NumPy's
/// rules on hand-written cases and finite-difference checks of every derivative.
@Suite struct BroadcastOpTests {
    func expectPasses(
        _ inputs: [Tensor], check: GradientCheck = GradientCheck(), sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Variable]) -> Variable
    ) {
        let failures = check.failures(inputs: inputs, f)
        #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(String(describing: failures.first))", sourceLocation: sourceLocation)
    }

    @Test func broadcastShapesFollowNumPy() {
        #expect(Broadcast.shape([2, 3, 4], [4]) == [2, 3, 4])
        #expect(Broadcast.shape([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(Broadcast.shape([], [5]) == [5])
        #expect(Broadcast.shape([2, 3], [3, 2]) == nil)
        #expect(Broadcast.shape([1], [0]) == [0])
    }

    /// Each element against the loop NumPy's rules describe.
    @Test func binaryOperationsMatchTheirDefinition() {
        var rng = RandomSource(seed: 11)
        let cases: [([Int], [Int])] = [([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([3, 1, 1], [1, 2, 5]), ([], [2, 2]), ([2, 3], [2, 3]), ([4, 1], [])]
        for (sa, sb) in cases {
            let a = Tensor.uniform(shape: sa, low: 0.5, high: 2, using: &rng), b = Tensor.uniform(shape: sb, low: 0.5, high: 2, using: &rng)
            let shape = Broadcast.shape(sa, sb)!
            for op in BinaryOperation.allCases {
                let y = Kernels.broadcasting(op, a, b)
                #expect(y.shape == shape)
                var index = [Int](repeating: 0, count: shape.count)
                for flat in 0..<y.count {
                    func element(_ t: Tensor) -> Float {
                        var offset = 0
                        for (axis, extent) in t.shape.enumerated() {
                            offset = offset * extent + (extent == 1 ? 0 : index[axis + shape.count - t.shape.count])
                        }
                        return t.scalars[offset]
                    }
                    let (p, q) = (element(a), element(b))
                    let expected: Float =
                        switch op {
                        case .add: p + q
                        case .subtract: p - q
                        case .multiply: p * q
                        case .divide: p / q
                        case .power: pow(p, q)
                        case .maximum: max(p, q)
                        case .minimum: min(p, q)
                        }
                    #expect(y.scalars[flat] == expected, "\(op) \(sa) \(sb) at \(index)")
                    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                        index[axis] += 1
                        if index[axis] < shape[axis] { break }
                        index[axis] = 0
                    }
                }
            }
        }
    }

    @Test func binaryGradients() {
        var rng = RandomSource(seed: 12)
        for (sa, sb) in [([2, 3, 4], [4]), ([2, 1, 3], [4, 1]), ([3], []), ([2, 3], [2, 3])] as [([Int], [Int])] {
            let a = Tensor.uniform(shape: sa, low: 0.5, high: 2, using: &rng), b = Tensor.uniform(shape: sb, low: 0.5, high: 2, using: &rng)
            for op in [BinaryOperation.add, .subtract, .multiply, .divide, .power] {
                expectPasses([a, b]) { $0[0].broadcasting(op, $0[1]) }
            }
        }
        // Maximum and minimum away from ties (the derivative jumps there).
        let a = Tensor(shape: [2, 3], scalars: [0.1, 2, -1, 3, -2, 0.5]), b = Tensor(shape: [3], scalars: [1, 0.4, -0.3])
        expectPasses([a, b]) { $0[0].broadcasting(.maximum, $0[1]) }
        expectPasses([a, b]) { $0[0].broadcasting(.minimum, $0[1]) }
    }

    @Test func unaryOperationsAndTheirGradients() {
        var rng = RandomSource(seed: 13)
        let x = Tensor.uniform(shape: [3, 5], low: 0.3, high: 2, using: &rng)
        for op in UnaryOperation.allCases where op != .floor && op != .ceil {
            expectPasses([x]) { $0[0].applying(op) }
        }
        let tape = Tape()
        #expect(
            tape.leaf(Tensor(shape: [3], scalars: [0, 0.5, -1])).applying(.erf).value.maxAbsDifference(Tensor(shape: [3], scalars: [0, 0.5204999, -0.8427008]))
                < 1e-6)
        #expect(tape.leaf(Tensor(shape: [2], scalars: [-1.5, 1.5])).applying(.floor).value.scalars == [-2, 1])
        // Floor and ceil are flat: their gradient is zero.
        let floorTape = Tape()
        let leaf = floorTape.leaf(x, requiresGradient: true)
        floorTape.backward(from: leaf.applying(.ceil).sum())
        #expect(floorTape.gradient(of: leaf)!.scalars.allSatisfy { $0 == 0 })
    }

    @Test func clippingPassesGradientsInsideTheBounds() {
        let x = Tensor(shape: [6], scalars: [-2, -0.5, 0.2, 0.7, 1.5, 3])
        let tape = Tape()
        let leaf = tape.leaf(x, requiresGradient: true)
        let y = leaf.clipped(lower: -1, upper: 1)
        #expect(y.value.scalars == [-1, -0.5, 0.2, 0.7, 1, 1])
        tape.backward(from: y.sum())
        #expect(tape.gradient(of: leaf)!.scalars == [0, 1, 1, 1, 0, 0])
        #expect(tape.leaf(x).clipped(lower: nil, upper: 0).value.scalars == [-2, -0.5, 0, 0, 0, 0])
        expectPasses([Tensor(shape: [4], scalars: [-3, -0.4, 0.6, 2.5])]) { $0[0].clipped(lower: -1, upper: 1) }
    }

    @Test func sumsOverAxesAndExpansion() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let tape = Tape()
        #expect(tape.leaf(x).summed(axes: [0]).value == Tensor(shape: [1, 3], scalars: [5, 7, 9]))
        #expect(tape.leaf(x).summed(axes: [1]).value == Tensor(shape: [2, 1], scalars: [6, 15]))
        #expect(tape.leaf(x).summed(axes: [0, 1]).value == Tensor(shape: [1, 1], scalars: [21]))
        let column = Tensor(shape: [2, 1], scalars: [1, 2])
        #expect(tape.leaf(column).expanded(to: [3, 2, 2]).value.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2])
        var rng = RandomSource(seed: 14)
        let t = Tensor.normal(shape: [2, 3, 4], using: &rng)
        expectPasses([t]) { $0[0].summed(axes: [1]) }
        expectPasses([t]) { $0[0].summed(axes: [0, 2]) }
        expectPasses([Tensor.normal(shape: [3, 1], using: &rng)]) { $0[0].expanded(to: [2, 3, 4]) }
    }
}
