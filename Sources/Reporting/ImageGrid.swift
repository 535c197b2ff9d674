/// A grid of maps (rows: attribution methods; columns: samples), each drawn pixel for pixel as
/// an embedded PNG in the blue–white–red diverging palette: a signed map divided by its display
/// scale and clipped to [−1, 1] (red: evidence for the explained class, blue: against; maps that
/// are non-negative by construction, such as Grad-CAM, only use the red half).
public struct ImageGrid: Sendable {
    public struct Map: Sendable {
        public var width: Int
        public var height: Int
        /// Row-major values, already in [−1, 1] (values outside are clipped).
        public var values: [Double]

        public init(width: Int, height: Int, values: [Double]) {
            self.width = width
            self.height = height
            self.values = values
        }
    }

    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// `[row][column]`; nil leaves a cell empty.
    public var maps: [[Map?]]

    public init(title: String, rowLabels: [String], columnLabels: [String], maps: [[Map?]]) {
        self.title = title
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.maps = maps
    }

    public func svg() -> String {
        let cell = 64.0, gap = 6.0, top = 56.0
        let left = max(150, 16 + 6.6 * Double(rowLabels.map(\.count).max() ?? 0))
        let width = max(left + 420, left + Double(columnLabels.count) * (cell + gap) + 20)
        let height = top + Double(rowLabels.count) * (cell + gap) + 56
        var svg = SVGWriter(width: width, height: height, title: title)
        svg.text(width / 2, 20, title, size: 13, anchor: .middle, bold: true)
        for (column, label) in columnLabels.enumerated() {
            svg.text(left + Double(column) * (cell + gap) + cell / 2, top - 8, label, size: 10, anchor: .middle)
        }
        for (row, label) in rowLabels.enumerated() {
            let y = top + Double(row) * (cell + gap)
            svg.text(left - 8, y + cell / 2 + 4, label, size: 11, anchor: .end)
            for (column, map) in maps[row].enumerated() {
                guard let map, map.width > 0, map.height > 0 else { continue }
                let pixels = map.values.map { Palette.diverging($0) }
                svg.image(
                    left + Double(column) * (cell + gap), y, cell, cell,
                    png: PNGEncoder.rgb(width: map.width, height: map.height, pixels: pixels))
            }
        }
        // The colour scale.
        let barLeft = left, barTop = height - 34, barWidth = 240.0
        for step in 0..<48 {
            let t = -1 + 2 * (Double(step) + 0.5) / 48
            svg.rect(barLeft + Double(step) * barWidth / 48, barTop, barWidth / 48 + 0.3, 10, fill: Palette.hex(Palette.diverging(t)))
        }
        svg.text(barLeft, barTop + 24, "−1 (against)", size: 10, anchor: .start)
        svg.text(barLeft + barWidth / 2, barTop + 24, "0", size: 10, anchor: .middle)
        svg.text(barLeft + barWidth, barTop + 24, "+1 (for the class)", size: 10, anchor: .end)
        svg.text(barLeft + barWidth + 8, barTop + 9, "map / display scale", size: 10)
        return svg.render()
    }
}
