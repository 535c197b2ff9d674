import Spec
import Layers
import Tensors

/// Grad-CAM (Selvaraju et al. 2017) on the named layer with output `A` `[K, h, w]`: the map
/// `ReLU(Σ_k α_k A_k)` with `α_k` the spatial mean of `∂F/∂A_k` for the target logit F, at the
/// layer's resolution, then resized to the input's `H × W` by bilinear interpolation with
/// half-pixel centres (PyTorch's `interpolate(mode="bilinear", align_corners=False)`).
/// Maps are `[N, 1, H, W]`.
public struct GradCAM: AttributionMethod, Equatable {
    public static let kind = "grad_cam"
    public static let defaults = ["layer": "none (name a layer with a spatial output)"]
    public static let summary = "Gradient-weighted class activation map of a named convolutional layer (Selvaraju et al. 2017)."
    /// The layer's name in the model (a layer with a `[channels, height, width]` output).
    public var layer: String?

    public init(layer: String) { self.layer = layer }

    public var label: String { "\(Self.kind)(layer=\(layer ?? ""))" }
    public var passes: Int { 1 }

    public func problems() -> [String] {
        (layer ?? "").isEmpty ? ["layer must name a layer of the model with a spatial output"] : []
    }

    /// The maps at the layer's resolution, `[N, 1, h, w]`.
    public func layerMaps(_ model: Sequential, inputs: Tensor, targets: [Int]) -> Tensor {
        let name = layer ?? ""
        var maps: [Float] = []
        var shape: [Int] = []
        for start in Swift.stride(from: 0, to: inputs.shape[0], by: GradientChunks.rows) {
            let range = start..<min(start + GradientChunks.rows, inputs.shape[0])
            let result = model.targetGradients(inputs: inputs.slice(range), targets: Array(targets[range]), layers: [name])
            guard let (activation, gradient) = result.layers[name], activation.rank == 4 else {
                preconditionFailure("grad_cam: layer '\(name)' has no spatial output (the catalog checks this)")
            }
            let (n, k, h, w) = (activation.shape[0], activation.shape[1], activation.shape[2], activation.shape[3])
            shape = [h, w]
            for s in 0..<n {
                var map = [Float](repeating: 0, count: h * w)
                for channel in 0..<k {
                    let base = (s * k + channel) * h * w
                    let alpha = gradient.scalars[base..<(base + h * w)].reduce(0, +) / Float(h * w)
                    for i in 0..<(h * w) { map[i] += alpha * activation.scalars[base + i] }
                }
                maps += map.map { Swift.max(0, $0) }
            }
        }
        return Tensor(shape: [inputs.shape[0], 1] + shape, scalars: maps)
    }

    public func attribute(_ model: Sequential, inputs: Tensor, targets: [Int], rng: inout RandomSource) -> Attribution {
        let maps = layerMaps(model, inputs: inputs, targets: targets)
        return Attribution(maps: Self.resized(maps, height: inputs.shape[2], width: inputs.shape[3]))
    }

    /// Bilinear resize of `[N, C, h, w]` to `[N, C, height, width]` with half-pixel centres,
    /// source coordinates clamped at the edges.
    public static func resized(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        if h == height && w == width { return x }
        var out = [Float](repeating: 0, count: n * c * height * width)
        func source(_ i: Int, _ scale: Float, _ limit: Int) -> (Int, Int, Float) {
            let position = Swift.max(0, (Float(i) + 0.5) * scale - 0.5)
            let low = Swift.min(Int(position), limit - 1)
            return (low, Swift.min(low + 1, limit - 1), position - Float(low))
        }
        for plane in 0..<(n * c) {
            for y in 0..<height {
                let (y0, y1, fy) = source(y, Float(h) / Float(height), h)
                for xx in 0..<width {
                    let (x0, x1, fx) = source(xx, Float(w) / Float(width), w)
                    let v = { (yy: Int, xi: Int) in x.scalars[(plane * h + yy) * w + xi] }
                    let top = v(y0, x0) * (1 - fx) + v(y0, x1) * fx, bottom = v(y1, x0) * (1 - fx) + v(y1, x1) * fx
                    out[(plane * height + y) * width + xx] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return Tensor(shape: [n, c, height, width], scalars: out)
    }
}
