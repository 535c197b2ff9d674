import Tensors

/// Updates parameters from their gradients; keeps per-parameter state between steps.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// One update of every parameter that has a gradient.
    func step(_ parameters: [Parameter])
}

/// The typed settings of one optimizer kind as written in an experiment file.
public protocol OptimizerSpec: Codable, Sendable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// Checks the settings; returns messages for the ones out of range.
    func problems() -> [String]
    func makeOptimizer() -> any Optimizer
}
