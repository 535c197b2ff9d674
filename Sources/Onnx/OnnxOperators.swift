import Foundation
import Layers
import Tensors

/// One input of a node at run time: a tensor of the pass, or a constant (folded at import or
/// computed from shapes), or absent.
struct Operand {
    var variable: Variable?
    var constant: OnnxValue?
}

/// The ONNX ops a layer runs (`OnnxOperation`): which exist, what they accept, and their
/// forward pass as tape operations (so every gradient is the composition's).
enum OnnxOperators {
    /// Ops of the default domain that run as layers, with the attributes each reads; any other
    /// attribute (with a value that changes the result) is refused at import.
    static let attributes: [String: Set<String>] = [
        "Identity": [], "Dropout": ["ratio", "seed"], "Cast": ["to", "saturate", "round_mode"],
        "Relu": [], "Sigmoid": [], "Tanh": [], "LeakyRelu": ["alpha"], "HardSwish": [], "HardSigmoid": ["alpha", "beta"],
        "Gelu": ["approximate"], "Erf": [], "Sqrt": [], "Exp": [], "Log": [], "Neg": [], "Abs": [], "Reciprocal": [], "Floor": [],
        "Ceil": [], "Sin": [], "Cos": [], "PRelu": [], "Softplus": [], "Elu": ["alpha"], "Clip": ["min", "max"],
        "Add": ["broadcast", "axis"], "Sub": ["broadcast", "axis"], "Mul": ["broadcast", "axis"], "Div": ["broadcast", "axis"], "Pow": ["broadcast", "axis"],
        "Sum": [], "Mean": [], "Max": [], "Min": [],
        "Softmax": ["axis"], "LogSoftmax": ["axis"], "MatMul": [], "Gemm": ["alpha", "beta", "transA", "transB", "broadcast"],
        "Conv": ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
        "BatchNormalization": ["epsilon", "momentum", "training_mode", "spatial", "is_test"],
        "LayerNormalization": ["axis", "epsilon", "stash_type"],
        "GlobalAveragePool": [], "MaxPool": ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"],
        "AveragePool": ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"],
        "Flatten": ["axis"], "Reshape": ["allowzero"], "Transpose": ["perm"], "Concat": ["axis"], "Slice": ["starts", "ends", "axes"],
        "Gather": ["axis"], "Squeeze": ["axes"], "Unsqueeze": ["axes"], "ReduceMean": ["axes", "keepdims", "noop_with_empty_axes"],
        "ReduceSum": ["axes", "keepdims", "noop_with_empty_axes"], "Expand": [], "Split": ["axis", "split", "num_outputs"],
    ]

    /// Every op the importer accepts (layers and constant folding), sorted, for messages.
    static var supportedList: String { Set(attributes.keys).union(OnnxStatic.ops).sorted().joined(separator: ", ") }

    /// Refuses, at import, what a node asks that the layer would not do as ONNX defines it.
    static func check(_ node: OnnxNode, opset: Int) throws {
        guard let known = attributes[node.opType] else {
            if OnnxStatic.ops.contains(node.opType) {
                throw Unsupported("op \(node.opType) is supported on constants (shape arithmetic) only, not on tensors computed from the input")
            }
            throw Unsupported("op \(node.opType) is not supported")
        }
        for key in node.attributes.keys.sorted() where !known.contains(key) {
            throw Unsupported("attribute \(key) is not supported")
        }
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws { if !condition { throw Unsupported(message()) } }
        switch node.opType {
        case "Conv", "MaxPool", "AveragePool":
            let autoPad = try node.string("auto_pad", default: "NOTSET")
            try require(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad), "auto_pad \(autoPad) is not supported")
            if node.opType != "Conv" {
                try require(try node.int("ceil_mode", default: 0) == 0, "ceil_mode 1 is not supported")
                try require((try node.ints("dilations") ?? []).allSatisfy { $0 == 1 }, "pooling dilations other than 1 are not supported")
                try require(try node.int("storage_order", default: 0) == 0, "storage_order 1 is not supported")
            }
        case "BatchNormalization":
            try require(try node.int("training_mode", default: 0) == 0, "training_mode 1 is not supported (export the model in eval mode)")
            try require(opset >= 7 || (try node.int("is_test", default: 0)) == 1, "is_test 0 (training) is not supported (export the model in eval mode)")
            try require(opset >= 7 || (try node.int("spatial", default: 1)) == 1, "spatial 0 is not supported")
        case "LayerNormalization":
            break
        case "Gelu":
            let approximate = try node.string("approximate", default: "none")
            try require(["none", "tanh"].contains(approximate), "approximate \(approximate) is not supported")
        case "Cast":
            guard let to = try node.int("to"), let type = OnnxDataType(rawValue: Int32(to)), type.isFloatingPoint else {
                throw Unsupported("Cast of the model's tensors to a non-floating-point type is not supported")
            }
        default:
            break
        }
        try require(
            node.outputs.count == 1 || ["Split", "Dropout", "BatchNormalization", "LayerNormalization"].contains(node.opType),
            "\(node.outputs.count) outputs are not supported")
    }

    /// Output `output` of `node` for `operands`.
    static func forward(
        _ node: OnnxNode, opset: Int, output: Int, operands: [Operand], context: inout ForwardContext
    ) throws -> Variable {
        let tape = context.tape
        func variable(_ i: Int) throws -> Variable {
            guard i < operands.count else { throw Unsupported("\(node.described) lacks input \(i)") }
            if let v = operands[i].variable { return v }
            guard let c = operands[i].constant else { throw Unsupported("\(node.described) lacks input \(i)") }
            return tape.leaf(c.tensor)
        }
        func optionalVariable(_ i: Int) throws -> Variable? {
            i < operands.count && (operands[i].variable != nil || operands[i].constant != nil) ? try variable(i) : nil
        }
        func constant(_ i: Int) throws -> OnnxValue? {
            guard i < operands.count, operands[i].variable != nil || operands[i].constant != nil else { return nil }
            guard let c = operands[i].constant else {
                throw Unsupported("input \(i) of \(node.described) must be a constant (computed from constants and shapes)")
            }
            return c
        }
        let x = try variable(0)
        switch node.opType {
        case "Identity":
            return x
        case "Cast":
            // Float to float16 or bfloat16 rounds (the gradient passes straight through); to
            // float or double it is the identity.
            let code = try node.int("to") ?? 1
            let target = OnnxDataType(rawValue: Int32(code))
            guard target == .float16 || target == .bfloat16 else { return x }
            // bfloat16: ties to even from opset 19 on; earlier opsets' reference truncates.
            let scalars: [Float] =
                target == .float16
                ? x.value.scalars.map(roundedToFloat16)
                : (opset >= 19 ? x.value.scalars.map(roundedToBFloat16) : x.value.scalars.map(truncatedToBFloat16))
            return tape.record(Tensor(shape: x.shape, scalars: scalars), inputs: [x]) { dy, _ in [dy] }
        case "Dropout":
            guard output == 0 else { throw Unsupported("the mask output of \(node.described) is not supported") }
            let ratio = try constant(1)?.asFloats.first ?? (try node.float("ratio", default: 0.5))
            return x.dropout(p: ratio, context: &context)
        case "Relu": return x.relu()
        case "Sigmoid": return x.sigmoid()
        case "Tanh": return x.tanh()
        case "LeakyRelu": return x.leakyReLU(slope: try node.float("alpha", default: 0.01))
        case "HardSwish": return x.hardswish()
        case "HardSigmoid":
            let alpha = try node.float("alpha", default: 0.2), beta = try node.float("beta", default: 0.5)
            return x.broadcasting(.multiply, tape.leaf(Tensor(shape: [], scalars: [alpha])))
                .broadcasting(.add, tape.leaf(Tensor(shape: [], scalars: [beta]))).clipped(lower: 0, upper: 1)
        case "Gelu": return x.gelu(tanhApproximation: try node.string("approximate", default: "none") == "tanh")
        case "Erf": return x.applying(.erf)
        case "Sqrt": return x.applying(.squareRoot)
        case "Exp": return x.applying(.exp)
        case "Log": return x.applying(.log)
        case "Neg": return x.applying(.negate)
        case "Abs": return x.applying(.abs)
        case "Reciprocal": return x.applying(.reciprocal)
        case "Floor": return x.applying(.floor)
        case "Ceil": return x.applying(.ceil)
        case "Sin": return x.applying(.sin)
        case "Cos": return x.applying(.cos)
        case "Softplus":
            // log(1 + eˣ) = relu(x) + log(1 + e^(−|x|)), stable for large |x|.
            let tail = x.applying(.abs).applying(.negate).applying(.exp).broadcasting(.add, tape.leaf(Tensor(shape: [], scalars: [1]))).applying(.log)
            return x.relu().broadcasting(.add, tail)
        case "Elu":
            // x for x > 0, α(eˣ − 1) otherwise: relu(x) + α(e^min(x,0) − 1).
            let alpha = try node.float("alpha", default: 1)
            let negative = x.clipped(lower: nil, upper: 0).applying(.exp).broadcasting(.subtract, tape.leaf(Tensor(shape: [], scalars: [1])))
            return x.relu().broadcasting(.add, negative.broadcasting(.multiply, tape.leaf(Tensor(shape: [], scalars: [alpha]))))
        case "PRelu":
            // max(0, x) + slope · min(0, x)
            var slope = try variable(1)
            if opset < 7, x.shape.count > 2, slope.shape == [x.shape[1]] {
                // Before opset 7 a slope of C elements is per channel (axis 1).
                slope = slope.reshaped([x.shape[1]] + [Int](repeating: 1, count: x.shape.count - 2))
            }
            guard Broadcast.shape(x.shape, slope.shape) == x.shape else { throw Unsupported("PRelu slope \(slope.shape) does not broadcast to \(x.shape)") }
            return x.relu().broadcasting(.add, x.clipped(lower: nil, upper: 0).broadcasting(.multiply, slope))
        case "Clip":
            var lower: Float?, upper: Float?
            if opset < 11 {
                if node.attributes["min"] != nil { lower = try node.float("min", default: 0) }
                if node.attributes["max"] != nil { upper = try node.float("max", default: 0) }
            } else {
                lower = try constant(1)?.asFloats.first
                upper = try constant(2)?.asFloats.first
            }
            return x.clipped(lower: lower, upper: upper)
        case "Add": return try binary(.add, x, try legacyBroadcast(node, x, try variable(1)))
        case "Sub": return try binary(.subtract, x, try legacyBroadcast(node, x, try variable(1)))
        case "Mul": return try binary(.multiply, x, try legacyBroadcast(node, x, try variable(1)))
        case "Div": return try binary(.divide, x, try legacyBroadcast(node, x, try variable(1)))
        case "Pow": return try binary(.power, x, try legacyBroadcast(node, x, try variable(1)))
        case "Max", "Min":
            var result = x
            for i in 1..<operands.count { result = try binary(node.opType == "Max" ? .maximum : .minimum, result, try variable(i)) }
            return result
        case "Sum", "Mean":
            var total = x
            for i in 1..<operands.count { total = try binary(.add, total, try variable(i)) }
            guard node.opType == "Mean" else { return total }
            return total.broadcasting(.multiply, tape.leaf(Tensor(shape: [], scalars: [1 / Float(operands.count)])))
        case "Softmax", "LogSoftmax":
            return try softmax(x, node: node, opset: opset, log: node.opType == "LogSoftmax")
        case "MatMul":
            return try matmul(x, try variable(1))
        case "Gemm":
            return try gemm(node, x, try variable(1), try optionalVariable(2))
        case "Conv":
            return try convolution(node, x, weight: try variable(1), bias: try optionalVariable(2))
        case "BatchNormalization":
            guard output == 0 else { throw Unsupported("the training outputs of \(node.described) are not supported") }
            return try batchNormalization(node, x, operands: operands, variable: variable, context: &context)
        case "LayerNormalization":
            guard output == 0 else { throw Unsupported("the mean and inverse-deviation outputs of \(node.described) are not supported") }
            let rank = x.shape.count
            let axis = try ShapeRules.axis(try node.int("axis", default: -1), rank: rank)
            let rows = x.shape[..<axis].reduce(1, *), width = x.shape[axis...].reduce(1, *)
            let flat = [width]
            let scale = try optionalVariable(1).map { try broadcastParameter($0, to: Array(x.shape[axis...]), flat: flat) }
            let bias = try optionalVariable(2).map { try broadcastParameter($0, to: Array(x.shape[axis...]), flat: flat) }
            return x.reshaped([rows, width]).layerNorm(weight: scale, bias: bias, epsilon: try node.float("epsilon", default: 1e-5)).reshaped(x.shape)
        case "GlobalAveragePool":
            guard x.shape.count >= 3 else { throw Unsupported("\(node.described) needs a rank ≥ 3 input, got \(x.shape)") }
            if x.shape.count == 4 { return x.adaptiveAvgPool2d(outputHeight: 1, outputWidth: 1) }
            let spatial = Set(2..<x.shape.count)
            let count = spatial.reduce(1) { $0 * x.shape[$1] }
            return x.summed(axes: spatial).broadcasting(.multiply, tape.leaf(Tensor(shape: [], scalars: [1 / Float(count)])))
        case "MaxPool", "AveragePool":
            return try pool(node, x)
        case "Flatten":
            return x.reshaped(try ShapeRules.flatten(x.shape, axis: try node.int("axis", default: 1)))
        case "Reshape":
            guard let shape = try constant(1)?.asIntegers else { throw Unsupported("\(node.described) needs a shape") }
            return x.reshaped(try ShapeRules.reshape(x.shape, to: shape, allowZero: try node.int("allowzero", default: 0) != 0))
        case "Transpose":
            let perm = try node.ints("perm") ?? Array((0..<x.shape.count).reversed())
            guard perm.sorted() == Array(0..<x.shape.count) else { throw Unsupported("\(node.described): perm \(perm) for \(x.shape)") }
            return x.permuted(perm)
        case "Concat":
            let parts = try operands.indices.compactMap { try optionalVariable($0) }
            guard let requested = try node.int("axis") ?? (opset < 4 ? 1 : nil) else { throw Unsupported("\(node.described) lacks its axis") }
            let axis = try ShapeRules.axis(requested, rank: x.shape.count)
            for part in parts where part.shape.count != x.shape.count || part.shape.indices.contains(where: { $0 != axis && part.shape[$0] != x.shape[$0] }) {
                throw Unsupported("\(node.described): \(part.shape) and \(x.shape) differ off axis \(axis)")
            }
            let nonEmpty = parts.filter { $0.shape[axis] > 0 }
            return nonEmpty.count == 1 ? nonEmpty[0] : Variable.concatenated(nonEmpty.isEmpty ? [x] : nonEmpty, axis: axis)
        case "Slice":
            let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
            if opset < 10 {
                starts = try node.ints("starts") ?? []
                ends = try node.ints("ends") ?? []
                axes = try node.ints("axes")
                steps = nil
            } else {
                guard let s = try constant(1)?.asIntegers, let e = try constant(2)?.asIntegers else {
                    throw Unsupported("\(node.described) needs starts and ends")
                }
                starts = s
                ends = e
                axes = try constant(3)?.asIntegers
                steps = try constant(4)?.asIntegers
            }
            return try select(x, kept: try ShapeRules.slice(x.shape, starts: starts, ends: ends, axes: axes, steps: steps))
        case "Gather":
            guard let indices = try constant(1) else { throw Unsupported("\(node.described) needs constant indices") }
            let axis = try ShapeRules.axis(try node.int("axis", default: 0), rank: x.shape.count)
            let (kept, shape) = try ShapeRules.gather(x.shape, indices: indices, axis: axis, node: node)
            return try select(x, kept: kept).reshaped(shape)
        case "Squeeze":
            let axes = try node.ints("axes") ?? (try constant(1)?.asIntegers)
            return x.reshaped(try ShapeRules.squeeze(x.shape, axes: axes))
        case "Unsqueeze":
            guard let axes = try node.ints("axes") ?? (try constant(1)?.asIntegers) else { throw Unsupported("\(node.described) needs axes") }
            return x.reshaped(try ShapeRules.unsqueeze(x.shape, axes: axes))
        case "ReduceMean", "ReduceSum":
            let fromInput = node.opType == "ReduceSum" ? opset >= 13 : opset >= 18
            let axes = fromInput ? try constant(1)?.asIntegers : try node.ints("axes")
            let keep = try node.int("keepdims", default: 1) != 0
            let reduced: Set<Int>
            if let axes, !axes.isEmpty {
                reduced = Set(try axes.map { try ShapeRules.axis($0, rank: x.shape.count) })
            } else {
                if try node.int("noop_with_empty_axes", default: 0) != 0 { return x }
                reduced = Set(0..<x.shape.count)
            }
            var y = x.summed(axes: reduced)
            if node.opType == "ReduceMean" {
                let count = reduced.reduce(1) { $0 * x.shape[$1] }
                y = y.broadcasting(.multiply, tape.leaf(Tensor(shape: [], scalars: [1 / Float(count)])))
            }
            return keep ? y : y.reshaped(x.shape.indices.filter { !reduced.contains($0) }.map { x.shape[$0] })
        case "Expand":
            guard let requested = try constant(1)?.asIntegers, let shape = Broadcast.shape(x.shape, requested) else {
                throw Unsupported("\(node.described): \(x.shape) does not expand to the requested shape")
            }
            return x.expanded(to: shape)
        case "Split":
            let axis = try ShapeRules.axis(try node.int("axis", default: 0), rank: x.shape.count)
            let extent = x.shape[axis]
            var sizes = try node.ints("split") ?? (try constant(1)?.asIntegers)
            if sizes == nil {
                let parts = try node.int("num_outputs") ?? node.outputs.count
                let size = (extent + parts - 1) / parts
                sizes = (0..<parts).map { min(size, max(0, extent - $0 * size)) }
            }
            guard let sizes, sizes.count == node.outputs.count, sizes.reduce(0, +) == extent else {
                throw Unsupported("\(node.described): split sizes do not cover axis \(axis) of \(x.shape)")
            }
            let start = sizes[..<output].reduce(0, +)
            return x.sliced(axis: axis, range: start..<(start + sizes[output]))
        default:
            throw Unsupported("op \(node.opType) is not supported")
        }
    }

    /// `b` for an element-wise op of opsets before 7: with `broadcast: 1` and an `axis`, `b`
    /// lines up with `a`'s axes from `axis` on (trailing axes of extent 1 added); without an
    /// axis it lines up with the last axes, as NumPy broadcasting does.
    static func legacyBroadcast(_ node: OnnxNode, _ a: Variable, _ b: Variable) throws -> Variable {
        guard try node.int("broadcast", default: 0) == 1, let axis = try node.int("axis") else { return b }
        let start = try ShapeRules.axis(axis, rank: a.shape.count)
        let trailing = a.shape.count - start - b.shape.count
        guard trailing >= 0 else { throw Unsupported("\(node.described): \(b.shape) does not fit \(a.shape) from axis \(axis)") }
        return b.reshaped(b.shape + [Int](repeating: 1, count: trailing))
    }

    /// `op(a, b)` with broadcasting, or why the shapes do not broadcast.
    static func binary(_ op: BinaryOperation, _ a: Variable, _ b: Variable) throws -> Variable {
        guard Broadcast.shape(a.shape, b.shape) != nil else { throw Unsupported("shapes \(a.shape) and \(b.shape) do not broadcast") }
        // Operands of one shape (a residual add): the model layers' own element-wise ops.
        if a.shape == b.shape, op == .add { return a + b }
        if a.shape == b.shape, op == .multiply { return a * b }
        return a.broadcasting(op, b)
    }

    /// `x` keeping `kept[a]` (nil: all) along each axis: a slice where the indices are a
    /// contiguous run, a gather otherwise.
    static func select(_ x: Variable, kept: [[Int]?]) throws -> Variable {
        var y = x
        for (axis, indices) in kept.enumerated() {
            guard let indices, indices != Array(0..<x.shape[axis]) else { continue }
            if indices.isEmpty { throw Unsupported("an empty selection of axis \(axis) of \(x.shape) is not supported") }
            if indices == Array(indices[0]..<(indices[0] + indices.count)) {
                y = y.sliced(axis: axis, range: indices[0]..<(indices[0] + indices.count))
            } else {
                y = y.gathered(axis: axis, indices: indices)
            }
        }
        return y
    }

    /// A normalisation's scale or bias of the normalised axes' shape, flattened.
    static func broadcastParameter(_ p: Variable, to shape: [Int], flat: [Int]) throws -> Variable {
        guard Broadcast.shape(p.shape, shape) == shape else { throw Unsupported("parameter \(p.shape) does not fit the normalised shape \(shape)") }
        return (p.shape == shape ? p : p.expanded(to: shape)).reshaped(flat)
    }

    static func softmax(_ x: Variable, node: OnnxNode, opset: Int, log: Bool) throws -> Variable {
        let rank = x.shape.count
        let axis = try ShapeRules.axis(try node.int("axis", default: opset < 13 ? 1 : -1), rank: rank)
        func rows(_ v: Variable) -> Variable {
            let width = v.shape.last!
            let flat = v.reshaped([v.value.count / max(width, 1), width])
            return (log ? flat.logSoftmax() : flat.softmax()).reshaped(v.shape)
        }
        if opset < 13 {
            // Softmax over the flattened axes from `axis` on.
            let flat = [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)]
            return rows(x.reshaped(flat)).reshaped(x.shape)
        }
        if axis == rank - 1 { return rows(x) }
        var order = Array(0..<rank)
        order.swapAt(axis, rank - 1)
        return rows(x.permuted(order)).permuted(order)
    }

    /// ONNX MatMul (NumPy's `matmul`): 1-D operands promoted and the added axis dropped, batch
    /// axes broadcast.
    static func matmul(_ a: Variable, _ b: Variable) throws -> Variable {
        var a = a, b = b
        let vectorA = a.shape.count == 1, vectorB = b.shape.count == 1
        if vectorA { a = a.reshaped([1] + a.shape) }
        if vectorB { b = b.reshaped(b.shape + [1]) }
        guard a.shape.last == b.shape[b.shape.count - 2] else { throw Unsupported("MatMul of \(a.shape) and \(b.shape)") }
        let m = a.shape[a.shape.count - 2], n = b.shape.last!
        var y: Variable
        if b.shape.count == 2 {
            // [B…, M, K] · [K, N]: one product of all rows.
            let k = b.shape[0]
            y = a.reshaped([a.value.count / k, k]).matmul(b).reshaped(Array(a.shape.dropLast()) + [n])
        } else {
            guard let batch = Broadcast.shape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) else {
                throw Unsupported("MatMul batch axes of \(a.shape) and \(b.shape) do not broadcast")
            }
            let ea = a.shape.dropLast(2) == batch[...] ? a : a.expanded(to: batch + Array(a.shape.suffix(2)))
            let eb = b.shape.dropLast(2) == batch[...] ? b : b.expanded(to: batch + Array(b.shape.suffix(2)))
            let count = batch.reduce(1, *)
            y = ea.reshaped([count] + Array(ea.shape.suffix(2))).matmul(eb.reshaped([count] + Array(eb.shape.suffix(2)))).reshaped(batch + [m, n])
        }
        if vectorA { y = y.reshaped(Array(y.shape.dropLast(2)) + [n]) }
        if vectorB { y = y.reshaped(Array(y.shape.dropLast())) }
        return y
    }

    static func gemm(_ node: OnnxNode, _ a: Variable, _ b: Variable, _ c: Variable?) throws -> Variable {
        let alpha = try node.float("alpha", default: 1), beta = try node.float("beta", default: 1)
        let transA = try node.int("transA", default: 0) != 0, transB = try node.int("transB", default: 0) != 0
        guard a.shape.count == 2, b.shape.count == 2 else { throw Unsupported("Gemm of \(a.shape) and \(b.shape): both must be 2-D") }
        let lhs = transA ? a.permuted([1, 0]) : a
        // The common fully connected layer: x · Wᵀ + b with a bias of [N] or [1, N].
        if transB, alpha == 1, beta == 1, let c, c.shape == [b.shape[0]] || c.shape == [1, b.shape[0]] {
            guard lhs.shape[1] == b.shape[1] else { throw Unsupported("Gemm of \(lhs.shape) and \(b.shape)ᵀ") }
            return lhs.linear(weight: b, bias: c.shape.count == 1 ? c : c.reshaped([b.shape[0]]))
        }
        let rhs = transB ? b.permuted([1, 0]) : b
        guard lhs.shape[1] == rhs.shape[0] else { throw Unsupported("Gemm of \(lhs.shape) and \(rhs.shape)") }
        var y = lhs.matmul(rhs)
        if alpha != 1 { y = y.broadcasting(.multiply, a.tape.leaf(Tensor(shape: [], scalars: [alpha]))) }
        if let c {
            guard Broadcast.shape(c.shape, y.shape) == y.shape else { throw Unsupported("Gemm's C \(c.shape) does not broadcast to \(y.shape)") }
            let term = beta == 1 ? c : c.broadcasting(.multiply, a.tape.leaf(Tensor(shape: [], scalars: [beta])))
            y = y.broadcasting(.add, term)
        }
        return y
    }

    /// Padding of one spatial axis: (before, after) for `auto_pad` or the explicit pads.
    static func padding(
        autoPad: String, extent: Int, kernel: Int, stride: Int, dilation: Int, explicit: (Int, Int)
    ) -> (Int, Int) {
        switch autoPad {
        case "VALID": return (0, 0)
        case "SAME_UPPER", "SAME_LOWER":
            let output = (extent + stride - 1) / stride
            let total = max(0, (output - 1) * stride + (kernel - 1) * dilation + 1 - extent)
            return autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
        default: return explicit
        }
    }

    static func convolution(_ node: OnnxNode, _ x: Variable, weight: Variable, bias: Variable?) throws -> Variable {
        // A 1-D convolution runs as a 2-D one of height 1.
        if x.shape.count == 3, weight.shape.count == 3 {
            var node1 = node
            for key in ["dilations", "kernel_shape", "strides"] {
                if let v = try node.ints(key) { node1.attributes[key] = .ints([1] + v) }
            }
            if let pads = try node.ints("pads"), pads.count == 2 { node1.attributes["pads"] = .ints([0, pads[0], 0, pads[1]]) }
            let y = try convolution(
                node1, x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]]),
                weight: weight.reshaped([weight.shape[0], weight.shape[1], 1, weight.shape[2]]), bias: bias)
            return y.reshaped([y.shape[0], y.shape[1], y.shape[3]])
        }
        guard x.shape.count == 4, weight.shape.count == 4 else {
            throw Unsupported("Conv of \(x.shape) with weight \(weight.shape): only 1-D and 2-D convolutions are supported")
        }
        let groups = try node.int("group", default: 1)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        guard groups >= 1, c % groups == 0, m % groups == 0, weight.shape[1] == c / groups else {
            throw Unsupported("Conv weight \(weight.shape) does not fit input \(x.shape) with group \(groups)")
        }
        if let kernel = try node.ints("kernel_shape"), kernel != [kh, kw] {
            throw Unsupported("Conv kernel_shape \(kernel) differs from the weight's \([kh, kw])")
        }
        let strides = try node.ints("strides") ?? [1, 1], dilations = try node.ints("dilations") ?? [1, 1]
        let pads = try node.ints("pads") ?? [0, 0, 0, 0]
        guard strides.count == 2, dilations.count == 2, pads.count == 4, strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }),
            pads.allSatisfy({ $0 >= 0 })
        else {
            throw Unsupported("Conv strides \(strides), dilations \(dilations), pads \(pads) are not valid for a 2-D convolution")
        }
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        let (top, bottom) = padding(autoPad: autoPad, extent: h, kernel: kh, stride: strides[0], dilation: dilations[0], explicit: (pads[0], pads[2]))
        let (left, right) = padding(autoPad: autoPad, extent: w, kernel: kw, stride: strides[1], dilation: dilations[1], explicit: (pads[1], pads[3]))
        guard h + top + bottom >= (kh - 1) * dilations[0] + 1, w + left + right >= (kw - 1) * dilations[1] + 1 else {
            throw Unsupported("Conv kernel \([kh, kw]) is larger than the padded input \(x.shape)")
        }
        if let bias, bias.shape != [m] { throw Unsupported("Conv bias \(bias.shape) for \(m) output channels") }
        if groups == 1, dilations == [1, 1], strides[0] == strides[1], [bottom, left, right].allSatisfy({ $0 == top }) {
            // Equal strides and pads, no groups or dilation: the convolution kernels of Gauntlet's own conv2d layers.
            return x.conv2d(weight: weight, bias: bias, stride: strides[0], padding: top)
        }
        let geometry = ConvolutionGeometry(
            batch: n, inChannels: c, height: h, width: w, outChannels: m, kernelHeight: kh, kernelWidth: kw,
            stride: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]), pads: (top, left, bottom, right), groups: groups)
        return x.convolution(weight: weight, bias: bias, geometry: geometry)
    }

    static func pool(_ node: OnnxNode, _ x: Variable) throws -> Variable {
        guard x.shape.count == 4 else { throw Unsupported("\(node.opType) of \(x.shape): only 2-D pooling is supported") }
        guard let kernel = try node.ints("kernel_shape"), kernel.count == 2 else { throw Unsupported("\(node.opType) needs a 2-D kernel_shape") }
        let strides = try node.ints("strides") ?? [1, 1]
        var pads = try node.ints("pads") ?? [0, 0, 0, 0]
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        if autoPad != "NOTSET" {
            let (t, b) = padding(autoPad: autoPad, extent: x.shape[2], kernel: kernel[0], stride: strides[0], dilation: 1, explicit: (0, 0))
            let (l, r) = padding(autoPad: autoPad, extent: x.shape[3], kernel: kernel[1], stride: strides[1], dilation: 1, explicit: (0, 0))
            pads = [t, l, b, r]
        }
        guard kernel[0] == kernel[1], strides.count == 2, strides[0] == strides[1], pads.count == 4, Set(pads).count == 1 else {
            throw Unsupported(
                "\(node.opType) with kernel \(kernel), strides \(strides), pads \(pads): only square kernels, equal strides and equal pads are supported")
        }
        guard pads[0] * 2 <= kernel[0] else { throw Unsupported("\(node.opType) pads \(pads[0]) exceed half the kernel \(kernel[0])") }
        if node.opType == "MaxPool" { return x.maxPool2d(kernel: kernel[0], stride: strides[0], padding: pads[0]) }
        let y = x.avgPool2d(kernel: kernel[0], stride: strides[0], padding: pads[0])
        guard pads[0] > 0, try node.int("count_include_pad", default: 0) == 0 else { return y }
        // Padded positions left out of the divisor: each window's mean over k² rescaled by
        // k² / (its positions inside the input).
        let (k, s, p) = (kernel[0], strides[0], pads[0])
        func inside(_ start: Int, _ extent: Int) -> Int { min(start + k, extent + p) - max(start, p) }
        let (oh, ow) = (y.shape[2], y.shape[3])
        var factors: [Float] = []
        for i in 0..<oh { for j in 0..<ow { factors.append(Float(k * k) / Float(inside(i * s, x.shape[2]) * inside(j * s, x.shape[3]))) } }
        return y.broadcasting(.multiply, x.tape.leaf(Tensor(shape: [1, 1, oh, ow], scalars: factors)))
    }

    static func batchNormalization(
        _ node: OnnxNode, _ x: Variable, operands: [Operand], variable: (Int) throws -> Variable, context: inout ForwardContext
    ) throws -> Variable {
        let epsilon = try node.float("epsilon", default: 1e-5)
        guard x.shape.count >= 2 else { throw Unsupported("BatchNormalization of \(x.shape)") }
        let channels = x.shape[1]
        let scale = try variable(1), bias = try variable(2), mean = try variable(3), variance = try variable(4)
        guard [scale, bias, mean, variance].allSatisfy({ $0.shape == [channels] }) else {
            throw Unsupported("BatchNormalization parameters do not have \(channels) elements")
        }
        let plane = x.shape.dropFirst(2).reduce(1, *)
        let x4 = x.reshaped([x.shape[0], channels, plane, 1])
        let y = x4.batchNorm2d(gamma: scale, beta: bias, epsilon: epsilon, statistics: (mean.value.scalars, variance.value.scalars))
        return y.output.reshaped(x.shape)
    }
}
