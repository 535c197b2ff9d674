import Tensors

/// Image-by-image access to a batch `[N, C, H, W]` (or `[N, …]` for pixel-wise kinds).
extension Tensor {
    /// `(channels, height, width)` of a batch of images; a batch of another rank reads as one
    /// channel of one row of all its features.
    var imageGeometry: (channels: Int, height: Int, width: Int) {
        if rank == 4 { return (shape[1], shape[2], shape[3]) }
        return (1, 1, shape.dropFirst().reduce(1, *))
    }

    /// A copy in which `body` rewrites each image (all its channels, `C·H·W` values) in batch
    /// order; `body` gets the image's values and may draw from `rng`.
    func mappingImages(
        _ rng: inout RandomSource,
        _ body: (_ image: UnsafeMutableBufferPointer<Float>, _ rng: inout RandomSource) -> Void
    ) -> Tensor {
        var out = self
        let size = count / Swift.max(1, shape[0])
        out.scalars.withUnsafeMutableBufferPointer { all in
            for n in 0..<shape[0] {
                let image = UnsafeMutableBufferPointer(rebasing: all[(n * size)..<((n + 1) * size)])
                body(image, &rng)
            }
        }
        return out
    }

    /// A copy in which `body` rewrites every value on its own, in order.
    func mappingValues(_ rng: inout RandomSource, _ body: (_ value: Float, _ rng: inout RandomSource) -> Float) -> Tensor {
        var out = self
        out.scalars.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = body(p[i], &rng) }
        }
        return out
    }
}

/// Clamps to the valid pixel range [0, 1].
@inline(__always) func clip01(_ x: Float) -> Float { Swift.min(1, Swift.max(0, x)) }
