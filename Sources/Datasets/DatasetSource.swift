import Spec
/// The training, validation and test sets of one experiment.
public struct DatasetSplits: Sendable {
    public var training: ImageDataset
    public var validation: ImageDataset
    public var test: ImageDataset

    public init(training: ImageDataset, validation: ImageDataset, test: ImageDataset) {
        self.training = training
        self.validation = validation
        self.test = test
    }
}

extension DatasetSplits {
    /// The splits without the samples of `classes` (labels unchanged), and the test samples of
    /// those classes. No classes: the splits as they are.
    public func holdingOut(_ classes: [Int]) -> (splits: DatasetSplits, heldOutTest: ImageDataset) {
        guard !classes.isEmpty else { return (self, test.subset([])) }
        let held = Set(classes)
        func keep(_ split: ImageDataset) -> ImageDataset { split.subset(split.labels.indices.filter { !held.contains(split.labels[$0]) }) }
        return (
            DatasetSplits(training: keep(training), validation: keep(validation), test: keep(test)),
            test.subset(test.labels.indices.filter { held.contains(test.labels[$0]) })
        )
    }
}

/// A dataset kind as written in an experiment file (`dataset: {type: …}`).
public protocol DatasetSource: SpecKind, Codable {
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// The shape of one sample, known without loading, so models can be checked before a run.
    var sampleShape: [Int] { get }
    /// Classes of a classification dataset (0 for a regression dataset).
    var classCount: Int { get }
    /// Real-valued targets per sample of a regression dataset (0, the default, for classification).
    var targetCount: Int { get }
    /// Sizes of the training, validation and test sets, known without loading.
    var sampleCounts: (training: Int, validation: Int, test: Int) { get }
    /// Per-channel normalisation the model applies to its [0, 1] input, if any.
    var normalization: (mean: [Float], std: [Float])? { get }
    /// The name of each class, where the files carry them (nil otherwise).
    var classNames: [String]? { get }
    /// Messages for parameters out of range (empty when valid).
    func problems() -> [String]
    func load() throws(DatasetError) -> DatasetSplits
    /// Checks cheaply that `load()` can start (files present, headers valid), so a run can report
    /// a data problem before it hands trials to worker processes. By default: nothing to check.
    func verify() throws(DatasetError)
}

extension DatasetSource {
    public func verify() throws(DatasetError) {}
    public var targetCount: Int { 0 }
    public var classNames: [String]? { nil }
}

/// A dataset kind that reads a file named in the experiment: a relative path is relative to
/// the experiment file that names it.
public protocol FileBackedSource: DatasetSource {
    /// The same source with a relative path taken relative to `directory`.
    func resolvingPaths(relativeTo directory: String) -> Self
}

/// `normalize: {mean: [...], std: [...]}` in a dataset entry.
public struct NormalizationParameters: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    func problems(channels: Int) -> [String] {
        var found: [String] = []
        if mean.count != channels || std.count != channels {
            found.append("normalize needs \(channels) mean and std value(s), one per channel")
        }
        if std.contains(where: { !($0 > 0) }) { found.append("normalize.std values must be > 0") }
        return found
    }
}
