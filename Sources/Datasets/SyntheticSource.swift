import Spec

/// The synthetic template images of `SyntheticImages` as an experiment's dataset
/// (`type: synthetic`); for tests and demos that need no download.
public struct SyntheticSource: DatasetSource, Equatable {
    public static let kind = "synthetic"
    public static let defaults = [
        "train": "600", "validation": "100", "test": "200", "classes": "10", "side": "12", "noise": "0.25", "seed": "0", "normalize": "no normalisation",
    ]
    public static let summary = "Synthetic noisy class templates, for tests and demos without a download."
    /// Training, validation and test sizes (each ≥ 1; defaults 600, 100, 200).
    public var train: Int
    public var validation: Int
    public var test: Int
    /// Classes, 2…256 (default 10).
    public var classes: Int
    /// Image side in pixels, 4…256 (default 12); images have one channel.
    public var side: Int
    /// Standard deviation of the pixel noise around each class template (default 0.25).
    public var noise: Float
    /// Seed of the templates and samples (default 0).
    public var seed: UInt64
    public var normalize: NormalizationParameters?

    public init(
        train: Int = 600, validation: Int = 100, test: Int = 200, classes: Int = 10, side: Int = 12,
        noise: Float = 0.25, seed: UInt64 = 0, normalize: NormalizationParameters? = nil
    ) {
        self.train = train
        self.validation = validation
        self.test = test
        self.classes = classes
        self.side = side
        self.noise = noise
        self.seed = seed
        self.normalize = normalize
    }

    private enum CodingKeys: String, CodingKey { case train, validation, test, classes, side, noise, seed, normalize }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SyntheticSource()
        self.init(
            train: try c.decodeIfPresent(Int.self, forKey: .train) ?? defaults.train,
            validation: try c.decodeIfPresent(Int.self, forKey: .validation) ?? defaults.validation,
            test: try c.decodeIfPresent(Int.self, forKey: .test) ?? defaults.test,
            classes: try c.decodeIfPresent(Int.self, forKey: .classes) ?? defaults.classes,
            side: try c.decodeIfPresent(Int.self, forKey: .side) ?? defaults.side,
            noise: try c.decodeIfPresent(Float.self, forKey: .noise) ?? defaults.noise,
            seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? defaults.seed,
            normalize: try c.decodeIfPresent(NormalizationParameters.self, forKey: .normalize))
    }

    public var sampleShape: [Int] { [1, side, side] }
    public var classCount: Int { classes }
    public var sampleCounts: (training: Int, validation: Int, test: Int) { (train, validation, test) }
    public var normalization: (mean: [Float], std: [Float])? { normalize.map { ($0.mean, $0.std) } }

    public func problems() -> [String] {
        var found: [String] = []
        if train < 1 || validation < 1 || test < 1 { found.append("train, validation and test must each be ≥ 1") }
        if !(2...256).contains(classes) { found.append("classes must be in 2…256, got \(classes)") }
        if !(4...256).contains(side) { found.append("side must be in 4…256, got \(side)") }
        if !(noise >= 0) { found.append("noise must be ≥ 0, got \(noise)") }
        return found + (normalize?.problems(channels: 1) ?? [])
    }

    public func load() throws(DatasetError) -> DatasetSplits {
        let all = SyntheticImages.make(count: train + validation + test, classCount: classes, side: side, noise: noise, seed: seed)
        return DatasetSplits(
            training: all.subset(Array(0..<train)),
            validation: all.subset(Array(train..<(train + validation))),
            test: all.subset(Array((train + validation)..<(train + validation + test))))
    }
}
