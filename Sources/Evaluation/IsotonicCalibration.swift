import Spec
import Tensors

/// Isotonic regression calibration (Zadrozny & Elkan, KDD 2002), one-vs-rest: for every class
/// `c`, the non-decreasing function of `p_c` closest in squared error to the indicator of label
/// `c` on the validation split (pool-adjacent-violators over the distinct values of `p_c`, tied
/// values pooled first), evaluated by linear interpolation between the distinct fitted points
/// and clipped outside their range (scikit-learn's `IsotonicRegression(out_of_bounds="clip")`).
/// The per-class outputs are floored at 1e-7 and renormalised to sum to 1. Stored per class as
/// `x_<c>` and `y_<c>` (the interpolation knots).
public struct IsotonicCalibration: Calibrator, Equatable {
    public static let kind = "isotonic"
    public static let summary = "One-vs-rest isotonic regression of the label indicator on each class probability (Zadrozny & Elkan 2002)."
    public init() {}
    public var label: String { Self.kind }
    public func problems() -> [String] { [] }

    public func fit(logits: Tensor, labels: [Int]) -> any FittedCalibrator {
        var samples = ProbabilityTable()
        samples.append(logits: logits, labels: labels)
        let knots = (0..<samples.classes).map { c in
            Self.isotonicFit(x: samples.column(c), y: labels.map { $0 == c ? 1.0 : 0.0 })
        }
        return Fitted(knots: knots)
    }

    /// The isotonic (non-decreasing) least-squares fit of `y` on `x`: its value at each distinct
    /// `x`, in increasing `x`.
    public static func isotonicFit(x: [Double], y: [Double]) -> (x: [Double], y: [Double]) {
        let order = x.indices.sorted { x[$0] < x[$1] }
        // Distinct x values with the mean y and weight of their samples.
        var points: [(x: Double, sum: Double, weight: Double)] = []
        for i in order {
            if let last = points.last, last.x == x[i] {
                points[points.count - 1].sum += y[i]
                points[points.count - 1].weight += 1
            } else {
                points.append((x[i], y[i], 1))
            }
        }
        // Pool adjacent violators: blocks of points with their pooled mean.
        var blocks: [(sum: Double, weight: Double, count: Int)] = []
        for point in points {
            blocks.append((point.sum, point.weight, 1))
            while blocks.count > 1,
                blocks[blocks.count - 2].sum / blocks[blocks.count - 2].weight > blocks[blocks.count - 1].sum / blocks[blocks.count - 1].weight
            {
                let last = blocks.removeLast()
                blocks[blocks.count - 1].sum += last.sum
                blocks[blocks.count - 1].weight += last.weight
                blocks[blocks.count - 1].count += last.count
            }
        }
        let fitted = blocks.flatMap { block in Array(repeating: block.sum / block.weight, count: block.count) }
        return (points.map(\.x), fitted)
    }

    /// Linear interpolation through the knots, constant outside them.
    public static func interpolate(_ value: Double, knots: (x: [Double], y: [Double])) -> Double {
        let (xs, ys) = knots
        guard let first = xs.first, let last = xs.last else { return value }
        if value <= first { return ys[0] }
        if value >= last { return ys[ys.count - 1] }
        var low = 0, high = xs.count - 1  // xs[low] < value < xs[high]
        while high - low > 1 {
            let middle = (low + high) / 2
            if xs[middle] <= value { low = middle } else { high = middle }
        }
        let t = (value - xs[low]) / (xs[high] - xs[low])
        return ys[low] + t * (ys[high] - ys[low])
    }

    struct Fitted: FittedCalibrator {
        let knots: [(x: [Double], y: [Double])]

        func apply(_ logits: Tensor) -> Tensor {
            calibratingEachClass(logits) { c, p in IsotonicCalibration.interpolate(p, knots: knots[c]) }
        }

        var parameters: [(name: String, values: [Double])] {
            knots.enumerated().flatMap { c, knot in [("x_\(c)", knot.x), ("y_\(c)", knot.y)] }
        }
    }
}
