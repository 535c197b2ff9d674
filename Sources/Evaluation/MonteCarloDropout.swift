import Spec
import Layers

/// MC dropout (Gal & Ghahramani, ICML 2016): `passes` stochastic forward passes with dropout on
/// (mode `.monteCarloDropout`: batch norm stays frozen), the predictive distribution being the
/// mean of their softmax outputs. Needs a dropout layer with `p > 0`. With `per_layer: true`,
/// the variance of every layer's activations across passes is recorded (mean over units and
/// samples; `/uncertainty/layer_variance`).
public struct MonteCarloDropout: UncertaintyMethod, Equatable {
    public static let kind = "mc_dropout"
    public static let defaults = ["passes": "20", "per_layer": "false"]
    public static let summary = "Mean softmax of N stochastic passes with dropout on at inference (Gal & Ghahramani 2016)."
    /// Stochastic passes, ≥ 2 (default 20).
    public var passes: Int?
    /// Record each layer's activation variance across passes (default false).
    public var perLayer: Bool?

    public init(passes: Int? = nil, perLayer: Bool? = nil) {
        self.passes = passes
        self.perLayer = perLayer
    }

    public var forwardPasses: Int { passes ?? 20 }
    public var label: String { "\(Self.kind)(passes=\(forwardPasses))" }
    public var extraModels: Int { 0 }

    public func predictor(model: Sequential, members: [Sequential]) -> Predictor {
        Predictor(label: label, method: .monteCarloDropout(passes: forwardPasses, perLayer: perLayer ?? false), models: [model])
    }

    public func problems() -> [String] {
        forwardPasses >= 2 ? [] : ["passes must be ≥ 2, got \(forwardPasses)"]
    }
}
