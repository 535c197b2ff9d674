import Spec
import Layers
import Tensors

/// Occlusion (Zeiler & Fergus 2014): a `window × window` patch of every channel set to `fill`
/// slides over the image with `stride`; each pixel's attribution is the mean, over the patches
/// covering it, of the drop of the target logit `F(x) − F(x with the patch filled)` (0 for a
/// pixel no patch covers). Model-free of gradients: it catches what gradients miss.
public struct OcclusionSensitivity: AttributionMethod, Equatable {
    public static let kind = "occlusion"
    public static let defaults = ["window": "4", "stride": "window", "fill": "0"]
    public static let summary = "Drop of the target logit when a sliding patch is filled (Zeiler & Fergus 2014)."
    /// Patch side in pixels, ≥ 1 (default 4).
    public var window: Int?
    /// Step between patches in pixels, ≥ 1 (default: the window).
    public var stride: Int?
    /// The fill value, in [0, 1] pixels (default 0).
    public var fill: Float?

    public init(window: Int? = nil, stride: Int? = nil, fill: Float? = nil) {
        self.window = window
        self.stride = stride
        self.fill = fill
    }

    var side: Int { window ?? 4 }
    var step: Int { stride ?? side }
    public var label: String { "\(Self.kind)(window=\(side),stride=\(step))" }
    /// One pass per patch; for a 28×28 image and the defaults, 49.
    public var passes: Int { 49 }

    public func problems() -> [String] {
        var found: [String] = []
        if side < 1 { found.append("window must be ≥ 1, got \(side)") }
        if step < 1 { found.append("stride must be ≥ 1, got \(step)") }
        if let fill, !(0...1).contains(fill) { found.append("fill must be in [0, 1] (pixel units), got \(fill)") }
        return found
    }

    /// Top-left corners of the patches along a side of `length` pixels (the last one flush with
    /// the edge, so every pixel is covered).
    func corners(_ length: Int) -> [Int] {
        guard length > side else { return [0] }
        var starts = Array(Swift.stride(from: 0, through: length - side, by: step))
        if starts.last! != length - side { starts.append(length - side) }
        return starts
    }

    public func attribute(_ model: Sequential, inputs: Tensor, targets: [Int], rng: inout RandomSource) -> Attribution {
        precondition(inputs.rank == 4, "occlusion needs images [N, C, H, W]")
        let (n, c, h, w) = (inputs.shape[0], inputs.shape[1], inputs.shape[2], inputs.shape[3])
        let patches = corners(h).flatMap { y in corners(w).map { x in (y, x) } }
        let size = c * h * w
        var occluded: [Float] = []
        occluded.reserveCapacity(n * patches.count * size)
        for s in 0..<n {
            let image = Array(inputs.scalars[(s * size)..<((s + 1) * size)])
            for (y0, x0) in patches {
                var copy = image
                for ch in 0..<c {
                    for y in y0..<min(h, y0 + side) { for x in x0..<min(w, x0 + side) { copy[(ch * h + y) * w + x] = fill ?? 0 } }
                }
                occluded += copy
            }
        }
        let patchTargets = targets.flatMap { Array(repeating: $0, count: patches.count) }
        let scores = GradientChunks.targetLogits(model, inputs: Tensor(shape: [n * patches.count, c, h, w], scalars: occluded), targets: patchTargets)
        let clean = GradientChunks.targetLogits(model, inputs: inputs, targets: targets)
        var maps = [Float](repeating: 0, count: n * size)
        for s in 0..<n {
            var sum = [Double](repeating: 0, count: h * w), covered = [Int](repeating: 0, count: h * w)
            for (p, (y0, x0)) in patches.enumerated() {
                let drop = clean[s] - scores[s * patches.count + p]
                for y in y0..<min(h, y0 + side) { for x in x0..<min(w, x0 + side) { sum[y * w + x] += drop; covered[y * w + x] += 1 } }
            }
            for ch in 0..<c {
                for i in 0..<(h * w) where covered[i] > 0 { maps[s * size + ch * h * w + i] = Float(sum[i] / Double(covered[i])) }
            }
        }
        return Attribution(maps: Tensor(shape: inputs.shape, scalars: maps))
    }
}
