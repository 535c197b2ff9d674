import Spec
import Tensors

/// Classwise expected calibration error (Kull et al., NeurIPS 2019): for every class `c`, the
/// probabilities `p_c` of all samples are put in `bins` equal-width bins (default 15, as
/// `Binning.equalWidth`), and `ECE_c = Σ_b (n_b / N) · |freq_b − conf_b|` with `freq_b` the
/// fraction of the bin's samples whose label is `c` and `conf_b` their mean `p_c`; the metric
/// is the mean of `ECE_c` over all classes. The per-class values are stored as `per_class`.
public struct ClasswiseCalibrationError: Metric, Equatable {
    public static let kind = "classwise_ece"
    public static let defaults = ["bins": "15"]
    public static let summary = "Mean over classes of the calibration error of each class's probability (equal-width bins, default 15)."
    public var definition: String {
        "Classwise ECE (Kull et al. 2019): the mean over classes c of the expected calibration error of p_c against 1[y = c], with \(bins ?? 15) equal-width bins; lower is better."
    }
    /// Number of bins, ≥ 1 (default 15).
    public var bins: Int?

    public init(bins: Int? = nil) { self.bins = bins }

    public var name: String { "classwise_ece" + (bins.map { $0 == 15 ? "" : "_\($0)_bins" } ?? "") }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: false)] }
    public func problems(classCount: Int) -> [String] { CalibrationError.problems(bins: bins) }
    public func makeAccumulator() -> any MetricAccumulator { Accumulator(bins: bins ?? 15) }

    struct Accumulator: MetricAccumulator {
        let bins: Int
        var perClass: [ReliabilityBins] = []

        mutating func add(logits: Tensor, labels: [Int]) {
            let classes = logits.shape[1]
            if perClass.isEmpty { perClass = Array(repeating: ReliabilityBins(equalWidth: bins), count: classes) }
            let probabilities = Kernels.softmax(logits).scalars
            for (row, label) in labels.enumerated() {
                for c in 0..<classes {
                    perClass[c].add(confidence: Double(probabilities[row * classes + c]), correct: label == c ? 1 : 0)
                }
            }
        }

        mutating func merge(_ other: any MetricAccumulator) {
            guard let other = other as? Accumulator else { preconditionFailure("merging accumulators of different metrics") }
            if perClass.isEmpty { perClass = other.perClass; return }
            for c in perClass.indices where c < other.perClass.count { perClass[c].merge(other.perClass[c]) }
        }

        var result: MetricResult {
            guard !perClass.isEmpty, perClass[0].total > 0 else { return MetricResult(scalars: [.nan]) }
            let errors = perClass.map(\.expectedError)
            return MetricResult(
                scalars: [errors.reduce(0, +) / Double(errors.count)],
                arrays: [MetricArray("per_class", shape: [errors.count], values: errors)])
        }
    }
}
