import Tensors

/// What rotation, translation and scaling share: every channel of every image is resampled
/// bilinearly through one fixed map from output to source positions; positions outside the
/// image read `fill`.
protocol GeometricShift: SpatialCorruption {
    var fill: Float? { get }
    /// The source position that output pixel `(x, y)` reads, for an image `width × height`.
    func source(_ x: Float, _ y: Float, width: Int, height: Int) -> (Float, Float)
}

extension GeometricShift {
    func fillProblems() -> [String] {
        fill.map { (0...1).contains($0) ? [] : ["fill must be in [0, 1], got \($0)"] } ?? []
    }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let (_, height, width) = images.imageGeometry
        let border = Border.constant(fill ?? 0)
        return images.mappingPlanes { plane in
            plane.warped(border: border) { x, y in source(x, y, width: width, height: height) }.clipped()
        }
    }
}
