import Spec
import Tensors

/// Distribution shift by scaling: every image is magnified by `factor` about its centre
/// (bilinear; below 1 it shrinks and the border reads `fill`, default 0).
public struct Scaling: GeometricShift, Equatable {
    public static let kind = "scaling"
    public static let defaults = ["fill": "0"]
    public static let summary = "Zoom by factor about the centre (below 1 shrinks); sweep factor for a shift curve."
    /// The magnification, in [0.1, 10].
    public var factor: Float
    /// The value outside the shrunken image, in [0, 1] (default 0).
    public var fill: Float?

    public init(factor: Float, fill: Float? = nil) {
        self.factor = factor
        self.fill = fill
    }

    public func problems() -> [String] {
        ((0.1...10).contains(factor) ? [] : ["factor must be in [0.1, 10], got \(factor)"]) + fillProblems()
    }

    public var label: String { "\(Self.kind)(factor=\(formatParameter(factor)))" }

    func source(_ x: Float, _ y: Float, width: Int, height: Int) -> (Float, Float) {
        let cx = Float(width - 1) / 2, cy = Float(height - 1) / 2
        return ((x - cx) / factor + cx, (y - cy) / factor + cy)
    }
}
