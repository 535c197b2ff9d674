import Foundation

/// The axes of a two-dimensional plot: the plotting rectangle inside a panel, linear scales
/// from data to pixels, "nice" ticks (1, 2 or 5 times a power of ten), grid lines, tick labels
/// and axis titles (which carry the units).
struct PlotFrame {
    var left: Double, top: Double, width: Double, height: Double
    var x: ClosedRange<Double>, y: ClosedRange<Double>
    var xTicks: [(value: Double, label: String)]
    var yTicks: [(value: Double, label: String)]

    /// A frame whose domains cover `xValues` and `yValues` (or the given domains), rounded out
    /// to ticks.
    init(
        left: Double, top: Double, width: Double, height: Double,
        xValues: [Double], yValues: [Double], xDomain: ClosedRange<Double>? = nil, yDomain: ClosedRange<Double>? = nil,
        xLabels: [(value: Double, label: String)]? = nil
    ) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
        // Whole-number x values (epochs, severities) get whole-number ticks.
        let whole = !xValues.isEmpty && xValues.allSatisfy { !$0.isFinite || $0 == $0.rounded() }
        let (xRange, xTicks) =
            xDomain.map { ($0, Self.ticks(in: $0, step: whole ? max(1, Self.niceStep(($0.upperBound - $0.lowerBound) / 5)) : nil)) }
            ?? Self.niceDomain(xValues, minimumStep: whole ? 1 : 0)
        let (yRange, yTicks) = yDomain.map { ($0, Self.ticks(in: $0)) } ?? Self.niceDomain(yValues)
        self.x =
            xLabels.map { labels in
                let values = labels.map(\.value)
                let low = values.min() ?? 0, high = values.max() ?? 1
                return (low - 0.5)...(high + 0.5)
            } ?? xRange
        self.y = yRange
        self.xTicks = xLabels ?? xTicks
        self.yTicks = yTicks
    }

    func px(_ value: Double) -> Double { left + (value - x.lowerBound) / (x.upperBound - x.lowerBound) * width }
    func py(_ value: Double) -> Double { top + height - (value - y.lowerBound) / (y.upperBound - y.lowerBound) * height }

    /// Axes, grid, ticks and titles; x tick labels are rotated when they are long.
    func draw(into svg: inout SVGWriter, xTitle: String, yTitle: String) {
        for tick in yTicks {
            svg.line(left, py(tick.value), left + width, py(tick.value), stroke: "#E0E0E0")
            svg.text(left - 6, py(tick.value) + 4, tick.label, size: 11, anchor: .end)
        }
        let rotated = xTicks.contains { $0.label.count > 6 }
        for tick in xTicks {
            svg.line(px(tick.value), top + height, px(tick.value), top + height + 4, stroke: "#000000")
            if rotated {
                svg.text(px(tick.value) + 3, top + height + 14, tick.label, size: 10, anchor: .end, rotate: -35)
            } else {
                svg.text(px(tick.value), top + height + 16, tick.label, size: 11, anchor: .middle)
            }
        }
        svg.line(left, top + height, left + width, top + height, stroke: "#000000")
        svg.line(left, top, left, top + height, stroke: "#000000")
        svg.text(left + width / 2, top + height + (rotated ? 58 : 34), xTitle, size: 12, anchor: .middle)
        svg.text(left - 44, top + height / 2, yTitle, size: 12, anchor: .middle, rotate: -90)
    }

    /// The finite range of `values` widened to whole ticks (a constant range is widened by one).
    static func niceDomain(_ values: [Double], minimumStep: Double = 0) -> (ClosedRange<Double>, [(value: Double, label: String)]) {
        let finite = values.filter(\.isFinite)
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if low == high { low -= 0.5; high += 0.5 }
        let step = max(minimumStep, niceStep((high - low) / 5))
        let range = (floor(low / step + 1e-9) * step)...(ceil(high / step - 1e-9) * step)
        return (range, ticks(in: range, step: step))
    }

    static func ticks(in range: ClosedRange<Double>, step: Double? = nil) -> [(value: Double, label: String)] {
        let step = step ?? niceStep((range.upperBound - range.lowerBound) / 5)
        let decimals = max(0, -Int(floor(log10(step) + 1e-9)))
        var ticks: [(Double, String)] = []
        var k = ceil(range.lowerBound / step - 1e-9)
        while k * step <= range.upperBound + step * 1e-9 {
            let value = k * step
            ticks.append((value, String(format: "%.\(decimals)f", abs(value) < step * 1e-9 ? 0 : value)))
            k += 1
        }
        return ticks
    }

    /// 1, 2 or 5 times a power of ten, the smallest at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, floor(log10(raw)))
        for factor in [1.0, 2, 5, 10] where factor * power >= raw * (1 - 1e-9) { return factor * power }
        return 10 * power
    }
}
