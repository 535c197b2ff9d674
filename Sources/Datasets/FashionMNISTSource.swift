import Spec

/// Fashion-MNIST as an experiment's dataset (`type: fashion_mnist`).
///
/// The 60,000 training images are split deterministically into training and validation
/// (`validation` images, chosen by a permutation seeded with `split_seed`); the 10,000 test
/// images are the test set. `train_limit` / `test_limit` keep only the first images (quick runs).
public struct FashionMNISTSource: DatasetSource, Equatable {
    public static let kind = "fashion_mnist"
    public static let defaults = [
        "path": "Debian's dataset-fashion-mnist folder", "validation": "5000", "split_seed": "0", "train_limit": "every training image",
        "test_limit": "every test image", "normalize": "no normalisation",
    ]
    public static let summary = "Fashion-MNIST 28×28 grayscale, 10 classes, from Debian's dataset-fashion-mnist; seeded validation split."
    /// Directory with the four IDX files (default: where Debian's `dataset-fashion-mnist` puts them).
    public var path: String
    /// Training images held out for validation, in [0, 60000) (default 5000).
    public var validation: Int
    /// Seed of the training/validation split (default 0, the same for every trial seed).
    public var splitSeed: UInt64
    /// Use only the first N training images after the split (default: all).
    public var trainLimit: Int?
    /// Use only the first N test images (default: all 10,000).
    public var testLimit: Int?
    public var normalize: NormalizationParameters?

    public init(
        path: String = FashionMNIST.defaultDirectory, validation: Int = 5000, splitSeed: UInt64 = 0,
        trainLimit: Int? = nil, testLimit: Int? = nil, normalize: NormalizationParameters? = nil
    ) {
        self.path = path
        self.validation = validation
        self.splitSeed = splitSeed
        self.trainLimit = trainLimit
        self.testLimit = testLimit
        self.normalize = normalize
    }

    private enum CodingKeys: String, CodingKey { case path, validation, splitSeed, trainLimit, testLimit, normalize }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            path: try c.decodeIfPresent(String.self, forKey: .path) ?? FashionMNIST.defaultDirectory,
            validation: try c.decodeIfPresent(Int.self, forKey: .validation) ?? 5000,
            splitSeed: try c.decodeIfPresent(UInt64.self, forKey: .splitSeed) ?? 0,
            trainLimit: try c.decodeIfPresent(Int.self, forKey: .trainLimit),
            testLimit: try c.decodeIfPresent(Int.self, forKey: .testLimit),
            normalize: try c.decodeIfPresent(NormalizationParameters.self, forKey: .normalize))
    }

    public var sampleShape: [Int] { [1, 28, 28] }
    public var classCount: Int { 10 }
    public var classNames: [String]? { FashionMNIST.classNames }
    public var sampleCounts: (training: Int, validation: Int, test: Int) {
        (min(60000 - validation, trainLimit ?? .max), validation, min(10000, testLimit ?? .max))
    }
    public var normalization: (mean: [Float], std: [Float])? { normalize.map { ($0.mean, $0.std) } }

    public func problems() -> [String] {
        var found: [String] = []
        if !(0..<60000).contains(validation) { found.append("validation must be in 0..<60000, got \(validation)") }
        if let trainLimit, trainLimit < 1 { found.append("train_limit must be ≥ 1, got \(trainLimit)") }
        if let testLimit, testLimit < 1 { found.append("test_limit must be ≥ 1, got \(testLimit)") }
        return found + (normalize?.problems(channels: 1) ?? [])
    }

    public func verify() throws(DatasetError) {
        for split in [FashionMNIST.Split.train, .test] {
            try MNISTFamily.verify(prefix: split.rawValue, directory: path)
        }
    }

    public func load() throws(DatasetError) -> DatasetSplits {
        let train = try FashionMNIST.load(split: .train, directory: path)
        let test = try FashionMNIST.load(split: .test, directory: path)
        var (training, validationSet) = try train.split(validationCount: validation, seed: splitSeed)
        if let trainLimit { training = training.prefix(trainLimit) }
        return DatasetSplits(training: training, validation: validationSet, test: testLimit.map { test.prefix($0) } ?? test)
    }
}
