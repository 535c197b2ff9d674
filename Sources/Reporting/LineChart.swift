/// Lines of (x, y) points, one per series, with markers, optional ± error bars, an optional
/// y = x reference (ROC curves, reliability) and a legend at the right. Accuracy against
/// severity, robust accuracy against epsilon, ROC and PR curves, learning curves and per-layer
/// statistics are line charts.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Half-widths of error bars (a standard deviation over repeats), per point; empty for none.
        public var errors: [Double]
        /// Markers at the points (off for dense curves).
        public var markers: Bool

        public init(name: String, points: [(x: Double, y: Double)], errors: [Double] = [], markers: Bool = true) {
            self.name = name
            self.points = points
            self.errors = errors
            self.markers = markers
        }
    }

    public var title: String
    public var xTitle: String
    public var yTitle: String
    public var series: [Series]
    public var xDomain: ClosedRange<Double>?
    public var yDomain: ClosedRange<Double>?
    /// Category labels at integer x positions (layer names), instead of numeric ticks.
    public var xLabels: [(value: Double, label: String)]?
    /// Draws the dotted line y = x.
    public var diagonal = false
    /// Shows the legend even for one series (default: from two series on).
    public var alwaysLegend = false
    public var width = 560.0
    public var height = 340.0

    public init(
        title: String, xTitle: String, yTitle: String, series: [Series],
        xDomain: ClosedRange<Double>? = nil, yDomain: ClosedRange<Double>? = nil
    ) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.series = series
        self.xDomain = xDomain
        self.yDomain = yDomain
    }

    public func svg() -> String {
        var chart = self
        if series.count > 1 || alwaysLegend { chart.height = max(height, 100 + 17 * Double(series.count)) }
        var svg = SVGWriter(width: chart.width, height: chart.height, title: title)
        chart.draw(into: &svg)
        return svg.render()
    }

    /// Draws the chart into a writer of at least this chart's size (a panel of a larger figure).
    public func draw(into svg: inout SVGWriter) {
        let legendWidth = series.count > 1 || alwaysLegend ? min(220, 28 + 6.2 * Double(series.map(\.name.count).max() ?? 0)) : 0
        let bottom = (xLabels?.contains { $0.label.count > 6 } ?? false) ? 92.0 : 56.0
        let values = series.flatMap { s in s.points.indices.map { (s.points[$0], s.errors.isEmpty ? 0 : s.errors[$0]) } }
        let frame = PlotFrame(
            left: 64, top: 34, width: width - 64 - 16 - legendWidth, height: height - 34 - bottom,
            xValues: values.map(\.0.x), yValues: values.flatMap { [$0.0.y - $0.1, $0.0.y + $0.1] },
            xDomain: xDomain, yDomain: yDomain, xLabels: xLabels)
        svg.text(width / 2, 20, title, size: 13, anchor: .middle, bold: true)
        frame.draw(into: &svg, xTitle: xTitle, yTitle: yTitle)
        if diagonal {
            let low = max(frame.x.lowerBound, frame.y.lowerBound), high = min(frame.x.upperBound, frame.y.upperBound)
            svg.line(frame.px(low), frame.py(low), frame.px(high), frame.py(high), stroke: "#888888", dash: "3 3")
        }
        for (index, line) in series.enumerated() {
            let color = Palette.color(index)
            let inside = line.points.map { point in
                (x: frame.px(point.x), y: point.y.isFinite ? frame.py(min(max(point.y, frame.y.lowerBound), frame.y.upperBound)) : .nan)
            }
            svg.polyline(inside, stroke: color, dash: Palette.dash(index))
            for (k, point) in line.points.enumerated() where point.y.isFinite {
                if !line.errors.isEmpty, line.errors[k].isFinite, line.errors[k] > 0 {
                    let x = frame.px(point.x)
                    svg.line(x, frame.py(point.y - line.errors[k]), x, frame.py(point.y + line.errors[k]), stroke: color)
                }
                if line.markers { svg.marker(inside[k].x, inside[k].y, shape: index, fill: color) }
            }
        }
        if legendWidth > 0 {
            let x = width - legendWidth - 4
            for (index, line) in series.enumerated() {
                let y = frame.top + 8 + Double(index) * 17
                svg.line(x, y, x + 18, y, stroke: Palette.color(index), width: 2, dash: Palette.dash(index))
                if line.markers { svg.marker(x + 9, y, shape: index, fill: Palette.color(index)) }
                svg.text(x + 24, y + 4, line.name, size: 11)
            }
        }
    }
}
