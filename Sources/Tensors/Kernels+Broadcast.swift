import Foundation

/// NumPy broadcasting (ONNX's multidirectional broadcasting): shapes are aligned at their last
/// axes, missing leading axes count as 1, and an axis of extent 1 stretches to the other's.
public enum Broadcast {
    /// The broadcast shape of `a` and `b`, or nil when an axis differs and neither is 1.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : 1
            let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : 1
            guard x == y || x == 1 || y == 1 else { return nil }
            out[axis] = x == 1 ? y : x
        }
        return out
    }

    /// Element strides of a tensor of `shape` read at the indices of `output` (a shape it
    /// broadcasts to): 0 along stretched and missing axes.
    static func strides(of shape: [Int], in output: [Int]) -> [Int] {
        let offset = output.count - shape.count
        var strides = [Int](repeating: 0, count: output.count)
        var step = 1
        for axis in Swift.stride(from: shape.count - 1, through: 0, by: -1) {
            if shape[axis] != 1 { strides[axis + offset] = step }
            step *= shape[axis]
        }
        return strides
    }

    /// Axes of `output` merged where every operand's strides allow it (longer inner loops):
    /// the merged extents and each operand's merged strides, innermost last.
    static func coalesced(_ output: [Int], _ operands: [[Int]]) -> (extents: [Int], strides: [[Int]]) {
        var extents: [Int] = []
        var strides = [[Int]](repeating: [], count: operands.count)
        for axis in output.indices where output[axis] != 1 {
            if let last = extents.last,
                operands.indices.allSatisfy({ strides[$0].last! == operands[$0][axis] * output[axis] })
            {
                extents[extents.count - 1] = last * output[axis]
                for k in operands.indices { strides[k][strides[k].count - 1] = operands[k][axis] }
                continue
            }
            extents.append(output[axis])
            for k in operands.indices { strides[k].append(operands[k][axis]) }
        }
        if extents.isEmpty {
            extents = [1]
            for k in operands.indices { strides[k] = [0] }
        }
        return (extents, strides)
    }

    /// Calls `body(offsets, count, innerStrides)` for every run of the innermost merged axis of
    /// `output`, with each operand's element offset at the run's start.
    static func forEachRun(
        _ output: [Int], operandShapes: [[Int]], _ body: (_ offsets: [Int], _ count: Int, _ innerStrides: [Int]) -> Void
    ) {
        let (extents, strides) = coalesced(output, operandShapes.map { Self.strides(of: $0, in: output) })
        let inner = extents.count - 1
        let innerStrides = strides.map { $0[inner] }
        var index = [Int](repeating: 0, count: inner)
        var offsets = [Int](repeating: 0, count: strides.count)
        let runs = extents[..<inner].reduce(1, *)
        for _ in 0..<runs {
            body(offsets, extents[inner], innerStrides)
            // Next multi-index over the outer axes, updating the offsets incrementally.
            var axis = inner - 1
            while axis >= 0 {
                index[axis] += 1
                for k in offsets.indices { offsets[k] += strides[k][axis] }
                if index[axis] < extents[axis] { break }
                for k in offsets.indices { offsets[k] -= strides[k][axis] * extents[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// Element-wise binary operations with broadcasting, as ONNX defines them.
public enum BinaryOperation: String, Sendable, CaseIterable {
    case add, subtract, multiply, divide, power, maximum, minimum

    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .power: Foundation.pow(a, b)
        case .maximum: a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
        case .minimum: a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        }
    }
}

/// Element-wise unary functions with their derivatives.
public enum UnaryOperation: String, Sendable, CaseIterable {
    case negate, reciprocal, squareRoot, exp, log, abs, erf, floor, ceil, sin, cos

    @inline(__always) func apply(_ x: Float) -> Float {
        switch self {
        case .negate: -x
        case .reciprocal: 1 / x
        case .squareRoot: x.squareRoot()
        case .exp: Foundation.exp(x)
        case .log: Foundation.log(x)
        case .abs: Swift.abs(x)
        case .erf: Foundation.erf(x)
        case .floor: x.rounded(.down)
        case .ceil: x.rounded(.up)
        case .sin: Foundation.sin(x)
        case .cos: Foundation.cos(x)
        }
    }

    /// dy/dx at `x`, given `y = f(x)`.
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .negate: -1
        case .reciprocal: -y * y
        case .squareRoot: 0.5 / y
        case .exp: y
        case .log: 1 / x
        case .abs: x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .erf: 1.1283791670955126 * Foundation.exp(-x * x)  // 2/√π · e^(−x²)
        case .floor, .ceil: 0
        case .sin: Foundation.cos(x)
        case .cos: -Foundation.sin(x)
        }
    }
}

extension Kernels {
    /// `op(a, b)` element-wise with broadcasting; the shapes must broadcast (`Broadcast.shape`).
    public static func broadcasting(_ op: BinaryOperation, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let shape = Broadcast.shape(a.shape, b.shape) else {
            preconditionFailure("broadcasting: shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        return broadcasting(a, b, into: shape) { op.apply($0, $1) }
    }

    /// `f(a, b)` element-wise into a tensor of `shape` (the broadcast shape of `a` and `b`).
    static func broadcasting(_ a: Tensor, _ b: Tensor, into shape: [Int], _ f: (Float, Float) -> Float) -> Tensor {
        var out = Tensor.unfilled(shape: shape)
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                out.scalars.withUnsafeMutableBufferPointer { po in
                    var o = 0
                    Broadcast.forEachRun(shape, operandShapes: [a.shape, b.shape]) { offsets, count, strides in
                        var i = offsets[0], j = offsets[1]
                        for _ in 0..<count {
                            po[o] = f(pa[i], pb[j])
                            o += 1
                            i += strides[0]
                            j += strides[1]
                        }
                    }
                }
            }
        }
        return out
    }

    /// `g` (of a shape `shape` broadcasts to) summed over the axes that broadcasting stretched or
    /// added, giving a tensor of `shape`: the gradient of a broadcast operand.
    public static func summed(_ g: Tensor, toShape shape: [Int]) -> Tensor {
        if g.shape == shape { return g }
        var out = Tensor(shape: shape)
        g.scalars.withUnsafeBufferPointer { pg in
            out.scalars.withUnsafeMutableBufferPointer { po in
                var source = 0
                Broadcast.forEachRun(g.shape, operandShapes: [shape]) { offsets, count, strides in
                    var j = offsets[0]
                    for _ in 0..<count {
                        po[j] += pg[source]
                        source += 1
                        j += strides[0]
                    }
                }
            }
        }
        return out
    }

    /// `x` repeated along stretched axes to `shape` (which `x.shape` broadcasts to).
    public static func expanded(_ x: Tensor, to shape: [Int]) -> Tensor {
        if x.shape == shape { return x }
        return broadcasting(x, Tensor(shape: [], scalars: [0]), into: shape) { a, _ in a }
    }

    /// The sum over `axes` (each in `0..<rank`), keeping them as extent 1.
    public static func summed(_ x: Tensor, axes: Set<Int>) -> Tensor {
        let shape = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
        return summed(x, toShape: shape)
    }
}
