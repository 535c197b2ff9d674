import Foundation

/// An SVG document written element by element. Coordinates are written with at most two
/// decimals and attributes in a fixed order, so the same figure is the same bytes on every
/// machine (figures are golden files). Text uses the generic `sans-serif` family: nothing is
/// loaded from anywhere.
public struct SVGWriter: Sendable {
    public let width: Double
    public let height: Double
    /// The figure's accessible name (`<title>`).
    public var title: String
    private var elements: [String] = []

    public init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        self.title = title
    }

    public enum Anchor: String, Sendable { case start, middle, end }

    public mutating func line(
        _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double,
        stroke: String, width: Double = 1, dash: String? = nil
    ) {
        elements.append(
            "<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.number(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
        )
    }

    /// An open polyline; a NaN point breaks it into separate runs.
    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5, dash: String? = nil) {
        var runs: [[(x: Double, y: Double)]] = [[]]
        for point in points {
            if point.x.isFinite && point.y.isFinite { runs[runs.count - 1].append(point) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
        }
        for run in runs where !run.isEmpty {
            let text = run.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
            elements.append(
                "<polyline points=\"\(text)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.number(width))\" stroke-linejoin=\"round\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
            )
        }
    }

    public mutating func rect(
        _ x: Double, _ y: Double, _ width: Double, _ height: Double, fill: String,
        stroke: String? = nil, tooltip: String? = nil
    ) {
        let open =
            "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(max(0, width)))\" height=\"\(Self.number(max(0, height)))\" fill=\"\(fill)\"\(stroke.map { " stroke=\"\($0)\" stroke-width=\"0.5\"" } ?? "")"
        elements.append(tooltip.map { "\(open)><title>\(Self.escape($0))</title></rect>" } ?? "\(open)/>")
    }

    public mutating func circle(_ x: Double, _ y: Double, radius: Double, fill: String) {
        elements.append("<circle cx=\"\(Self.number(x))\" cy=\"\(Self.number(y))\" r=\"\(Self.number(radius))\" fill=\"\(fill)\"/>")
    }

    /// A marker shape per series index (circle, square, triangle, diamond, …), so series stay
    /// apart in grey-scale print as well as by colour.
    public mutating func marker(_ x: Double, _ y: Double, shape index: Int, fill: String) {
        let r = 3.0
        switch index % 4 {
        case 0: circle(x, y, radius: r, fill: fill)
        case 1: rect(x - r, y - r, 2 * r, 2 * r, fill: fill)
        case 2: polygon([(x, y - r - 0.5), (x + r + 0.5, y + r), (x - r - 0.5, y + r)], fill: fill)
        default: polygon([(x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)], fill: fill)
        }
    }

    public mutating func polygon(_ points: [(Double, Double)], fill: String) {
        let text = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        elements.append("<polygon points=\"\(text)\" fill=\"\(fill)\"/>")
    }

    public mutating func text(
        _ x: Double, _ y: Double, _ string: String, size: Double = 12, anchor: Anchor = .start,
        rotate: Double? = nil, bold: Bool = false, fill: String = "#000000"
    ) {
        let transform = rotate.map { " transform=\"rotate(\(Self.number($0)) \(Self.number(x)) \(Self.number(y)))\"" } ?? ""
        elements.append(
            "<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size))\" text-anchor=\"\(anchor.rawValue)\"\(bold ? " font-weight=\"bold\"" : "")\(fill == "#000000" ? "" : " fill=\"\(fill)\"")\(transform)>\(Self.escape(string))</text>"
        )
    }

    /// A raster image embedded as a PNG data URI (pixels drawn unsmoothed).
    public mutating func image(_ x: Double, _ y: Double, _ width: Double, _ height: Double, png: [UInt8]) {
        elements.append(
            "<image x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(Data(png).base64EncodedString())\"/>"
        )
    }

    /// Draws another writer's elements here, shifted by (x, y): figures made of panels.
    public mutating func include(_ panel: SVGWriter, x: Double, y: Double) {
        elements.append("<g transform=\"translate(\(Self.number(x)) \(Self.number(y)))\">")
        elements += panel.elements
        elements.append("</g>")
    }

    /// The document: a standalone SVG file (also valid inline in HTML).
    public func render() -> String {
        var lines = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" font-family=\"sans-serif\" role=\"img\">"
        ]
        lines.append("<title>\(Self.escape(title))</title>")
        lines.append("<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"#ffffff\"/>")
        lines += elements
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A coordinate with at most two decimals and no trailing zeros (`12`, `3.5`, `-0.25`).
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", (value * 100).rounded() / 100)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// Text escaped for XML content and attributes.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
