import Tensors

/// Labelled images as an NCHW tensor of pixels in [0, 1] and one class index per image.
public struct ImageDataset: Sendable {
    public var images: Tensor
    public var labels: [Int]
    public var classCount: Int

    public init(images: Tensor, labels: [Int], classCount: Int) {
        precondition(images.rank == 4 && images.shape[0] == labels.count, "images \(images.shape) for \(labels.count) labels")
        self.images = images
        self.labels = labels
        self.classCount = classCount
    }

    public var count: Int { labels.count }
    /// The shape of one image, `[channels, height, width]`.
    public var sampleShape: [Int] { Array(images.shape.dropFirst()) }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageDataset {
        ImageDataset(images: images.gathering(rows: indices), labels: indices.map { labels[$0] }, classCount: classCount)
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
            if let order {
                let indices = Array(order[range])
                return Batch(images: images.gathering(rows: indices), labels: indices.map { labels[$0] })
            }
            return Batch(images: images.slice(range), labels: Array(labels[range]))
        }
    }

    /// Mini-batches in stored order.
    public func batches(size: Int) -> [Batch] {
        var none: RandomSource?
        return batches(size: size, shuffledWith: &none)
    }
}

/// One mini-batch.
public struct Batch: Sendable {
    public var images: Tensor
    public var labels: [Int]
}
