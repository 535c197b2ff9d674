import Spec
import Tensors

/// Updates parameters from their gradients; keeps per-parameter state between steps.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// One update of every parameter that has a gradient.
    func step(_ parameters: [Parameter])
}

/// An optimizer whose update of each element depends on that element alone (its value, its
/// gradient and its own state), so that a caller may update a parameter block by block, each
/// block as soon as its gradient is summed and still in cache (a training step does so for the
/// linear weights it sums in blocks, `Kernels.linearWeightGradients`).
public protocol ElementwiseOptimizer: Optimizer {
    /// Starts this step's update of `parameter`, whose gradient has `count` elements (advances
    /// its step count, makes its state on the first step), and returns the update of any of its
    /// elements. The caller must then apply it to every element exactly once, from any threads
    /// on disjoint ranges, before the parameter's next step, and leave the parameter out of
    /// `step` this time.
    func beginStep(of parameter: Parameter, count: Int) -> ElementwiseUpdate
}

/// One parameter's update in one optimizer step, element by element (`ElementwiseOptimizer`):
/// `apply(value, gradient, elements)` updates `value[i]` for every `i` in `elements`, from
/// `gradient[i]` and the optimizer's state of that element, the same way whichever ranges the
/// elements come in.
public struct ElementwiseUpdate {
    public let apply: (_ value: UnsafeMutablePointer<Float>, _ gradient: UnsafePointer<Float>, _ elements: Range<Int>) -> Void

    public init(_ apply: @escaping (_ value: UnsafeMutablePointer<Float>, _ gradient: UnsafePointer<Float>, _ elements: Range<Int>) -> Void) {
        self.apply = apply
    }
}

/// The typed settings of one optimizer kind as written in an experiment file.
public protocol OptimizerSpec: SpecKind, Codable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// Checks the settings; returns messages for the ones out of range.
    func problems() -> [String]
    func makeOptimizer() -> any Optimizer
}
