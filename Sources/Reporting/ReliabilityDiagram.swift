/// A reliability diagram (DeGroot & Fienberg 1983; Guo et al. 2017): per confidence bin, the
/// accuracy as a bar over the bin's range, the gap to the bin's mean confidence hatched in
/// orange, the diagonal of perfect calibration, and below it the bin counts, so that a bin of
/// three samples is not read like a bin of three thousand.
public struct ReliabilityDiagram: Sendable {
    public var title: String
    public var lower: [Double]
    public var upper: [Double]
    /// Mean confidence and accuracy per bin (NaN for empty bins).
    public var confidence: [Double]
    public var accuracy: [Double]
    public var count: [Double]

    public init(title: String, lower: [Double], upper: [Double], confidence: [Double], accuracy: [Double], count: [Double]) {
        self.title = title
        self.lower = lower
        self.upper = upper
        self.confidence = confidence
        self.accuracy = accuracy
        self.count = count
    }

    public func svg() -> String {
        var svg = SVGWriter(width: 420, height: 460, title: title)
        svg.text(210, 20, title, size: 13, anchor: .middle, bold: true)
        let frame = PlotFrame(left: 64, top: 34, width: 330, height: 260, xValues: [], yValues: [], xDomain: 0...1, yDomain: 0...1)
        frame.draw(into: &svg, xTitle: "", yTitle: "accuracy (fraction)")
        for b in lower.indices where count[b] > 0 {
            let x0 = frame.px(lower[b]), x1 = frame.px(upper[b])
            svg.rect(
                x0, frame.py(accuracy[b]), x1 - x0, frame.py(0) - frame.py(accuracy[b]), fill: "#0072B2", stroke: "#FFFFFF",
                tooltip:
                    "confidence \(TextTable.number(confidence[b], decimals: 3)), accuracy \(TextTable.number(accuracy[b], decimals: 3)), \(Int(count[b])) samples"
            )
            let top = max(accuracy[b], confidence[b]), bottom = min(accuracy[b], confidence[b])
            svg.rect(x0, frame.py(top), x1 - x0, frame.py(bottom) - frame.py(top), fill: "#E69F00")
        }
        svg.line(frame.px(0), frame.py(0), frame.px(1), frame.py(1), stroke: "#555555", dash: "4 3")
        svg.rect(74, 44, 12, 10, fill: "#0072B2")
        svg.text(90, 53, "accuracy", size: 11)
        svg.rect(74, 60, 12, 10, fill: "#E69F00")
        svg.text(90, 69, "gap to confidence", size: 11)
        // The counts panel.
        let maximum = max(1, count.max() ?? 1)
        let counts = PlotFrame(left: 64, top: 330, width: 330, height: 70, xValues: [], yValues: [0, maximum], xDomain: 0...1)
        counts.draw(into: &svg, xTitle: "confidence (top-label probability)", yTitle: "samples")
        for b in lower.indices where count[b] > 0 {
            let x0 = counts.px(lower[b]), x1 = counts.px(upper[b])
            svg.rect(x0, counts.py(count[b]), x1 - x0, counts.py(0) - counts.py(count[b]), fill: "#56B4E9", stroke: "#FFFFFF")
        }
        return svg.render()
    }
}
