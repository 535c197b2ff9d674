import Spec
import Layers
import Tensors

/// Integrated gradients (Sundararajan, Taly & Yan 2017): `(x − x′) ⊙ ∫₀¹ ∇F(x′ + α(x − x′)) dα`
/// for the target logit F, with the integral by the midpoint rule over `steps` points
/// (α_k = (k − ½)/steps) and a constant baseline image x′ = `baseline` (default 0, black).
/// Completeness says `Σ_i a_i = F(x) − F(x′)`; the error of the quadrature is reported per
/// sample, absolute and relative to `|F(x) − F(x′)|`, and shrinks as O(1/steps²).
public struct IntegratedGradients: AttributionMethod, Equatable {
    public static let kind = "integrated_gradients"
    public static let defaults = ["steps": "50", "baseline": "0"]
    public static let summary = "Path integral of gradients from a baseline image, midpoint rule (Sundararajan et al. 2017)."
    /// Points of the midpoint rule, 1…10000 (default 50).
    public var steps: Int?
    /// The baseline pixel value, in [0, 1] (default 0).
    public var baseline: Float?

    public init(steps: Int? = nil, baseline: Float? = nil) {
        self.steps = steps
        self.baseline = baseline
    }

    var stepCount: Int { steps ?? 50 }
    public var label: String { "\(Self.kind)(steps=\(stepCount))" }
    public var passes: Int { stepCount + 1 }

    public func problems() -> [String] {
        var found: [String] = []
        if !(1...10000).contains(stepCount) { found.append("steps must be in 1…10000, got \(stepCount)") }
        if let baseline, !(0...1).contains(baseline) { found.append("baseline must be in [0, 1] (pixel units), got \(baseline)") }
        return found
    }

    public func attribute(_ model: Sequential, inputs: Tensor, targets: [Int], rng: inout RandomSource) -> Attribution {
        let m = stepCount, n = inputs.shape[0], size = inputs.count / max(1, n)
        let reference = Tensor(shape: inputs.shape, repeating: baseline ?? 0)
        // Every sample's m path points, sample-major, in chunks through `GradientChunks`.
        var path = [Float](repeating: 0, count: n * m * size)
        var pathTargets: [Int] = []
        for s in 0..<n {
            for k in 0..<m {
                let alpha = (Float(k) + 0.5) / Float(m)
                let base = (s * m + k) * size
                for i in 0..<size {
                    let x0 = reference.scalars[s * size + i]
                    path[base + i] = x0 + alpha * (inputs.scalars[s * size + i] - x0)
                }
                pathTargets.append(targets[s])
            }
        }
        let gradients = GradientChunks.inputGradients(
            model, inputs: Tensor(shape: [n * m] + Array(inputs.shape.dropFirst()), scalars: path),
            targets: pathTargets
        ).gradients
        let maps = averagingRowGroups(gradients, m) * (inputs - reference)
        let ends = GradientChunks.targetLogits(
            model,
            inputs: Tensor(
                shape: [2 * n] + Array(inputs.shape.dropFirst()),
                scalars: inputs.scalars + reference.scalars),
            targets: targets + targets)
        var absolute: [Double] = [], relative: [Double] = []
        for s in 0..<n {
            let total = maps.scalars[(s * size)..<((s + 1) * size)].reduce(0.0) { $0 + Double($1) }
            let difference = ends[s] - ends[n + s]
            absolute.append(abs(total - difference))
            relative.append(abs(total - difference) / max(abs(difference), 1e-12))
        }
        return Attribution(maps: maps, completenessError: absolute, relativeCompletenessError: relative)
    }
}
