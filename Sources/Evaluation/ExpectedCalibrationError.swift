/// Expected calibration error; see `CalibrationError`.
public struct ExpectedCalibrationError: Metric, Equatable {
    public static let kind = "ece"
    public static let summary = "Expected calibration error of the top-label confidence over equal-width or equal-mass bins (default 15)."
    /// Number of bins, ≥ 1 (default 15).
    public var bins: Int?
    /// `equal_width` (default) or `equal_mass` (adaptive ECE).
    public var binning: String?

    public init(bins: Int? = nil, binning: String? = nil) {
        self.bins = bins
        self.binning = binning
    }

    var error: CalibrationError {
        CalibrationError(.expected, bins: bins ?? 15, binning: binning.flatMap(Binning.init(rawValue:)) ?? .equalWidth)
    }
    public var name: String { error.name }
    public var columns: [MetricColumn] { [MetricColumn(name, higherIsBetter: false)] }
    public func problems(classCount: Int) -> [String] { CalibrationError.problems(bins: bins, binning: binning) }
    public func makeAccumulator() -> any MetricAccumulator { error.makeAccumulator() }
}
