import Spec
import Tensors

/// Where out-of-distribution inputs come from, as written in an experiment file
/// (`uncertainty: {ood: [{type: …}]}`): images of the in-distribution samples' shape, in [0, 1]
/// pixels, that belong to none of the classes.
public protocol OutOfDistributionSource: SpecKind, Codable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// The kind with its parameters; it names the source in results.
    var label: String { get }
    /// How many images to draw (nil: as many as the test split has).
    var samples: Int? { get }
    /// Messages for parameters out of range; each starts with the parameter's name.
    func problems() -> [String]
    /// `count` images shaped like the samples of `reference` (the test split), drawn from `rng`;
    /// a source with held-out classes gets the full test split and may return fewer.
    func images(count: Int, like reference: ImageDataset, rng: inout RandomSource) -> Tensor
    /// Classes this source removes from every split of the experiment (default none).
    var heldOutClasses: [Int] { get }
}

extension OutOfDistributionSource {
    public var heldOutClasses: [Int] { [] }
}

func samplesProblems(_ samples: Int?) -> [String] {
    guard let samples, samples < 1 else { return [] }
    return ["samples must be ≥ 1, got \(samples)"]
}
