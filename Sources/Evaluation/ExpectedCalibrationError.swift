import Spec

/// Expected calibration error; see `CalibrationError`.
public struct ExpectedCalibrationError: BinnedCalibrationMetric, Equatable {
    public static let kind = "ece"
    public static let defaults = ["bins": "15", "binning": "equal_width"]
    static let statistic = CalibrationError.Statistic.expected
    public static let summary = "Expected calibration error of the top-label confidence over equal-width or equal-mass bins (default 15)."
    /// Number of bins, ≥ 1 (default 15).
    public var bins: Int?
    /// `equal_width` (default) or `equal_mass` (adaptive ECE).
    public var binning: Binning?

    public init(bins: Int? = nil, binning: Binning? = nil) {
        self.bins = bins
        self.binning = binning
    }
}
