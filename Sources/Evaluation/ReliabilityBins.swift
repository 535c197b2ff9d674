import Spec
/// How confidences are grouped into bins for calibration errors and reliability diagrams.
///
/// - `equal_width`: `B` bins of width `1/B`; a confidence `c` falls in bin `min(⌊c·B⌋, B − 1)`,
///   so bins are `[k/B, (k+1)/B)` and the last one, `[(B−1)/B, 1]`, also holds `c = 1`
///   (Guo et al. 2017, Naeini et al. 2015).
/// - `equal_mass` (adaptive binning, Nguyen & O'Connor 2015; Nixon et al. 2019): samples sorted
///   by confidence (ties by sample order) and split into `B` runs whose sizes differ by at most
///   one, the larger runs first (NumPy's `array_split`).
public enum Binning: String, ParameterChoice {
    case equalWidth = "equal_width"
    case equalMass = "equal_mass"
}

/// Per-bin sums for a reliability diagram: count, summed confidence and summed correctness,
/// with each bin's confidence range.
public struct ReliabilityBins: Sendable, Equatable {
    public var lower: [Double]
    public var upper: [Double]
    public var count: [Int]
    public var confidenceSum: [Double]
    public var correctSum: [Double]

    /// Empty equal-width bins.
    public init(equalWidth bins: Int) {
        lower = (0..<bins).map { Double($0) / Double(bins) }
        upper = (0..<bins).map { Double($0 + 1) / Double(bins) }
        count = Array(repeating: 0, count: bins)
        confidenceSum = Array(repeating: 0, count: bins)
        correctSum = Array(repeating: 0, count: bins)
    }

    /// The equal-width bin of a confidence in [0, 1].
    public static func equalWidthIndex(_ confidence: Double, bins: Int) -> Int {
        min(max(Int((confidence * Double(bins)).rounded(.down)), 0), bins - 1)
    }

    public mutating func add(confidence: Double, correct: Double) {
        let bin = Self.equalWidthIndex(confidence, bins: count.count)
        count[bin] += 1
        confidenceSum[bin] += confidence
        correctSum[bin] += correct
    }

    public mutating func merge(_ other: ReliabilityBins) {
        for b in count.indices {
            count[b] += other.count[b]
            confidenceSum[b] += other.confidenceSum[b]
            correctSum[b] += other.correctSum[b]
        }
    }

    /// Equal-mass bins of the given confidences; a bin's range is its smallest and largest confidence.
    public init(equalMass bins: Int, confidence: [Double], correct: [Double]) {
        let order = confidence.indices.sorted { confidence[$0] < confidence[$1] || (confidence[$0] == confidence[$1] && $0 < $1) }
        self.init(equalWidth: bins)
        let base = order.count / bins, larger = order.count % bins
        var start = 0
        for b in 0..<bins {
            let size = base + (b < larger ? 1 : 0)
            let members = order[start..<start + size]
            start += size
            count[b] = size
            confidenceSum[b] = members.reduce(0) { $0 + confidence[$1] }
            correctSum[b] = members.reduce(0) { $0 + correct[$1] }
            lower[b] = members.first.map { confidence[$0] } ?? .nan
            upper[b] = members.last.map { confidence[$0] } ?? .nan
        }
    }

    public var total: Int { count.reduce(0, +) }

    /// `Σ_b (n_b / N) · |acc_b − conf_b|` (`nan` without samples).
    public var expectedError: Double {
        let n = Double(total)
        guard n > 0 else { return .nan }
        return count.indices.reduce(0) { $0 + abs(correctSum[$1] - confidenceSum[$1]) / n }
    }

    /// `max_b |acc_b − conf_b|` over the non-empty bins (`nan` without samples).
    public var maximumError: Double {
        let gaps = count.indices.filter { count[$0] > 0 }.map { abs(correctSum[$0] - confidenceSum[$0]) / Double(count[$0]) }
        return gaps.max() ?? .nan
    }

    /// The reliability diagram: per bin its range, mean confidence, accuracy (`nan` when empty)
    /// and count, each `[bins]`.
    public var arrays: [MetricArray] {
        let bins = count.count
        func mean(_ sums: [Double]) -> [Double] { sums.indices.map { count[$0] == 0 ? .nan : sums[$0] / Double(count[$0]) } }
        return [
            MetricArray("bin_lower", shape: [bins], values: lower),
            MetricArray("bin_upper", shape: [bins], values: upper),
            MetricArray("bin_confidence", shape: [bins], values: mean(confidenceSum)),
            MetricArray("bin_accuracy", shape: [bins], values: mean(correctSum)),
            MetricArray("bin_count", shape: [bins], values: count.map(Double.init)),
        ]
    }
}
