import Spec
import Tensors

/// Distribution shift by translation: every image moves `dx` of its width to the right and `dy`
/// of its height down (bilinear; uncovered pixels read `fill`, default 0).
public struct Translation: GeometricShift, Equatable {
    public static let kind = "translation"
    public static let defaults = ["dx": "0", "dy": "0", "fill": "0"]
    public static let summary = "Translation by dx, dy (fractions of width and height); sweep them for a shift curve."
    /// Rightward shift as a fraction of the width, in [−1, 1] (default 0).
    public var dx: Float?
    /// Downward shift as a fraction of the height, in [−1, 1] (default 0).
    public var dy: Float?
    /// The value where no source pixel lands, in [0, 1] (default 0).
    public var fill: Float?

    public init(dx: Float? = nil, dy: Float? = nil, fill: Float? = nil) {
        self.dx = dx
        self.dy = dy
        self.fill = fill
    }

    public func problems() -> [String] {
        var found: [String] = []
        if dx == nil && dy == nil { found.append("dx or dy is needed") }
        if let dx, !(-1...1).contains(dx) { found.append("dx must be in [-1, 1] (a fraction of the width), got \(dx)") }
        if let dy, !(-1...1).contains(dy) { found.append("dy must be in [-1, 1] (a fraction of the height), got \(dy)") }
        return found + fillProblems()
    }

    public var label: String { Strength.label(Self.kind, severity: nil, [("dx", dx), ("dy", dy)]) }

    func source(_ x: Float, _ y: Float, width: Int, height: Int) -> (Float, Float) {
        (x - (dx ?? 0) * Float(width), y - (dy ?? 0) * Float(height))
    }
}
