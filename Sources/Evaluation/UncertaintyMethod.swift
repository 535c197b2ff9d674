import Spec
import Layers

/// An uncertainty method as written in an experiment file (`uncertainty: {methods: [{type: …}]}`):
/// a predictor made of several stochastic passes or models, evaluated beside the trial's model
/// on every clean, corrupted and adversarial evaluation.
public protocol UncertaintyMethod: SpecKind, Codable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// The kind with its parameters (`mc_dropout(passes=20)`); it names the predictor in results.
    var label: String { get }
    /// Messages for parameters out of range; each starts with the parameter's name.
    func problems() -> [String]
    /// Forward passes per sample (for cost estimates).
    var forwardPasses: Int { get }
    /// Models trained besides the trial's own (ensemble members; 0 for MC dropout).
    var extraModels: Int { get }
    /// The predictor over the trial's model and its other trained members (at least `extraModels`).
    func predictor(model: Sequential, members: [Sequential]) -> Predictor
}
