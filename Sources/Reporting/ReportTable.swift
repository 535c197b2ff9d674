import Foundation

/// A table of the report: key columns (model, settings, evaluation) and metric columns holding
/// mean ± standard deviation over repeats, written as Markdown, LaTeX (booktabs) and HTML.
///
/// The best value of a metric column is bold among the rows of one comparison group (the same
/// evaluation, predictor and calibration: models and settings side by side), using the
/// column's direction (higher or lower is better, or closest to an ideal value); ties are all
/// bold, but a group of one row, a group whose values are all equal, and a column without a
/// known direction have none. A row computed from
/// fewer repeats than asked is marked †.
public struct ReportTable: Sendable {
    public struct Value: Sendable, Equatable {
        public var mean: Double
        /// Sample standard deviation over repeats (NaN for one repeat).
        public var standardDeviation: Double

        public init(_ mean: Double, _ standardDeviation: Double = .nan) {
            self.mean = mean
            self.standardDeviation = standardDeviation
        }
    }

    public struct Row: Sendable {
        public var keys: [String]
        /// Rows of one group are compared for the bold best value.
        public var group: String
        public var values: [Value]
        /// Fewer repeats than asked (failed or missing cells).
        public var incomplete: Bool

        public init(keys: [String], group: String, values: [Value], incomplete: Bool = false) {
            self.keys = keys
            self.group = group
            self.values = values
            self.incomplete = incomplete
        }
    }

    /// The file name (`tables/<id>.tex`) and HTML anchor.
    public var id: String
    public var caption: String
    public var keyHeaders: [String]
    public var metricHeaders: [String]
    public var directions: [ColumnDirection?]
    public var rows: [Row] = []
    public var decimals = 4
    /// Notes printed under the table.
    public var notes: [String] = []

    public init(id: String, caption: String, keyHeaders: [String], metricHeaders: [String], directions: [ColumnDirection?]) {
        self.id = id
        self.caption = caption
        self.keyHeaders = keyHeaders
        self.metricHeaders = metricHeaders
        self.directions = directions
    }

    /// Whether row `r`'s value in metric column `c` is the best of its group (ties are all best).
    public func isBest(row r: Int, column c: Int) -> Bool { bestCells()[r][c] }

    /// `[row][column]`: whether the value is the best of its group, computed group by group in
    /// one pass (renderers call it once, not once per cell).
    func bestCells() -> [[Bool]] {
        var best = rows.map { $0.values.map { _ in false } }
        var groups: [String: [Int]] = [:]
        for (index, row) in rows.enumerated() { groups[row.group, default: []].append(index) }
        for members in groups.values where members.count > 1 {
            for (c, direction) in directions.enumerated() {
                guard let direction else { continue }
                let values = members.map { rows[$0].values[c].mean }
                // The group's best value; a group whose values are all equal has no best.
                guard
                    let top = values.reduce(
                        nil,
                        { (best: Double?, value) in
                            best.map { direction.isBetter(value, than: $0) ? value : $0 } ?? value
                        }), top.isFinite, values.contains(where: { $0 != top })
                else { continue }
                for (member, value) in zip(members, values) where value.isFinite && !direction.isBetter(top, than: value) {
                    best[member][c] = true
                }
            }
        }
        return best
    }

    var allNotes: [String] {
        (rows.contains(where: \.incomplete) ? ["† computed from fewer repeats than the experiment asks (failed or missing cells: see Provenance)."] : [])
            + notes
    }

    func text(_ value: Value) -> String {
        guard value.mean.isFinite else { return value.mean.isNaN ? "–" : (value.mean > 0 ? "∞" : "−∞") }
        let mean = TextTable.number(value.mean, decimals: decimals)
        return value.standardDeviation.isFinite ? "\(mean) ± \(TextTable.number(value.standardDeviation, decimals: decimals))" : mean
    }

    func keyText(_ row: Row) -> [String] {
        var keys = row.keys
        if row.incomplete, !keys.isEmpty { keys[0] += " †" }
        return keys
    }

    // MARK: - Markdown

    public func markdown() -> String {
        func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        let best = bestCells()
        var lines = ["**Table: \(escape(caption))**", ""]
        lines.append("| " + (keyHeaders + metricHeaders).map(escape).joined(separator: " | ") + " |")
        lines.append("|" + keyHeaders.map { _ in "---|" }.joined() + metricHeaders.map { _ in "---:|" }.joined())
        for (r, row) in rows.enumerated() {
            let values = row.values.indices.map { c in
                best[r][c] ? "**\(text(row.values[c]))**" : text(row.values[c])
            }
            lines.append("| " + (keyText(row).map(escape) + values).joined(separator: " | ") + " |")
        }
        for note in allNotes { lines += ["", escape(note)] }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - LaTeX

    /// A booktabs `table` environment (needs `\usepackage{booktabs}`); numbers in math mode,
    /// the best in `\mathbf`.
    public func latex() -> String {
        let best = bestCells()
        var lines = [
            "% Generated by gauntlet report; needs \\usepackage{booktabs}.", "\\begin{table}[htbp]", "\\centering",
            "\\caption{\(Self.latexEscape(caption))}", "\\label{tab:\(id)}",
            "\\begin{tabular}{" + String(repeating: "l", count: keyHeaders.count) + String(repeating: "r", count: metricHeaders.count) + "}",
            "\\toprule",
            (keyHeaders + metricHeaders).map(Self.latexEscape).joined(separator: " & ") + " \\\\",
            "\\midrule",
        ]
        for (r, row) in rows.enumerated() {
            let values = row.values.indices.map { c -> String in
                let value = row.values[c]
                guard value.mean.isFinite else { return "--" }
                let mean = TextTable.number(value.mean, decimals: decimals)
                let shown = best[r][c] ? "\\mathbf{\(mean)}" : mean
                return value.standardDeviation.isFinite ? "$\(shown) \\pm \(TextTable.number(value.standardDeviation, decimals: decimals))$" : "$\(shown)$"
            }
            var keys = row.keys.map(Self.latexEscape)
            if row.incomplete, !keys.isEmpty { keys[0] += "$^\\dagger$" }
            lines.append((keys + values).joined(separator: " & ") + " \\\\")
        }
        lines.append("\\bottomrule")
        lines.append("\\end{tabular}")
        for note in allNotes {
            lines.append("\\par\\smallskip{\\footnotesize " + Self.latexEscape(note).replacingOccurrences(of: "†", with: "$^\\dagger$") + "}")
        }
        lines.append("\\end{table}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func latexEscape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": escaped += "\\\(character)"
            case "~": escaped += "\\textasciitilde{}"
            case "^": escaped += "\\textasciicircum{}"
            case "±": escaped += "$\\pm$"
            case "ε": escaped += "$\\varepsilon$"
            case "−": escaped += "-"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    // MARK: - HTML

    public func html() -> String {
        let best = bestCells()
        let e = SVGWriter.escape
        var lines = [
            "<table id=\"table-\(e(id))\">", "<caption>\(e(caption))</caption>",
            "<thead><tr>" + keyHeaders.map { "<th>\(e($0))</th>" }.joined() + metricHeaders.map { "<th class=\"n\">\(e($0))</th>" }.joined() + "</tr></thead>",
            "<tbody>",
        ]
        for (r, row) in rows.enumerated() {
            let values = row.values.indices.map { c in
                best[r][c] ? "<td class=\"n\"><b>\(e(text(row.values[c])))</b></td>" : "<td class=\"n\">\(e(text(row.values[c])))</td>"
            }
            lines.append("<tr>" + keyText(row).map { "<td>\(e($0))</td>" }.joined() + values.joined() + "</tr>")
        }
        lines.append("</tbody>")
        lines.append("</table>")
        for note in allNotes { lines.append("<p class=\"note\">\(e(note))</p>") }
        return lines.joined(separator: "\n") + "\n"
    }
}
