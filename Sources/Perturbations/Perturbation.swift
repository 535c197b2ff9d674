import Spec
import Foundation
import Layers
import Tensors

/// A model-free change of the input images (noise, blur, geometric shift, …), applied batch by
/// batch. Inputs are pixels in [0, 1]; outputs too unless a kind says otherwise.
///
/// A kind draws its random numbers image by image in batch order, so its output does not depend
/// on the evaluation batch size.
public protocol Corruption: SpecKind, Codable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// Messages for parameters out of their documented range (empty when valid).
    func problems() -> [String]
    /// Messages when the kind cannot apply to samples of this shape (`[C, H, W]` for images);
    /// checked when the dataset is known. Default: none.
    func problems(sampleShape: [Int]) -> [String]
    /// The published severity level (1–5) this instance uses, nil when parameters are explicit
    /// or the kind has no severities.
    var severity: Int? { get }
    /// A short label for tables, with the parameters (`gaussian_noise(severity=3)`).
    var label: String { get }
    func apply(to images: Tensor, rng: inout RandomSource) -> Tensor
    /// For a kind that moves the label distribution p(y) instead of the images (a label shift):
    /// the test-sample indices the evaluation sees in place of the test split (`labels.count`
    /// of them, in order), drawn from `labels`. Default: nil, the kind changes images (`apply`).
    func resampledTestIndices(labels: [Int], rng: inout RandomSource) -> [Int]?
    /// The corruption type an evaluation reports (mCE groups by it): the kind, or the named
    /// corruption of a precomputed set.
    var evaluationType: String { get }
    /// For a kind whose images are read from files instead of computed (a precomputed set):
    /// the corrupted test split, read and checked against the test split's `labels` and sample
    /// shape; the error names the file. Default: nil, the kind computes its images (`apply`).
    func precomputedTestImages(labels: [Int], sampleShape: [Int]) throws -> PrecomputedImages?
}

extension Corruption {
    public func problems(sampleShape: [Int]) -> [String] { [] }
    public var severity: Int? { nil }
    public func resampledTestIndices(labels: [Int], rng: inout RandomSource) -> [Int]? { nil }
    public var evaluationType: String { Self.kind }
    public func precomputedTestImages(labels: [Int], sampleShape: [Int]) throws -> PrecomputedImages? { nil }
}

/// Corrupted test images read from files, as pixel bytes `[N, C, H, W]` (divided by 255 when a
/// batch is taken).
public struct PrecomputedImages: Sendable {
    public let sampleShape: [Int]
    let bytes: [UInt8]

    public init(sampleShape: [Int], bytes: [UInt8]) {
        self.sampleShape = sampleShape
        self.bytes = bytes
    }

    /// The images of test samples `range`.
    public func images(_ range: Range<Int>) -> Tensor {
        let size = sampleShape.reduce(1, *)
        return Tensor(shape: [range.count] + sampleShape, scalars: bytes[(range.lowerBound * size)..<(range.upperBound * size)].map { Float($0) / 255 })
    }
}

/// Corruptions that work on images: samples must be `[C, H, W]`.
protocol SpatialCorruption: Corruption {}

extension SpatialCorruption {
    public func problems(sampleShape: [Int]) -> [String] {
        sampleShape.count == 3 ? [] : ["\(Self.kind) needs image samples [channels, height, width]; the dataset's samples are \(shapeText(sampleShape))"]
    }
}

/// A white- or black-box attack that perturbs images to change the model's prediction.
/// Inputs and outputs are pixels in [0, 1]; budgets are stated in pixel units.
public protocol Attack: SpecKind, Codable {
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    func problems() -> [String]
    var label: String { get }
    /// The attack's budget in its norm, in pixel units (nil when it has none); results use it
    /// for the smallest budget that fools the model on each sample.
    var budget: Float? { get }
    /// The attack's cost per sample in forward-pass equivalents, including the evaluation's own
    /// forward pass (a forward plus an input-gradient pass counts 2), for run-time estimates.
    var forwardPasses: Double { get }
    func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor
    /// Messages when the attack cannot run on a classifier of `classCount` classes (each
    /// starting with the parameter's key). Default: none.
    func problems(classCount: Int) -> [String]
}

extension Attack {
    public func problems(classCount: Int) -> [String] { [] }

    /// The label without its budget: attacks of one family differ only in `epsilon`, and an
    /// epsilon sweep within a family gives each sample's smallest fooling budget.
    public var family: String {
        label.replacingOccurrences(of: #"epsilon=[^,)]*,?"#, with: "", options: .regularExpression)
    }
}

/// A sample shape as messages show it: `[1, 28, 28]`.
func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// Formats a parameter value for labels without trailing zeros.
func formatParameter(_ value: Float) -> String {
    var text = String(value)
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}
