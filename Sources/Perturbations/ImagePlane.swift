import Foundation
import Tensors

/// How a filter or a resampler reads outside an image plane.
enum Border: Equatable {
    /// The edge pixel repeats: `aaa|abcd|ddd` (scikit-image `nearest`).
    case replicate
    /// Mirror including the edge: `cba|abcd|dcb` (SciPy `reflect`).
    case reflect
    /// Mirror excluding the edge: `dcb|abcd|cba` (OpenCV's default `BORDER_REFLECT_101`).
    case reflect101
    /// A constant value.
    case constant(Float)

    /// The in-plane index that `i` reads for a side of `n` pixels, nil for a constant border.
    @inline(__always) func index(_ i: Int, _ n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .constant: return nil
        case .replicate: return i < 0 ? 0 : n - 1
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * n
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - 1 - j
        case .reflect101:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - j
        }
    }

    var fill: Float {
        if case .constant(let value) = self { return value }
        return 0
    }
}

/// One channel of one image, row-major `height × width`, and the filters and resamplers the
/// corruptions are built from.
struct ImagePlane {
    var width: Int
    var height: Int
    var values: [Float]

    init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height)
        self.width = width
        self.height = height
        self.values = values
    }

    /// The value at integer position `(x, y)` under a border rule.
    @inline(__always) func value(_ x: Int, _ y: Int, _ border: Border) -> Float {
        guard let xi = border.index(x, width), let yi = border.index(y, height) else { return border.fill }
        return values[yi * width + xi]
    }

    /// Bilinear interpolation at a real position (pixel centres at integers).
    @inline(__always) func bilinear(_ x: Float, _ y: Float, _ border: Border) -> Float {
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let fx = x - Float(x0), fy = y - Float(y0)
        let top = value(x0, y0, border) * (1 - fx) + value(x0 + 1, y0, border) * fx
        let bottom = value(x0, y0 + 1, border) * (1 - fx) + value(x0 + 1, y0 + 1, border) * fx
        return top * (1 - fy) + bottom * fy
    }

    /// Correlation with a square `k × k` kernel centred on each pixel (OpenCV `filter2D`).
    func correlated(with kernel: [Float], size k: Int, border: Border) -> ImagePlane {
        let r = k / 2
        var out = self
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for ky in 0..<k {
                    for kx in 0..<k where kernel[ky * k + kx] != 0 {
                        sum += kernel[ky * k + kx] * value(x + kx - r, y + ky - r, border)
                    }
                }
                out.values[y * width + x] = sum
            }
        }
        return out
    }

    /// Rows then columns correlated with the same odd-length 1-D kernel.
    func separablyFiltered(_ kernel: [Float], border: Border) -> ImagePlane {
        let r = kernel.count / 2
        var rows = self
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for (i, w) in kernel.enumerated() { sum += w * value(x + i - r, y, border) }
                rows.values[y * width + x] = sum
            }
        }
        var out = rows
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for (i, w) in kernel.enumerated() { sum += w * rows.value(x, y + i - r, border) }
                out.values[y * width + x] = sum
            }
        }
        return out
    }

    /// A Gaussian blur with standard deviation `sigma` pixels, the kernel cut at
    /// `truncate · sigma` (scikit-image `filters.gaussian` uses 4).
    func gaussianBlurred(sigma: Float, truncate: Float = 4, border: Border) -> ImagePlane {
        separablyFiltered(ImagePlane.gaussianKernel(sigma: sigma, radius: Int(truncate * sigma + 0.5)), border: border)
    }

    /// `exp(−i²/2σ²)` for `i` in `−radius…radius`, normalised to sum 1.
    static func gaussianKernel(sigma: Float, radius: Int) -> [Float] {
        guard sigma > 0 else { return [1] }
        let weights = (-radius...radius).map { i in Float(exp(-Double(i * i) / (2 * Double(sigma) * Double(sigma)))) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// The image resampled at `source(x, y)` for every output pixel, bilinearly.
    func warped(border: Border, _ source: (_ x: Float, _ y: Float) -> (Float, Float)) -> ImagePlane {
        var out = self
        for y in 0..<height {
            for x in 0..<width {
                let (sx, sy) = source(Float(x), Float(y))
                out.values[y * width + x] = bilinear(sx, sy, border)
            }
        }
        return out
    }

    /// Resized to `newWidth × newHeight` by area averaging: each output pixel is the mean of the
    /// input area it covers, partial pixels weighted by their covered fraction (a box filter).
    func areaResized(width newWidth: Int, height newHeight: Int) -> ImagePlane {
        let wx = Self.areaWeights(from: width, to: newWidth), wy = Self.areaWeights(from: height, to: newHeight)
        var out = ImagePlane(width: newWidth, height: newHeight, values: Array(repeating: 0, count: newWidth * newHeight))
        for oy in 0..<newHeight {
            for ox in 0..<newWidth {
                var sum: Float = 0
                for (iy, weightY) in wy[oy] {
                    for (ix, weightX) in wx[ox] { sum += weightY * weightX * values[iy * width + ix] }
                }
                out.values[oy * newWidth + ox] = min(1, max(0, sum))
            }
        }
        return out
    }

    /// For each output index, the input indices it covers and their weights (summing to 1).
    static func areaWeights(from n: Int, to m: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            let start = Double(o) * scale, end = Double(o + 1) * scale
            var weights: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end && i < n {
                let covered = min(end, Double(i + 1)) - max(start, Double(i))
                if covered > 1e-12 { weights.append((i, Float(covered / scale))) }
                i += 1
            }
            return weights
        }
    }
}

extension ImagePlane {
    /// The plane with every value clipped to [0, 1].
    func clipped() -> ImagePlane {
        var out = self
        out.values = values.map(clip01)
        return out
    }
}

extension UnsafeMutableBufferPointer<Float> {
    /// Runs `body` on each channel plane of an image `[C, H, W]` stored here and writes back
    /// what it returns.
    func transformPlanes(channels: Int, height: Int, width: Int, _ body: (ImagePlane) -> ImagePlane) {
        let size = height * width
        for c in 0..<channels {
            let result = body(ImagePlane(width: width, height: height, values: Array(self[(c * size)..<((c + 1) * size)])))
            for i in 0..<size { self[c * size + i] = result.values[i] }
        }
    }
}

extension Tensor {
    /// A copy of a batch `[N, C, H, W]` in which `body` rewrites every channel plane of every
    /// image, for kinds that draw no random numbers.
    func mappingPlanes(_ body: (ImagePlane) -> ImagePlane) -> Tensor {
        let (channels, height, width) = imageGeometry
        var out = self
        let size = channels * height * width
        out.scalars.withUnsafeMutableBufferPointer { all in
            for n in 0..<shape[0] {
                UnsafeMutableBufferPointer(rebasing: all[(n * size)..<((n + 1) * size)])
                    .transformPlanes(channels: channels, height: height, width: width, body)
            }
        }
        return out
    }
}
