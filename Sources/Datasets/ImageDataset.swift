import Tensors

/// Labelled images as an NCHW tensor of pixels in [0, 1] and one class index per image; or, for
/// regression, inputs (images or feature rows) with real-valued targets.
public struct ImageDataset: Sendable {
    /// The inputs: images `[N, C, H, W]`, or feature rows `[N, F]` of a tabular dataset.
    public var images: Tensor
    /// The class of every sample (empty for a regression dataset).
    public var labels: [Int]
    /// Classes of a classification dataset (0 for a regression dataset).
    public var classCount: Int
    /// The real-valued targets `[N, T]` of a regression dataset (`nil` for classification).
    public var targets: Tensor?

    public init(images: Tensor, labels: [Int], classCount: Int) {
        precondition(images.rank >= 2 && images.shape[0] == labels.count, "images \(images.shape) for \(labels.count) labels")
        self.images = images
        self.labels = labels
        self.classCount = classCount
    }

    /// A regression dataset: inputs `[N, …]` and targets `[N, T]`.
    public init(inputs: Tensor, targets: Tensor) {
        precondition(
            inputs.rank >= 2 && targets.rank == 2 && inputs.shape[0] == targets.shape[0],
            "inputs \(inputs.shape) for targets \(targets.shape)")
        self.images = inputs
        self.labels = []
        self.classCount = 0
        self.targets = targets
    }

    public var count: Int { images.shape[0] }
    /// The shape of one sample: `[channels, height, width]` for images, `[features]` for rows.
    public var sampleShape: [Int] { Array(images.shape.dropFirst()) }
    /// Targets per sample (0 for classification).
    public var targetCount: Int { targets?.shape[1] ?? 0 }

    /// What supervises the samples in `range`: their labels or their targets.
    public func supervision(_ range: Range<Int>) -> Supervision {
        targets.map { .targets($0.slice(range)) } ?? .labels(Array(labels[range]))
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageDataset {
        if let targets { return ImageDataset(inputs: images.gathering(rows: indices), targets: targets.gathering(rows: indices)) }
        return ImageDataset(images: images.gathering(rows: indices), labels: indices.map { labels[$0] }, classCount: classCount)
    }

    /// The first `count` samples (all if fewer).
    public func prefix(_ count: Int) -> ImageDataset { subset(Array(0..<min(count, self.count))) }

    /// A deterministic split into (training, validation): a seeded permutation, then the first
    /// `validationCount` permuted samples form the validation set. Both keep the permuted order.
    public func split(validationCount: Int, seed: UInt64) throws(DatasetError) -> (training: ImageDataset, validation: ImageDataset) {
        guard validationCount >= 0, validationCount < count else {
            throw .invalidSplit("validation size \(validationCount) must be in 0..<\(count)")
        }
        var rng = RandomSource(seed: seed)
        let order = rng.permutation(count)
        return (subset(Array(order[validationCount...])), subset(Array(order[..<validationCount])))
    }

    /// Mini-batches in order (or shuffled with `rng`); the last batch may be smaller.
    public func batches(size: Int, shuffledWith rng: inout RandomSource?) -> [Batch] {
        precondition(size > 0, "batch size must be positive")
        let order: [Int]? = rng.map { generator in
            var copy = generator
            defer { rng = copy }
            return copy.permutation(count)
        }
        return stride(from: 0, to: count, by: size).map { start in
            let range = start..<min(start + size, count)
            if let order { return subset(Array(order[range])).batch }
            return Batch(images: images.slice(range), supervision: supervision(range))
        }
    }

    /// Mini-batches in stored order.
    public func batches(size: Int) -> [Batch] {
        var none: RandomSource?
        return batches(size: size, shuffledWith: &none)
    }

    /// The whole dataset as one batch.
    var batch: Batch { Batch(images: images, supervision: supervision(0..<count)) }
}

/// One mini-batch.
public struct Batch: Sendable {
    public var images: Tensor
    public var supervision: Supervision

    /// The labels of a classification batch (empty for regression).
    public var labels: [Int] {
        if case .labels(let labels) = supervision { return labels }
        return []
    }

    /// Samples in the batch.
    public var count: Int { images.shape[0] }
}
