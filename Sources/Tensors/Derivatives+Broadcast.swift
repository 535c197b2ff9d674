import Foundation

// Element-wise operations with NumPy broadcasting, reductions over axes and clipping, each with
// its derivative (finite-difference checks in TensorsTests): the general operations that
// imported graphs (ONNX) are made of.

extension Variable {
    /// `op(self, other)` element-wise with broadcasting (`Broadcast.shape`); each operand's
    /// gradient is summed over the axes broadcasting stretched.
    public func broadcasting(_ op: BinaryOperation, _ other: Variable) -> Variable {
        let a = value, b = other.value
        let y = Kernels.broadcasting(op, a, b)
        let shape = y.shape
        return tape.record(y, inputs: [self, other]) { dy, needed in
            var da: Tensor?, db: Tensor?
            switch op {
            case .add:
                if needed[0] { da = Kernels.summed(dy, toShape: a.shape) }
                if needed[1] { db = Kernels.summed(dy, toShape: b.shape) }
            case .subtract:
                if needed[0] { da = Kernels.summed(dy, toShape: a.shape) }
                if needed[1] { db = Kernels.summed(dy * -1, toShape: b.shape) }
            case .multiply:
                if needed[0] { da = Kernels.summed(Kernels.broadcasting(dy, b, into: shape, *), toShape: a.shape) }
                if needed[1] { db = Kernels.summed(Kernels.broadcasting(dy, a, into: shape, *), toShape: b.shape) }
            case .divide:
                if needed[0] { da = Kernels.summed(Kernels.broadcasting(dy, b, into: shape, /), toShape: a.shape) }
                if needed[1] {
                    // d(a/b)/db = −(a/b)/b = −y/b
                    let yOverB = Kernels.broadcasting(y, b, into: shape, /)
                    db = Kernels.summed(Kernels.broadcasting(dy, yOverB, into: shape) { -$0 * $1 }, toShape: b.shape)
                }
            case .maximum, .minimum:
                // The gradient goes to the operand that gave the result (to the first on ties).
                let picksA: (Float, Float) -> Bool = op == .maximum ? { $0 >= $1 } : { $0 <= $1 }
                if needed[0] {
                    let mask = Kernels.broadcasting(Kernels.expanded(a, to: shape), b, into: shape) { picksA($0, $1) ? 1 : 0 }
                    da = Kernels.summed(Kernels.broadcasting(dy, mask, into: shape, *), toShape: a.shape)
                }
                if needed[1] {
                    let mask = Kernels.broadcasting(Kernels.expanded(a, to: shape), b, into: shape) { picksA($0, $1) ? 0 : 1 }
                    db = Kernels.summed(Kernels.broadcasting(dy, mask, into: shape, *), toShape: b.shape)
                }
            case .power:
                if needed[0] {
                    // b · a^(b−1) = b · y / a, written without the division so a = 0 works.
                    let slope = Kernels.broadcasting(a, b, into: shape) { x, p in p == 0 ? 0 : p * Foundation.pow(x, p - 1) }
                    da = Kernels.summed(Kernels.broadcasting(dy, slope, into: shape, *), toShape: a.shape)
                }
                if needed[1] {
                    // a^b · ln a (0 where a^b is 0).
                    let slope = Kernels.broadcasting(y, Kernels.expanded(a, to: shape), into: shape) { p, x in p == 0 ? 0 : p * Foundation.log(x) }
                    db = Kernels.summed(Kernels.broadcasting(dy, slope, into: shape, *), toShape: b.shape)
                }
            }
            return [da, db]
        }
    }

    /// `op(self)` element-wise.
    public func applying(_ op: UnaryOperation) -> Variable {
        let x = value
        let y = Tensor(shape: x.shape, scalars: x.scalars.map { op.apply($0) })
        return tape.record(y, inputs: [self]) { dy, _ in
            var dx = Tensor.unfilled(shape: x.shape)
            dx.scalars.withUnsafeMutableBufferPointer { pd in
                for i in 0..<x.count { pd[i] = dy.scalars[i] * op.derivative(x.scalars[i], y.scalars[i]) }
            }
            return [dx]
        }
    }

    /// The elements clamped to `[lower, upper]` (either bound optional); the gradient passes
    /// where `lower ≤ x ≤ upper` (PyTorch's `clamp`).
    public func clipped(lower: Float?, upper: Float?) -> Variable {
        let x = value
        let lo = lower ?? -.infinity, hi = upper ?? .infinity
        let y = Tensor(shape: x.shape, scalars: x.scalars.map { Swift.min(Swift.max($0, lo), hi) })
        return tape.record(y, inputs: [self]) { dy, _ in
            [Tensor(shape: x.shape, scalars: zip(dy.scalars, x.scalars).map { $1 >= lo && $1 <= hi ? $0 : 0 })]
        }
    }

    /// The sum over `axes`, keeping them with extent 1 (`keepdims`); reshape to drop them.
    public func summed(axes: Set<Int>) -> Variable {
        let x = value
        precondition(axes.allSatisfy { $0 >= 0 && $0 < x.rank }, "summed: axes \(axes.sorted()) of \(x.shape)")
        return tape.record(Kernels.summed(x, axes: axes), inputs: [self]) { dy, _ in [Kernels.expanded(dy, to: x.shape)] }
    }

    /// `self` repeated along its axes of extent 1 (and new leading axes) to `shape`; the
    /// gradient is summed back.
    public func expanded(to shape: [Int]) -> Variable {
        let x = value
        precondition(Broadcast.shape(x.shape, shape) == shape, "expanded: \(x.shape) does not broadcast to \(shape)")
        return tape.record(Kernels.expanded(x, to: shape), inputs: [self]) { dy, _ in [Kernels.summed(dy, toShape: x.shape)] }
    }
}
