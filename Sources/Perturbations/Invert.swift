import Spec
import Tensors

/// The photometric negative, `x' = 1 − x`: the same shapes with the intensities reversed.
///
/// Hosseini, Xiao, Jaiswal & Poovendran, "On the Limitation of Convolutional Neural Networks in
/// Recognizing Negative Images" (ICMLA 2017). It has no severities; for grayscale images it
/// stands where colour saturation has no meaning.
public struct Invert: Corruption, Equatable {
    public static let kind = "invert"
    public static let summary = "Photometric negative 1 − x (no parameters); meaningful for grayscale images."

    public init() {}

    public func problems() -> [String] { [] }

    public var label: String { Self.kind }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        images.mappingValues(&rng) { x, _ in 1 - x }
    }
}
