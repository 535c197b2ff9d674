extension Tensor {
    /// Element-wise `self + other` (shapes must be equal).
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "shape mismatch \(lhs.shape) + \(rhs.shape)")
        var out = lhs
        out.add(rhs)
        return out
    }

    /// Element-wise `self - other` (shapes must be equal).
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "shape mismatch \(lhs.shape) - \(rhs.shape)")
        var out = lhs
        out.add(rhs, scaledBy: -1)
        return out
    }

    /// Element-wise (Hadamard) product (shapes must be equal).
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "shape mismatch \(lhs.shape) * \(rhs.shape)")
        var out = lhs
        for i in 0..<out.count { out.scalars[i] *= rhs.scalars[i] }
        return out
    }

    /// Every element multiplied by `scalar`.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor {
        var out = lhs
        out.scale(by: rhs)
        return out
    }

    /// `self += factor * other`, in place.
    public mutating func add(_ other: Tensor, scaledBy factor: Float = 1) {
        precondition(shape == other.shape, "shape mismatch \(shape) += \(other.shape)")
        scalars.withUnsafeMutableBufferPointer { dst in
            other.scalars.withUnsafeBufferPointer { src in
                for i in 0..<dst.count { dst[i] += factor * src[i] }
            }
        }
    }

    /// `self *= factor`, in place.
    public mutating func scale(by factor: Float) {
        scalars.withUnsafeMutableBufferPointer { dst in
            for i in 0..<dst.count { dst[i] *= factor }
        }
    }

    /// Every element clamped to `range`.
    public func clamped(to range: ClosedRange<Float>) -> Tensor {
        var out = self
        out.scalars.withUnsafeMutableBufferPointer { dst in
            for i in 0..<dst.count { dst[i] = Swift.min(Swift.max(dst[i], range.lowerBound), range.upperBound) }
        }
        return out
    }

    /// The sum of all elements, accumulated in Double.
    public func sum() -> Double {
        scalars.reduce(0.0) { $0 + Double($1) }
    }

    /// The largest absolute element-wise difference to `other`.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shape mismatch \(shape) vs \(other.shape)")
        var worst: Float = 0
        for (a, b) in zip(scalars, other.scalars) { worst = Swift.max(worst, abs(a - b)) }
        return worst
    }

    /// The index of the largest element of each row of a `[rows, columns]` tensor.
    public func argMax(axis: Int) -> [Int] {
        precondition(rank == 2 && axis == 1, "argMax(axis:) supports axis 1 of a rank-2 tensor")
        let columns = shape[1]
        return (0..<shape[0]).map { row in
            var best = 0
            var bestValue = -Float.infinity
            for column in 0..<columns where scalars[row * columns + column] > bestValue {
                bestValue = scalars[row * columns + column]
                best = column
            }
            return best
        }
    }
}
