import Spec

/// Maximum calibration error; see `CalibrationError`.
public struct MaximumCalibrationError: BinnedCalibrationMetric, Equatable {
    public static let kind = "mce"
    public static let defaults = ["bins": "15", "binning": "equal_width"]
    static let statistic = CalibrationError.Statistic.maximum
    public static let summary = "Maximum calibration error: the largest |accuracy − confidence| over the non-empty bins (default 15)."
    /// Number of bins, ≥ 1 (default 15).
    public var bins: Int?
    /// `equal_width` (default) or `equal_mass`.
    public var binning: Binning?

    public init(bins: Int? = nil, binning: Binning? = nil) {
        self.bins = bins
        self.binning = binning
    }
}
