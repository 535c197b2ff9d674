import Spec
import Tensors

/// Histogram binning (Zadrozny & Elkan, ICML 2001), one-vs-rest: for every class `c`, the
/// validation probabilities `p_c` are put in `bins` equal-width bins (as `Binning.equalWidth`,
/// default 15) and each bin maps to the fraction of its validation samples whose label is `c`;
/// a bin no validation sample fell in leaves `p_c` unchanged. The per-class outputs are then
/// floored at 1e-7 and renormalised to sum to 1. Stored as `bin_values` `[classes × bins]`
/// (NaN for empty bins).
public struct HistogramBinning: Calibrator, Equatable {
    public static let kind = "histogram_binning"
    public static let defaults = ["bins": "15"]
    public static let summary = "One-vs-rest equal-width bins mapping each class probability to its validation frequency (Zadrozny & Elkan 2001)."
    /// Bins per class, ≥ 1 (default 15).
    public var bins: Int?

    public init(bins: Int? = nil) { self.bins = bins }

    public var label: String { bins.map { "\(Self.kind)(bins=\($0))" } ?? Self.kind }

    public func problems() -> [String] {
        guard let bins, bins < 1 else { return [] }
        return ["bins must be ≥ 1, got \(bins)"]
    }

    public func fit(logits: Tensor, labels: [Int]) -> any FittedCalibrator {
        let bins = self.bins ?? 15
        var samples = ProbabilityTable()
        samples.append(logits: logits, labels: labels)
        var values: [Double] = []
        for c in 0..<samples.classes {
            var table = ReliabilityBins(equalWidth: bins)
            for (p, label) in zip(samples.column(c), labels) { table.add(confidence: p, correct: label == c ? 1 : 0) }
            values += (0..<bins).map { table.count[$0] == 0 ? .nan : table.correctSum[$0] / Double(table.count[$0]) }
        }
        return Fitted(bins: bins, values: values)
    }

    struct Fitted: FittedCalibrator {
        let bins: Int
        /// `[classes × bins]`, NaN where no validation sample fell.
        let values: [Double]

        func apply(_ logits: Tensor) -> Tensor {
            calibratingEachClass(logits) { c, p in
                let value = values[c * bins + ReliabilityBins.equalWidthIndex(p, bins: bins)]
                return value.isNaN ? p : value
            }
        }

        var parameters: [(name: String, values: [Double])] { [("bin_values", values)] }
    }
}
