import Spec
import Foundation
import Tensors

/// Distribution shift by rotation: every image turns `degrees` counter-clockwise about its
/// centre (bilinear; corners read `fill`, default 0). The same angle for every image, so a sweep
/// over `degrees` gives an accuracy-versus-rotation curve.
public struct Rotation: GeometricShift, Equatable {
    public static let kind = "rotation"
    public static let defaults = ["fill": "0"]
    public static let summary = "Rotation by degrees (counter-clockwise) about the centre; sweep degrees for a shift curve."
    /// The angle in degrees, in [−180, 180].
    public var degrees: Float
    /// The value outside the rotated image, in [0, 1] (default 0).
    public var fill: Float?

    public init(degrees: Float, fill: Float? = nil) {
        self.degrees = degrees
        self.fill = fill
    }

    public func problems() -> [String] {
        ((-180...180).contains(degrees) ? [] : ["degrees must be in [-180, 180], got \(degrees)"]) + fillProblems()
    }

    public var label: String { "\(Self.kind)(degrees=\(formatParameter(degrees)))" }

    func source(_ x: Float, _ y: Float, width: Int, height: Int) -> (Float, Float) {
        // Image rows grow downward, so a counter-clockwise turn on screen reads the source at
        // the clockwise-turned position in row/column coordinates.
        let angle = Double(degrees) * .pi / 180
        let cx = Float(width - 1) / 2, cy = Float(height - 1) / 2
        let c = Float(cos(angle)), s = Float(sin(angle))
        let u = x - cx, v = y - cy
        return (c * u - s * v + cx, s * u + c * v + cy)
    }
}
