/// A matrix as coloured cells with their values written in them: the confusion matrix (rows
/// true class, columns predicted class). Colours are the row-normalised values (each true
/// class's share), so rare classes are as readable as common ones; the text is the raw count.
public struct Heatmap: Sendable {
    public var title: String
    public var rowTitle: String
    public var columnTitle: String
    public var labels: [String]
    /// Row-major, `labels.count × labels.count`.
    public var values: [Double]

    public init(title: String, rowTitle: String, columnTitle: String, labels: [String], values: [Double]) {
        self.title = title
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.labels = labels
        self.values = values
    }

    public func svg() -> String {
        let k = labels.count
        let cell = max(22.0, min(44, 440 / Double(max(k, 1))))
        // Class names: a margin as wide as the longest, and column labels slanted where they
        // are wider than a cell.
        let labelWidth = Double(labels.map(\.count).max() ?? 1) * 6.5
        let slanted = labelWidth > cell - 2
        let left = max(90.0, labelWidth + 30), top = 44.0
        let side = cell * Double(k)
        let below = slanted ? labelWidth * 0.72 + 52 : 70
        var svg = SVGWriter(width: left + side + 30, height: top + side + below, title: title)
        svg.text((left + side + 30) / 2, 20, title, size: 13, anchor: .middle, bold: true)
        for row in 0..<k {
            let total = (0..<k).reduce(0.0) { $0 + values[row * k + $1] }
            for column in 0..<k {
                let value = values[row * k + column]
                let share = total > 0 ? value / total : 0
                let x = left + Double(column) * cell, y = top + Double(row) * cell
                svg.rect(
                    x, y, cell, cell, fill: Palette.hex(Palette.sequential(share)), stroke: "#FFFFFF",
                    tooltip: "true \(labels[row]), predicted \(labels[column]): \(Self.integer(value))")
                if cell >= 22 {
                    svg.text(
                        x + cell / 2, y + cell / 2 + 4, Self.integer(value), size: cell >= 36 ? 11 : 9, anchor: .middle,
                        fill: share > 0.5 ? "#FFFFFF" : "#000000")
                }
            }
            svg.text(left - 6, top + (Double(row) + 0.5) * cell + 4, labels[row], size: 11, anchor: .end)
            if slanted {
                let x = left + (Double(row) + 0.5) * cell + 4
                svg.text(x, top + side + 10, labels[row], size: 11, anchor: .end, rotate: -45)
            } else {
                svg.text(left + (Double(row) + 0.5) * cell, top + side + 16, labels[row], size: 11, anchor: .middle)
            }
        }
        svg.text(left + side / 2, top + side + below - 32, columnTitle, size: 12, anchor: .middle)
        svg.text(22, top + side / 2, rowTitle, size: 12, anchor: .middle, rotate: -90)
        return svg.render()
    }

    static func integer(_ value: Double) -> String { value.isFinite ? String(Int(value.rounded())) : "–" }
}
