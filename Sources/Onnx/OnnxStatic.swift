import Foundation
import Tensors

/// Evaluates nodes whose inputs are constants, or only the shapes of other values: shape
/// arithmetic (`Shape → Gather → Concat → Reshape`), folded at import where it does not depend
/// on the batch and otherwise evaluated once the input's shapes are known.
enum OnnxStatic {
    /// Ops evaluated here on integer or float constants; any other op with constant float inputs
    /// is folded through its layer (`OnnxOperators`).
    static let ops: Set<String> = [
        "Constant", "Identity", "Shape", "Size", "Cast", "Gather", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Range", "Expand",
        "ConstantOfShape", "Slice", "Transpose", "Flatten", "Add", "Sub", "Mul", "Div", "Mod", "Equal", "Less", "Greater", "Where",
        "Neg", "Abs", "Min", "Max", "Not", "ReduceProd",
    ]

    /// Ops that read only their inputs' shapes, never their values.
    static let shapeOnly: Set<String> = ["Shape", "Size"]

    /// The outputs of `node`, from its inputs' values (nil where absent) and shapes.
    static func evaluate(_ node: OnnxNode, opset: Int, values: [OnnxValue?], shapes: [[Int]?]) throws -> [OnnxValue] {
        func value(_ i: Int) throws -> OnnxValue {
            guard i < values.count, let v = values[i] else { throw Unsupported("\(node.described) lacks input \(i)") }
            return v
        }
        func integers(_ i: Int) throws -> [Int] { try value(i).asIntegers }
        switch node.opType {
        case "Constant":
            for (key, attribute) in node.attributes {
                switch (key, attribute) {
                case let ("value", .tensor(v)): return [v]
                case let ("value_float", .float(f)): return [OnnxValue(shape: [], floats: [f])]
                case let ("value_floats", .floats(f)): return [OnnxValue(shape: [f.count], floats: f)]
                case let ("value_int", .int(i)): return [OnnxValue(shape: [], integers: [i])]
                case let ("value_ints", .ints(i)): return [OnnxValue(shape: [i.count], integers: i)]
                default: continue
                }
            }
            throw Unsupported("\(node.described) has no value Gauntlet reads (value, value_float(s), value_int(s))")
        case "Identity":
            return [try value(0)]
        case "Shape":
            guard let shape = shapes.first ?? nil else { throw Unsupported("\(node.described): input shape unknown") }
            let rank = shape.count
            func clampAxis(_ a: Int) -> Int { min(max(a < 0 ? a + rank : a, 0), rank) }
            let start = clampAxis(try node.int("start", default: 0)), end = clampAxis(try node.int("end", default: rank))
            let kept = start < end ? Array(shape[start..<end]) : []
            return [OnnxValue(shape: [kept.count], integers: kept)]
        case "Size":
            guard let shape = shapes.first ?? nil else { throw Unsupported("\(node.described): input shape unknown") }
            return [OnnxValue(shape: [], integers: [shape.reduce(1, *)])]
        case "Cast":
            let v = try value(0)
            guard let target = try node.int("to"), let type = OnnxDataType(rawValue: Int32(target)) else {
                throw Unsupported("\(node.described) lacks a known 'to' type")
            }
            if type.isFloatingPoint {
                var floats = v.asFloats
                if type == .float16 { floats = floats.map { Float(Float16($0)) } }
                if type == .bfloat16 { floats = floats.map(opset >= 19 ? roundedToBFloat16 : truncatedToBFloat16) }
                return [OnnxValue(shape: v.shape, floats: floats)]
            }
            if type == .bool { return [OnnxValue(shape: v.shape, integers: v.asFloats.map { $0 != 0 ? 1 : 0 }, type: .boolean)] }
            guard type != .string else { throw Unsupported("\(node.described) casts to string") }
            return [OnnxValue(shape: v.shape, integers: v.asIntegers)]
        case "Gather":
            let data = try value(0), indices = try value(1)
            let axis = try ShapeRules.axis(try node.int("axis", default: 0), rank: data.shape.count)
            let (kept, shape) = try ShapeRules.gather(data.shape, indices: indices, axis: axis, node: node)
            let (_, sources) = ShapeRules.selectionSources(data.shape, kept: kept)
            return [select(data, sources: sources, shape: shape)]
        case "Concat":
            let parts = values.compactMap { $0 }
            guard let first = parts.first else { throw Unsupported("\(node.described) has no inputs") }
            guard let requested = try node.int("axis") ?? (opset < 4 ? 1 : nil) else { throw Unsupported("\(node.described) lacks its axis") }
            let axis = try ShapeRules.axis(requested, rank: first.shape.count)
            guard parts.allSatisfy({ $0.shape.count == first.shape.count }) else { throw Unsupported("\(node.described): inputs differ in rank") }
            let outer = first.shape[..<axis].reduce(1, *)
            var shape = first.shape
            shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
            let isFloat = parts.contains { $0.type == .float }
            var floats: [Float] = [], ints: [Int] = []
            for o in 0..<outer {
                for part in parts {
                    let inner = part.shape[axis...].reduce(1, *)
                    if isFloat { floats += part.asFloats[(o * inner)..<((o + 1) * inner)] } else { ints += part.integers[(o * inner)..<((o + 1) * inner)] }
                }
            }
            return [isFloat ? OnnxValue(shape: shape, floats: floats) : OnnxValue(shape: shape, integers: ints, type: first.type)]
        case "Unsqueeze":
            let v = try value(0)
            let axes = try node.ints("axes") ?? integers(1)
            return [v.reshaped(try ShapeRules.unsqueeze(v.shape, axes: axes))]
        case "Squeeze":
            let v = try value(0)
            let axes = try node.ints("axes") ?? (values.count > 1 && values[1] != nil ? integers(1) : nil)
            return [v.reshaped(try ShapeRules.squeeze(v.shape, axes: axes))]
        case "Reshape":
            let v = try value(0)
            return [v.reshaped(try ShapeRules.reshape(v.shape, to: integers(1), allowZero: try node.int("allowzero", default: 0) != 0))]
        case "Flatten":
            let v = try value(0)
            return [v.reshaped(try ShapeRules.flatten(v.shape, axis: try node.int("axis", default: 1)))]
        case "Range":
            let start = try value(0), limit = try value(1), delta = try value(2)
            if [start, limit, delta].allSatisfy({ $0.type != .float }) {
                let (s, l, d) = (start.integers[0], limit.integers[0], delta.integers[0])
                guard d != 0 else { throw Unsupported("\(node.described): delta 0") }
                let n = max(Int((Double(l - s) / Double(d)).rounded(.up)), 0)
                return [OnnxValue(shape: [n], integers: (0..<n).map { s + $0 * d })]
            }
            let (s, l, d) = (start.asFloats[0], limit.asFloats[0], delta.asFloats[0])
            guard d != 0 else { throw Unsupported("\(node.described): delta 0") }
            let n = max(Int(((l - s) / d).rounded(.up)), 0)
            return [OnnxValue(shape: [n], floats: (0..<n).map { s + Float($0) * d })]
        case "Expand":
            let v = try value(0)
            guard let shape = Broadcast.shape(v.shape, try integers(1)) else {
                throw Unsupported("\(node.described): \(v.shape) does not expand to \(try integers(1))")
            }
            return [select(v, sources: ShapeRules.broadcastSources(v.shape, to: shape), shape: shape)]
        case "ConstantOfShape":
            let shape = try integers(0)
            var fill = OnnxValue(shape: [1], floats: [0])
            if case let .tensor(t)? = node.attributes["value"] { fill = t }
            return [select(fill.reshaped([1]), sources: [Int](repeating: 0, count: shape.reduce(1, *)), shape: shape)]
        case "Slice":
            let v = try value(0)
            let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
            if opset < 10 {
                starts = try node.ints("starts") ?? []
                ends = try node.ints("ends") ?? []
                axes = try node.ints("axes")
                steps = nil
            } else {
                starts = try integers(1)
                ends = try integers(2)
                axes = values.count > 3 && values[3] != nil ? try integers(3) : nil
                steps = values.count > 4 && values[4] != nil ? try integers(4) : nil
            }
            let kept = try ShapeRules.slice(v.shape, starts: starts, ends: ends, axes: axes, steps: steps)
            let (shape, sources) = ShapeRules.selectionSources(v.shape, kept: kept)
            return [select(v, sources: sources, shape: shape)]
        case "Transpose":
            let v = try value(0)
            let perm = try node.ints("perm") ?? Array((0..<v.shape.count).reversed())
            let (shape, sources) = try ShapeRules.transposeSources(v.shape, perm: perm)
            return [select(v, sources: sources, shape: shape)]
        case "Add", "Sub", "Mul", "Div", "Mod", "Equal", "Less", "Greater", "Min", "Max":
            return [try binary(node, try value(0), try value(1))]
        case "Where":
            let condition = try value(0), x = try value(1), y = try value(2)
            guard let s1 = Broadcast.shape(condition.shape, x.shape), let shape = Broadcast.shape(s1, y.shape) else {
                throw Unsupported("\(node.described): shapes \(condition.shape), \(x.shape), \(y.shape) do not broadcast")
            }
            let c = ShapeRules.broadcastSources(condition.shape, to: shape)
            let a = ShapeRules.broadcastSources(x.shape, to: shape), b = ShapeRules.broadcastSources(y.shape, to: shape)
            if x.type == .float || y.type == .float {
                let xf = x.asFloats, yf = y.asFloats
                return [OnnxValue(shape: shape, floats: (0..<c.count).map { condition.integers[c[$0]] != 0 ? xf[a[$0]] : yf[b[$0]] })]
            }
            return [
                OnnxValue(shape: shape, integers: (0..<c.count).map { condition.integers[c[$0]] != 0 ? x.integers[a[$0]] : y.integers[b[$0]] }, type: x.type)
            ]
        case "Neg", "Abs":
            let v = try value(0)
            let f: (Int) -> Int = node.opType == "Neg" ? { -$0 } : { Swift.abs($0) }
            if v.type == .float { return [OnnxValue(shape: v.shape, floats: v.floats.map { node.opType == "Neg" ? -$0 : Swift.abs($0) })] }
            return [OnnxValue(shape: v.shape, integers: v.integers.map(f))]
        case "Not":
            let v = try value(0)
            return [OnnxValue(shape: v.shape, integers: v.integers.map { $0 == 0 ? 1 : 0 }, type: .boolean)]
        case "ReduceProd":
            let v = try value(0)
            guard try node.ints("axes") == nil, values.count < 2 || values[1] == nil else {
                throw Unsupported("\(node.described): ReduceProd of constants over some axes only")
            }
            let keep = try node.int("keepdims", default: 1) != 0
            let shape = keep ? [Int](repeating: 1, count: v.shape.count) : []
            if v.type == .float { return [OnnxValue(shape: shape, floats: [v.floats.reduce(1, *)])] }
            return [OnnxValue(shape: shape, integers: [v.integers.reduce(1, *)])]
        default:
            throw Unsupported("\(node.described) cannot be folded")
        }
    }

    /// The elements of `v` at `sources`, as a value of `shape`.
    static func select(_ v: OnnxValue, sources: [Int], shape: [Int]) -> OnnxValue {
        v.type == .float
            ? OnnxValue(shape: shape, floats: sources.map { v.floats[$0] })
            : OnnxValue(shape: shape, integers: sources.map { v.integers[$0] }, type: v.type)
    }

    /// Element-wise arithmetic and comparisons with broadcasting, in integers when both inputs
    /// are integers (Div truncates toward zero, as ONNX's integer Div).
    static func binary(_ node: OnnxNode, _ a: OnnxValue, _ b: OnnxValue) throws -> OnnxValue {
        guard let shape = Broadcast.shape(a.shape, b.shape) else {
            throw Unsupported("\(node.described): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let sa = ShapeRules.broadcastSources(a.shape, to: shape), sb = ShapeRules.broadcastSources(b.shape, to: shape)
        let comparison = ["Equal", "Less", "Greater"].contains(node.opType)
        if a.type != .float && b.type != .float {
            let x = a.integers, y = b.integers
            let result: [Int] = try (0..<sa.count).map { i in
                let (p, q) = (x[sa[i]], y[sb[i]])
                switch node.opType {
                case "Add": return p &+ q
                case "Sub": return p &- q
                case "Mul": return p &* q
                case "Div", "Mod":
                    guard q != 0 else { throw Unsupported("\(node.described): integer division by zero") }
                    if node.opType == "Div" { return p / q }
                    let r = p % q  // ONNX Mod (fmod = 0) takes the divisor's sign
                    return r != 0 && (r < 0) != (q < 0) ? r + q : r
                case "Equal": return p == q ? 1 : 0
                case "Less": return p < q ? 1 : 0
                case "Greater": return p > q ? 1 : 0
                case "Min": return Swift.min(p, q)
                default: return Swift.max(p, q)
                }
            }
            return OnnxValue(shape: shape, integers: result, type: comparison ? .boolean : a.type)
        }
        let x = a.asFloats, y = b.asFloats
        let result: [Float] = (0..<sa.count).map { i in
            let (p, q) = (x[sa[i]], y[sb[i]])
            switch node.opType {
            case "Add": return p + q
            case "Sub": return p - q
            case "Mul": return p * q
            case "Div": return p / q
            case "Mod": return fmodf(p, q)
            case "Equal": return p == q ? 1 : 0
            case "Less": return p < q ? 1 : 0
            case "Greater": return p > q ? 1 : 0
            case "Min": return Swift.min(p, q)
            default: return Swift.max(p, q)
            }
        }
        if comparison { return OnnxValue(shape: shape, integers: result.map { Int($0) }, type: .boolean) }
        return OnnxValue(shape: shape, floats: result)
    }
}

/// `x` rounded to the nearest bfloat16 (ties to even), as a Float; NaN stays NaN.
func roundedToBFloat16(_ x: Float) -> Float {
    guard !x.isNaN else { return x }
    let bits = x.bitPattern
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return Float(bitPattern: rounded & 0xFFFF_0000)
}

/// `x` rounded to the nearest float16, as a Float.
func roundedToFloat16(_ x: Float) -> Float { Float(Float16(x)) }

/// `x` with its mantissa cut to bfloat16's 7 bits (the rounding of opsets before 19).
func truncatedToBFloat16(_ x: Float) -> Float { x.isNaN ? x : Float(bitPattern: x.bitPattern & 0xFFFF_0000) }
