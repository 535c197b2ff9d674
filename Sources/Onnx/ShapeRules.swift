// ONNX's rules for shape-changing ops, shared by the constant folder (`OnnxStatic`) and the
// layers (`OnnxOperators`). Each throws `Unsupported` with the reason when the arguments do not
// fit the input.

enum ShapeRules {
    /// Gather along `axis` of `shape`: the indices made non-negative as a selection of that
    /// axis (`kept`, nil for the other axes), and the output shape (the indices' shape in
    /// place of the axis).
    static func gather(_ shape: [Int], indices: OnnxValue, axis: Int, node: OnnxNode) throws -> (kept: [[Int]?], shape: [Int]) {
        let extent = shape[axis]
        let flat = try indices.asIntegers.map { i in
            guard i >= -extent && i < extent else { throw Unsupported("\(node.described): index \(i) out of range for extent \(extent)") }
            return i < 0 ? i + extent : i
        }
        var kept = [[Int]?](repeating: nil, count: shape.count)
        kept[axis] = flat
        return (kept, Array(shape[..<axis]) + indices.shape + Array(shape[(axis + 1)...]))
    }

    /// An axis in `-rank..<rank` made non-negative.
    static func axis(_ axis: Int, rank: Int, _ what: String = "axis") throws -> Int {
        guard axis >= -rank && axis < rank else { throw Unsupported("\(what) \(axis) is out of range for rank \(rank)") }
        return axis < 0 ? axis + rank : axis
    }

    /// Reshape's target: 0 copies the input's extent (unless `allowZero`), one -1 is inferred.
    static func reshape(_ input: [Int], to requested: [Int], allowZero: Bool) throws -> [Int] {
        var shape = requested
        for i in shape.indices where shape[i] == 0 && !allowZero {
            guard i < input.count else { throw Unsupported("Reshape copies axis \(i), which the input \(input) lacks") }
            shape[i] = input[i]
        }
        let count = input.reduce(1, *)
        let unknown = shape.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 }) else { throw Unsupported("Reshape to \(requested) is not a valid shape") }
        if let i = unknown.first {
            let known = shape.enumerated().reduce(1) { $1.offset == i ? $0 : $0 * $1.element }
            guard known > 0, count % known == 0 else { throw Unsupported("Reshape of \(input) to \(requested): \(count) elements do not divide") }
            shape[i] = count / known
        }
        guard shape.reduce(1, *) == count else { throw Unsupported("Reshape of \(input) (\(count) elements) to \(requested)") }
        return shape
    }

    /// Unsqueeze: new axes of extent 1 at `axes` of the output.
    static func unsqueeze(_ input: [Int], axes: [Int]) throws -> [Int] {
        let rank = input.count + axes.count
        let normalized = Set(try axes.map { try axis($0, rank: rank) })
        guard normalized.count == axes.count else { throw Unsupported("Unsqueeze axes \(axes) repeat") }
        var source = input.makeIterator()
        return (0..<rank).map { normalized.contains($0) ? 1 : source.next()! }
    }

    /// Squeeze: drops `axes` (all of extent 1), or every axis of extent 1 when nil.
    static func squeeze(_ input: [Int], axes: [Int]?) throws -> [Int] {
        guard let axes else { return input.filter { $0 != 1 } }
        let normalized = Set(try axes.map { try axis($0, rank: input.count) })
        for a in normalized where input[a] != 1 { throw Unsupported("Squeeze of axis \(a) of \(input), whose extent is not 1") }
        return input.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
    }

    /// Slice: for each axis of `input`, the indices kept (in order); nil for an untouched axis.
    static func slice(_ input: [Int], starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) throws -> [[Int]?] {
        guard starts.count == ends.count, axes.map({ $0.count == starts.count }) ?? true, steps.map({ $0.count == starts.count }) ?? true else {
            throw Unsupported("Slice's starts, ends, axes and steps differ in length")
        }
        var kept = [[Int]?](repeating: nil, count: input.count)
        let axes = try (axes ?? Array(0..<starts.count)).map { try axis($0, rank: input.count) }
        guard Set(axes).count == axes.count else { throw Unsupported("Slice axes \(axes) repeat") }
        for (k, a) in axes.enumerated() {
            let extent = input[a]
            let step = steps?[k] ?? 1
            guard step != 0 else { throw Unsupported("Slice step 0") }
            func clamp(_ value: Int, low: Int, high: Int) -> Int { min(max(value, low), high) }
            var start = starts[k] < 0 ? starts[k] &+ extent : starts[k]
            var end = ends[k] < 0 ? ends[k] &+ extent : ends[k]
            if step > 0 {
                start = clamp(start, low: 0, high: extent)
                end = clamp(end, low: 0, high: extent)
                kept[a] = start < end ? Array(stride(from: start, to: end, by: step)) : []
            } else {
                start = clamp(start, low: 0, high: extent - 1)
                end = clamp(end, low: -1, high: extent - 1)
                kept[a] = start > end ? Array(stride(from: start, to: end, by: step)) : []
            }
        }
        return kept
    }

    /// Flatten to 2-D at `axis`.
    static func flatten(_ input: [Int], axis a: Int) throws -> [Int] {
        guard a >= -input.count && a <= input.count else { throw Unsupported("Flatten axis \(a) is out of range for rank \(input.count)") }
        let a = a < 0 ? a + input.count : a
        return [input[..<a].reduce(1, *), input[a...].reduce(1, *)]
    }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        return strides
    }

    /// For every element of `output` (a shape `input` broadcasts to), the flat index of the
    /// element of `input` it reads.
    static func broadcastSources(_ input: [Int], to output: [Int]) -> [Int] {
        let offset = output.count - input.count
        let inputStrides = strides(input)
        let count = output.reduce(1, *)
        var sources = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: output.count)
        for flat in 0..<count {
            var source = 0
            for a in 0..<input.count where input[a] != 1 { source += index[a + offset] * inputStrides[a] }
            sources[flat] = source
            var axis = output.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < output[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return sources
    }

    /// For every element of the output of keeping `kept[a]` (nil: all) along each axis of
    /// `input`, the flat index it reads, with the output shape.
    static func selectionSources(_ input: [Int], kept: [[Int]?]) -> (shape: [Int], sources: [Int]) {
        let lists = input.indices.map { kept[$0] ?? Array(0..<input[$0]) }
        let shape = lists.map(\.count)
        let inputStrides = strides(input)
        var sources: [Int] = [0]
        for (a, list) in lists.enumerated() {
            var next: [Int] = []
            next.reserveCapacity(sources.count * list.count)
            for base in sources { for i in list { next.append(base + i * inputStrides[a]) } }
            sources = next
        }
        return (shape, sources)
    }

    /// Transpose: for every output element, the flat input index, with the output shape.
    static func transposeSources(_ input: [Int], perm: [Int]) throws -> (shape: [Int], sources: [Int]) {
        guard perm.sorted() == Array(0..<input.count) else { throw Unsupported("Transpose perm \(perm) for rank \(input.count)") }
        let inputStrides = strides(input)
        let shape = perm.map { input[$0] }
        var sources: [Int] = [0]
        for a in perm {
            var next: [Int] = []
            next.reserveCapacity(sources.count * input[a])
            for base in sources { for i in 0..<input[a] { next.append(base + i * inputStrides[a]) } }
            sources = next
        }
        return (shape, sources)
    }
}
