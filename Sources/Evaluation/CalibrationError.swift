import Tensors

/// Top-label calibration error over confidence bins (Naeini, Cooper & Hauskrecht 2015; Guo et
/// al. 2017). The confidence of a sample is its largest softmax probability, its correctness 1
/// when that class (ties to the lowest index) is the label.
///
/// - `ece` (expected calibration error) `= Σ_b (n_b / N) · |acc_b − conf_b|`, with `acc_b` and
///   `conf_b` the mean correctness and confidence of bin `b`;
/// - `mce` (maximum calibration error) `= max_b |acc_b − conf_b|` over the non-empty bins.
///
/// `bins` (default 15, Guo et al.'s choice) and `binning` (`equal_width`, default, or
/// `equal_mass`, the adaptive ECE) are defined in `Binning`. Both kinds store the reliability
/// diagram (`bin_lower`, `bin_upper`, `bin_confidence`, `bin_accuracy`, `bin_count`).
public struct CalibrationError: Sendable, Equatable {
    public enum Statistic: Sendable { case expected, maximum }
    public var statistic: Statistic
    public var bins: Int
    public var binning: Binning

    public init(_ statistic: Statistic, bins: Int = 15, binning: Binning = .equalWidth) {
        self.statistic = statistic
        self.bins = bins
        self.binning = binning
    }

    public var name: String {
        (statistic == .expected ? "ece" : "mce") + (binning == .equalMass ? "_equal_mass" : "") + (bins == 15 ? "" : "_\(bins)_bins")
    }

    /// The exact definition with these parameters, for the report's methods.
    public var definition: String {
        let statisticText =
            statistic == .expected
            ? "ECE = Σ_b (n_b/N)·|acc_b − conf_b|"
            : "MCE = max_b |acc_b − conf_b| over the non-empty bins"
        let binText =
            switch binning {
            case .equalWidth: "\(bins) equal-width bins, confidence c in bin min(⌊c·\(bins)⌋, \(bins - 1)) (so c = 1 falls in the last bin)"
            case .equalMass: "\(bins) equal-mass bins: the confidence-sorted samples split into runs whose sizes differ by at most one (adaptive ECE)"
            }
        return
            "\(statisticText), with confidence c = max_c p_c (the top-label probability), acc_b and conf_b the mean correctness and confidence of bin b, over \(binText); lower is better."
    }

    static func problems(bins: Int?) -> [String] {
        if let bins, bins < 1 { return ["bins must be ≥ 1, got \(bins)"] }
        return []
    }

    func value(_ bins: ReliabilityBins) -> MetricResult {
        MetricResult(scalars: [statistic == .expected ? bins.expectedError : bins.maximumError], arrays: bins.arrays)
    }

    public func makeAccumulator() -> any MetricAccumulator {
        switch binning {
        case .equalWidth:
            return EqualWidthAccumulator(error: self, bins: ReliabilityBins(equalWidth: bins))
        case .equalMass:
            let error = self
            return SampleAccumulator { samples in
                let (predicted, confidence) = samples.topLabel()
                let correct = zip(predicted, samples.labels).map { $0 == $1 ? 1.0 : 0.0 }
                return error.value(ReliabilityBins(equalMass: error.bins, confidence: confidence, correct: correct))
            }
        }
    }

    struct EqualWidthAccumulator: MetricAccumulator {
        let error: CalibrationError
        var bins: ReliabilityBins

        mutating func add(logits: Tensor, labels: [Int]) {
            var samples = ProbabilityTable()
            samples.append(logits: logits, labels: labels)
            let (predicted, confidence) = samples.topLabel()
            for i in labels.indices { bins.add(confidence: confidence[i], correct: predicted[i] == labels[i] ? 1 : 0) }
        }

        mutating func merge(_ other: any MetricAccumulator) {
            guard let other = other as? EqualWidthAccumulator else { preconditionFailure("merging accumulators of different metrics") }
            bins.merge(other.bins)
        }

        var result: MetricResult {
            bins.total == 0 ? MetricResult(scalars: [.nan]) : error.value(bins)
        }
    }
}

/// The shared shape of the `ece` and `mce` kinds: a statistic over top-label confidence bins.
protocol BinnedCalibrationMetric: Metric {
    static var statistic: CalibrationError.Statistic { get }
    var bins: Int? { get }
    var binning: Binning? { get }
}

extension BinnedCalibrationMetric {
    var error: CalibrationError {
        CalibrationError(Self.statistic, bins: bins ?? 15, binning: binning ?? .equalWidth)
    }
    public var name: String { error.name }
    public var definition: String { error.definition }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: false)] }
    public func problems(classCount: Int) -> [String] { CalibrationError.problems(bins: bins) }
    public func makeAccumulator() -> any MetricAccumulator { error.makeAccumulator() }
}
