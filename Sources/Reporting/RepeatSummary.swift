/// The metrics of an experiment aggregated over repeats: one row per cell of the grid (model,
/// sweep values) and evaluation (name, predictor, calibration), with the mean and the sample
/// standard deviation (n − 1 in the denominator; NaN for a single repeat) of every metric column
/// over the completed repeats, and how many there were. Only `repeats` are aggregated: a swept
/// `seed` is an axis like any other. A NaN in any repeat makes the mean NaN: nothing is dropped
/// silently.
public struct RepeatSummary: Sendable {
    public struct Row: Sendable {
        public var model: String
        /// The value of every axis of `axes`, in order ("" where the cell has none).
        public var values: [String]
        public var evaluation: String
        public var kind: String
        public var predictor: String
        public var calibration: String
        /// Completed repeats that contributed.
        public var repeats: Int
        public var mean: [Double]
        public var standardDeviation: [Double]
    }

    /// The sweep axes other than `model` and `repeat`.
    public var axes: [String] = []
    public var metrics: [String] = []
    /// The repeats the spec asks for.
    public var requestedRepeats = 1
    public var rows: [Row] = []

    /// Aggregates the completed cells; `axes` fixes the axis columns (default: every axis of
    /// the cells in order of appearance, without `model` and `repeat`).
    public init(_ cells: [CellResult], requestedRepeats: Int, axes: [String]? = nil) {
        self.requestedRepeats = requestedRepeats
        for cell in cells {
            // `repeat` is the axis the summary aggregates over.
            for (axis, _) in cell.parameters where axes == nil && axis != "model" && axis != "repeat" && !self.axes.contains(axis) { self.axes.append(axis) }
            for (name, _) in cell.metrics where !metrics.contains(name) { metrics.append(name) }
        }
        if let axes { self.axes = axes }
        var order: [[String]] = []
        var samples: [[String]: (row: Row, values: [[Double]])] = [:]
        for cell in cells where cell.completed {
            let values = self.axes.map { axis in cell.parameters.first { $0.axis == axis }?.value ?? "" }
            for (index, evaluation) in cell.evaluations.enumerated() {
                let key = [cell.model] + values + [evaluation.name, evaluation.predictor, evaluation.calibration]
                let metricValues = metrics.map { name in cell.metric(name)?[index] ?? .nan }
                if samples[key] == nil {
                    order.append(key)
                    samples[key] = (
                        Row(
                            model: cell.model, values: values, evaluation: evaluation.name, kind: evaluation.kind,
                            predictor: evaluation.predictor, calibration: evaluation.calibration,
                            repeats: 0, mean: [], standardDeviation: []), []
                    )
                }
                samples[key]!.values.append(metricValues)
            }
        }
        rows = order.map { key in
            var (row, values) = samples[key]!
            let n = Double(values.count)
            row.repeats = values.count
            row.mean = metrics.indices.map { m in values.reduce(0) { $0 + $1[m] } / n }
            row.standardDeviation = metrics.indices.map { m in
                guard values.count > 1 else { return .nan }
                let mean = row.mean[m]
                return (values.reduce(0) { $0 + ($1[m] - mean) * ($1[m] - mean) } / (n - 1)).squareRoot()
            }
            return row
        }
    }
}
