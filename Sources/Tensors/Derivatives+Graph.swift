import Foundation

// Operations that graph models add to the chain's: adaptive average pooling, element-wise sums
// of several inputs. Each has its derivative beside it and a finite-difference check in
// TensorsTests.

extension Variable {
    /// Adaptive average pooling of an NCHW input to `outputHeight × outputWidth` (PyTorch's
    /// `F.adaptive_avg_pool2d`): output row `i` averages input rows `⌊i·H/oh⌋ ..< ⌈(i+1)·H/oh⌉`,
    /// columns likewise. `1 × 1` is global average pooling.
    public func adaptiveAvgPool2d(outputHeight: Int, outputWidth: Int) -> Variable {
        let x = value
        precondition(x.rank == 4 && outputHeight >= 1 && outputWidth >= 1, "adaptiveAvgPool2d: input \(x.shape) to \(outputHeight)×\(outputWidth)")
        let y = Kernels.adaptiveAvgPool2d(x, outputHeight: outputHeight, outputWidth: outputWidth)
        return tape.record(y, inputs: [self]) { dy, _ in [Kernels.adaptiveAvgPool2dBackward(dy, inputShape: x.shape)] }
    }

    /// The element-wise sum of variables of equal shape, in order (`a + b + c`, rounded left
    /// to right); every input's gradient is the output's.
    public static func sum(_ terms: [Variable]) -> Variable {
        precondition(!terms.isEmpty, "a sum of no terms")
        let first = terms[0].value
        precondition(terms.allSatisfy { $0.shape == first.shape }, "sum: shapes \(terms.map(\.shape))")
        var total = first
        for term in terms.dropFirst() { total.add(term.value) }
        return terms[0].tape.record(total, inputs: terms) { dy, needed in needed.map { $0 ? dy : nil } }
    }
}

extension Kernels {
    /// The window of adaptive pooling's output index `i` of `outputs` over `inputs` positions.
    @inline(__always) static func adaptiveWindow(_ i: Int, _ outputs: Int, _ inputs: Int) -> Range<Int> {
        (i * inputs / outputs)..<(((i + 1) * inputs + outputs - 1) / outputs)
    }

    /// `Variable.adaptiveAvgPool2d`'s forward pass: x `[N, C, H, W]` → `[N, C, oh, ow]`.
    public static func adaptiveAvgPool2d(_ x: Tensor, outputHeight oh: Int, outputWidth ow: Int) -> Tensor {
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        var y = Tensor(shape: [x.shape[0], x.shape[1], oh, ow])
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeMutableBufferPointer { py in
                for p in 0..<planes {
                    for i in 0..<oh {
                        let rows = adaptiveWindow(i, oh, h)
                        for j in 0..<ow {
                            let columns = adaptiveWindow(j, ow, w)
                            var sum: Float = 0
                            for r in rows { for c in columns { sum += px[(p * h + r) * w + c] } }
                            py[(p * oh + i) * ow + j] = sum / Float(rows.count * columns.count)
                        }
                    }
                }
            }
        }
        return y
    }

    /// The adjoint of `adaptiveAvgPool2d`: each output gradient spread evenly over its window.
    public static func adaptiveAvgPool2dBackward(_ dy: Tensor, inputShape: [Int]) -> Tensor {
        let (planes, h, w) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
        let (oh, ow) = (dy.shape[2], dy.shape[3])
        var dx = Tensor(shape: inputShape)
        dy.scalars.withUnsafeBufferPointer { pdy in
            dx.scalars.withUnsafeMutableBufferPointer { pdx in
                for p in 0..<planes {
                    for i in 0..<oh {
                        let rows = adaptiveWindow(i, oh, h)
                        for j in 0..<ow {
                            let columns = adaptiveWindow(j, ow, w)
                            let share = pdy[(p * oh + i) * ow + j] / Float(rows.count * columns.count)
                            for r in rows { for c in columns { pdx[(p * h + r) * w + c] += share } }
                        }
                    }
                }
            }
        }
        return dx
    }
}
