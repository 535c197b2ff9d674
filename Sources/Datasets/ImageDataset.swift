import Tensors

/// Labelled images as an NCHW tensor of pixels in [0, 1] and one class index per image; or, for
/// regression, inputs (images or feature rows) with real-valued targets.
///
/// The images of a large file-backed set (an image folder's training split) may instead stay in
/// their files (`streamed`) and be decoded batch by batch by a `BatchLoader`.
public struct ImageDataset: Sendable {
    /// The inputs: images `[N, C, H, W]`, or feature rows `[N, F]` of a tabular dataset. Not
    /// available for a streamed dataset (`streamed != nil`): read it with `loader` or
    /// `materialized()`; setting it makes the dataset an in-memory one.
    public var images: Tensor {
        get {
            precondition(streamed == nil, "the images of a streamed dataset are read through loader(…) or materialized()")
            return storedImages
        }
        _modify {
            precondition(streamed == nil, "the images of a streamed dataset are read through loader(…) or materialized()")
            yield &storedImages
        }
        set {
            storedImages = newValue
            streamed = nil
        }
    }
    private var storedImages: Tensor
    /// The samples' files and their decoder, for a dataset not held in memory.
    public private(set) var streamed: StreamedSamples?
    /// The class of every sample (empty for a regression dataset).
    public var labels: [Int]
    /// Classes of a classification dataset (0 for a regression dataset).
    public var classCount: Int
    /// The real-valued targets `[N, T]` of a regression dataset (`nil` for classification).
    public var targets: Tensor?

    public init(images: Tensor, labels: [Int], classCount: Int) {
        precondition(images.rank >= 2 && images.shape[0] == labels.count, "images \(images.shape) for \(labels.count) labels")
        self.storedImages = images
        self.labels = labels
        self.classCount = classCount
    }

    /// A regression dataset: inputs `[N, …]` and targets `[N, T]`.
    public init(inputs: Tensor, targets: Tensor) {
        precondition(
            inputs.rank >= 2 && targets.rank == 2 && inputs.shape[0] == targets.shape[0],
            "inputs \(inputs.shape) for targets \(targets.shape)")
        self.storedImages = inputs
        self.labels = []
        self.classCount = 0
        self.targets = targets
    }

    /// Labelled images kept in their files, decoded on demand by `samples.reader`.
    public init(streaming samples: StreamedSamples, labels: [Int], classCount: Int) {
        precondition(samples.indices.count == labels.count, "\(samples.indices.count) samples for \(labels.count) labels")
        self.storedImages = Tensor(shape: [0] + samples.reader.sampleShape, scalars: [])
        self.streamed = samples
        self.labels = labels
        self.classCount = classCount
    }

    public var count: Int { streamed?.indices.count ?? storedImages.shape[0] }
    /// The shape of one sample: `[channels, height, width]` for images, `[features]` for rows.
    public var sampleShape: [Int] { Array(storedImages.shape.dropFirst()) }
    /// Targets per sample (0 for classification).
    public var targetCount: Int { targets?.shape[1] ?? 0 }

    /// What supervises the samples in `range`: their labels or their targets.
    public func supervision(_ range: Range<Int>) -> Supervision {
        targets.map { .targets($0.slice(range)) } ?? .labels(Array(labels[range]))
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageDataset {
        if let streamed {
            let samples = StreamedSamples(reader: streamed.reader, indices: indices.map { streamed.indices[$0] })
            return ImageDataset(streaming: samples, labels: indices.map { labels[$0] }, classCount: classCount)
        }
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

    /// Mini-batches in order (or shuffled with `rng`); the last batch may be smaller. In memory
    /// only: a streamed dataset's batches come from `loader`.
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
