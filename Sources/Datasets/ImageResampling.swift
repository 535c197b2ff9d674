/// Resizing and cropping of planar images (`[C, H, W]` floats, channel after channel).
///
/// `resize` is the antialiased bilinear resampling of Pillow's `Image.resize(…, BILINEAR)` (and
/// torchvision's `Resize(…, antialias=True)`): a separable triangle filter whose support widens
/// by the scale factor when shrinking, so every input pixel counts; for each output position
/// `i` along an axis of `n` input pixels scaled by `s = n / m`, the centre is `(i + 0.5) s`, the
/// support `max(s, 1)`, and the weights `1 - |x - centre + 0.5| / max(s, 1)` over the input
/// pixels `x` within it, normalised to sum to 1. Rows first, then columns. Computed in floats,
/// without the 8-bit rounding Pillow applies to 8-bit images.
public enum ImageResampling {
    /// The image resized to `to` (height, width).
    public static func resize(_ planes: [Float], channels: Int, from: (height: Int, width: Int), to: (height: Int, width: Int)) -> [Float] {
        precondition(planes.count == channels * from.height * from.width, "\(planes.count) values for \(channels)×\(from.height)×\(from.width)")
        if from == to { return planes }
        // Along the rows (width), then along the columns (height).
        let horizontal = coefficients(input: from.width, output: to.width)
        var wide = [Float](repeating: 0, count: channels * from.height * to.width)
        for plane in 0..<(channels * from.height) {
            let row = plane * from.width
            for (x, taps) in horizontal.enumerated() {
                var sum = 0.0
                for (offset, weight) in taps.weights.enumerated() { sum += weight * Double(planes[row + taps.first + offset]) }
                wide[plane * to.width + x] = Float(sum)
            }
        }
        let vertical = coefficients(input: from.height, output: to.height)
        var result = [Float](repeating: 0, count: channels * to.height * to.width)
        for channel in 0..<channels {
            let source = channel * from.height * to.width, target = channel * to.height * to.width
            for (y, taps) in vertical.enumerated() {
                for x in 0..<to.width {
                    var sum = 0.0
                    for (offset, weight) in taps.weights.enumerated() { sum += weight * Double(wide[source + (taps.first + offset) * to.width + x]) }
                    result[target + y * to.width + x] = Float(sum)
                }
            }
        }
        return result
    }

    /// The first input pixel and the normalised weights of each output pixel along one axis.
    static func coefficients(input: Int, output: Int) -> [(first: Int, weights: [Double])] {
        let scale = Double(input) / Double(output)
        let support = max(scale, 1)
        return (0..<output).map { i in
            let centre = (Double(i) + 0.5) * scale
            let first = max(0, Int(centre - support + 0.5))
            let last = min(input, Int(centre + support + 0.5))
            var weights = (first..<last).map { x in max(0, 1 - abs((Double(x) - centre + 0.5) / support)) }
            let total = weights.reduce(0, +)
            if total != 0 { weights = weights.map { $0 / total } }
            return (first, weights)
        }
    }

    /// The size after resizing the shorter side to `shorter`, keeping the aspect ratio (the
    /// longer side truncated, as torchvision's `Resize(int)` does).
    public static func size(resizingShorterSideOf size: (height: Int, width: Int), to shorter: Int) -> (height: Int, width: Int) {
        if size.height <= size.width { return (shorter, Int(Double(shorter) * Double(size.width) / Double(size.height))) }
        return (Int(Double(shorter) * Double(size.height) / Double(size.width)), shorter)
    }

    /// The centre `to` (height, width) of an image of size `from`: the top and left offsets are
    /// half the difference rounded half to even, as torchvision's `CenterCrop` does. `to` must
    /// fit inside `from`.
    public static func centerCrop(_ planes: [Float], channels: Int, from: (height: Int, width: Int), to: (height: Int, width: Int)) -> [Float] {
        precondition(to.height <= from.height && to.width <= from.width, "crop \(to) of \(from)")
        if from == to { return planes }
        let top = Int((Double(from.height - to.height) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(from.width - to.width) / 2).rounded(.toNearestOrEven))
        var result = [Float]()
        result.reserveCapacity(channels * to.height * to.width)
        for channel in 0..<channels {
            for y in 0..<to.height {
                let start = (channel * from.height + top + y) * from.width + left
                result.append(contentsOf: planes[start..<(start + to.width)])
            }
        }
        return result
    }
}
