import Layers
import Tensors

/// A model-free change of the input images (noise, blur, …), applied batch by batch.
/// Inputs and outputs are pixels in [0, 1].
public protocol Corruption: Codable, Sendable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// Messages for parameters out of their documented range (empty when valid).
    func problems() -> [String]
    /// A short label for tables, with the parameters (`gaussian_noise(std=0.1)`).
    var label: String { get }
    func apply(to images: Tensor, rng: inout RandomSource) -> Tensor
}

/// A white- or black-box attack that perturbs images to change the model's prediction.
/// Inputs and outputs are pixels in [0, 1]; budgets are stated in pixel units.
public protocol Attack: Codable, Sendable {
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    func problems() -> [String]
    var label: String { get }
    func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor
}

/// Formats a parameter value for labels without trailing zeros.
func formatParameter(_ value: Float) -> String {
    var text = String(value)
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}
