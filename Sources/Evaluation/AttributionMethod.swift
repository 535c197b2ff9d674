import Spec
import Layers
import Tensors

/// An attribution method as written in an experiment file (`interpret: {methods: [{type: …}]}`):
/// a map saying how much each input value contributed to the model's logit of a target class.
///
/// Maps are raw, in units of the target logit (per pixel, or per pixel of the named layer for
/// Grad-CAM); any normalisation for display is computed and stored separately, so maps compare
/// across models and cells. Every input is in [0, 1] pixels, before the model's normalisation.
public protocol AttributionMethod: SpecKind, Codable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// The kind with its parameters (`integrated_gradients(steps=50)`); it names the method in results.
    var label: String { get }
    /// The layer the method reads (Grad-CAM), which the model must have with a spatial output.
    var layer: String? { get }
    /// Forward and backward passes per explained sample (for cost estimates).
    var passes: Int { get }
    /// Messages for parameters out of range; each starts with the parameter's name.
    func problems() -> [String]
    /// The attribution maps of `inputs` `[N, C, H, W]` for the `targets` logits: `[N, C, H, W]`
    /// (Grad-CAM: `[N, 1, H, W]`), with per-sample diagnostics where the method has them.
    func attribute(_ model: Sequential, inputs: Tensor, targets: [Int], rng: inout RandomSource) -> Attribution
}

extension AttributionMethod {
    public var layer: String? { nil }
}

/// Attribution maps with the method's per-sample diagnostics.
public struct Attribution: Sendable {
    /// Raw maps, `[N, …]`.
    public var maps: Tensor
    /// Integrated gradients' completeness error per sample: `|Σ_i a_i − (F(x) − F(x′))|`.
    public var completenessError: [Double]?
    /// The same divided by `|F(x) − F(x′)|`.
    public var relativeCompletenessError: [Double]?

    public init(maps: Tensor, completenessError: [Double]? = nil, relativeCompletenessError: [Double]? = nil) {
        self.maps = maps
        self.completenessError = completenessError
        self.relativeCompletenessError = relativeCompletenessError
    }
}

/// Gradient passes over many rows in bounded chunks, so large step or sample counts never hold
/// more than `chunk` rows of activations at once.
enum GradientChunks {
    /// Rows per forward and backward pass inside an attribution (memory, not results).
    static let rows = 256

    /// The input gradients of each row's target logit, and the target logits.
    static func inputGradients(_ model: Sequential, inputs: Tensor, targets: [Int]) -> (gradients: Tensor, targetLogits: [Double]) {
        var gradients: [Float] = []
        gradients.reserveCapacity(inputs.count)
        var logits: [Double] = []
        let count = inputs.shape[0]
        for start in stride(from: 0, to: count, by: rows) {
            let range = start..<min(start + rows, count)
            let result = model.targetGradients(inputs: inputs.slice(range), targets: Array(targets[range]))
            gradients += result.input.scalars
            let classes = result.logits.shape[1]
            logits += range.enumerated().map { row, index in Double(result.logits.scalars[row * classes + targets[index]]) }
        }
        return (Tensor(shape: inputs.shape, scalars: gradients), logits)
    }

    /// The target logit of each row (its softmax probability with `probabilities`), without gradients.
    static func targetLogits(_ model: Sequential, inputs: Tensor, targets: [Int], probabilities: Bool = false) -> [Double] {
        var values: [Double] = []
        let count = inputs.shape[0]
        for start in stride(from: 0, to: count, by: rows) {
            let range = start..<min(start + rows, count)
            var outputs = model.logits(inputs.slice(range))
            if probabilities { outputs = Kernels.softmax(outputs) }
            let classes = outputs.shape[1]
            values += range.enumerated().map { row, index in Double(outputs.scalars[row * classes + targets[index]]) }
        }
        return values
    }
}

/// `samples` copies of every row of `x` `[N, …]`, row-major by sample: `[N · samples, …]`.
func repeatingRows(_ x: Tensor, _ samples: Int) -> Tensor {
    let size = x.count / max(1, x.shape[0])
    var out: [Float] = []
    out.reserveCapacity(x.count * samples)
    for n in 0..<x.shape[0] {
        let row = x.scalars[(n * size)..<((n + 1) * size)]
        for _ in 0..<samples { out += row }
    }
    return Tensor(shape: [x.shape[0] * samples] + Array(x.shape.dropFirst()), scalars: out)
}

/// The mean over each group of `samples` consecutive rows: `[N · samples, …]` → `[N, …]`.
func averagingRowGroups(_ x: Tensor, _ samples: Int) -> Tensor {
    let n = x.shape[0] / samples, size = x.count / max(1, x.shape[0])
    var out = [Float](repeating: 0, count: n * size)
    for group in 0..<n {
        for s in 0..<samples {
            let base = (group * samples + s) * size
            for i in 0..<size { out[group * size + i] += x.scalars[base + i] / Float(samples) }
        }
    }
    return Tensor(shape: [n] + Array(x.shape.dropFirst()), scalars: out)
}
