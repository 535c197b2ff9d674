import Foundation
import Tensors

/// Where a streamed dataset's samples come from: a numbered set of samples (image files) and a
/// way to decode them. Readers are shared between threads; decoders are not.
public protocol SampleReader: Sendable {
    /// The shape of every decoded sample, `[C, H, W]`.
    var sampleShape: [Int] { get }
    /// A decoder for one thread (it may keep codec handles and buffers between samples).
    func makeDecoder() -> any SampleDecoder
}

/// Decodes samples of one `SampleReader` on one thread.
public protocol SampleDecoder: AnyObject {
    /// Writes sample `index` (pixels in [0, 1], `[C, H, W]`) into `destination`, which holds
    /// exactly one sample. A missing, truncated or corrupt file is an error naming it.
    func decode(_ index: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(DatasetError)
    /// Writes samples `indices`, one after another, into `destination` (by default one by one;
    /// a decoder that reads rows of one file reads them together).
    func decode(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws(DatasetError)
}

extension SampleDecoder {
    public func decode(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws(DatasetError) {
        let size = destination.count / max(1, indices.count)
        for (position, index) in indices.enumerated() {
            try decode(index, into: UnsafeMutableBufferPointer(rebasing: destination[(position * size)..<((position + 1) * size)]))
        }
    }
}

/// The samples of a streamed dataset: the reader's samples at `indices`, in that order, and how
/// its loaders decode them by default (`threads` threads, `prefetch` batches ahead).
public struct StreamedSamples: Sendable {
    public let reader: any SampleReader
    public var indices: [Int]
    public var threads: Int
    public var prefetch: Int

    public init(reader: any SampleReader, indices: [Int], threads: Int = 2, prefetch: Int = 4) {
        self.reader = reader
        self.indices = indices
        self.threads = threads
        self.prefetch = prefetch
    }
}

extension ImageDataset {
    /// One pass over the dataset in mini-batches of `batchSize` (the last may be smaller), in
    /// order or shuffled with `rng` exactly as `batches(size:shuffledWith:)` shuffles. A
    /// streamed dataset's batches are decoded on `threads` dedicated threads, at most `prefetch`
    /// batches ahead of the consumer (by default the numbers its source declared); the batches
    /// do not depend on either number.
    public func loader(batchSize: Int, shuffledWith rng: inout RandomSource?, threads: Int? = nil, prefetch: Int? = nil) -> BatchLoader {
        precondition(batchSize > 0, "batch size must be positive")
        let order: [Int]? = rng.map { generator in
            var copy = generator
            defer { rng = copy }
            return copy.permutation(count)
        }
        return BatchLoader(
            dataset: self, order: order, batchSize: batchSize, threads: threads ?? streamed?.threads ?? 2, prefetch: prefetch ?? streamed?.prefetch ?? 4)
    }

    /// The same samples held in memory: a streamed dataset decoded on `threads` threads (an
    /// in-memory one as it is).
    public func materialized(threads: Int? = nil) throws(DatasetError) -> ImageDataset {
        guard streamed != nil else { return self }
        var none: RandomSource?
        let loader = self.loader(batchSize: 256, shuffledWith: &none, threads: threads)
        var scalars: [Float] = []
        scalars.reserveCapacity(count * sampleShape.reduce(1, *))
        while let batch = try loader.next() { scalars += batch.images.scalars }
        return ImageDataset(images: Tensor(shape: [count] + sampleShape, scalars: scalars), labels: labels, classCount: classCount)
    }
}

/// The mini-batches of one pass over a dataset, taken one by one with `next()`. In-memory
/// batches are sliced (or gathered, when shuffled) as they are asked for; streamed ones are
/// decoded ahead on dedicated threads (never Swift's cooperative pool, which the model's work
/// would starve), so memory holds at most `prefetch` batches plus one per thread whatever the
/// dataset's size. Stopping early (dropping the loader) stops the threads.
public final class BatchLoader {
    /// Batches in the pass.
    public let count: Int
    private let dataset: ImageDataset
    private let order: [Int]?
    private let batchSize: Int
    private var taken = 0
    private let prefetcher: Prefetcher?

    init(dataset: ImageDataset, order: [Int]?, batchSize: Int, threads: Int, prefetch: Int) {
        self.dataset = dataset
        self.order = order
        self.batchSize = batchSize
        count = (dataset.count + batchSize - 1) / batchSize
        if let streamed = dataset.streamed, count > 0 {
            let samples = (0..<count).map { batch in
                let range = (batch * batchSize)..<min((batch + 1) * batchSize, dataset.count)
                return range.map { streamed.indices[order?[$0] ?? $0] }
            }
            prefetcher = Prefetcher(reader: streamed.reader, batches: samples, threads: max(1, threads), depth: max(1, prefetch))
        } else {
            prefetcher = nil
        }
    }

    deinit { prefetcher?.cancel() }

    /// The next batch, or nil after the last. A sample that cannot be decoded is an error naming
    /// its file; the pass cannot go on after it.
    public func next() throws(DatasetError) -> Batch? {
        guard taken < count else { return nil }
        let batch = taken
        taken += 1
        let range = (batch * batchSize)..<min((batch + 1) * batchSize, dataset.count)
        if let prefetcher {
            // Streamed datasets are labelled image sets (no regression targets).
            let images = try prefetcher.take(batch)
            return Batch(images: images, supervision: .labels(range.map { dataset.labels[order?[$0] ?? $0] }))
        }
        if let order { return dataset.subset(Array(order[range])).batch }
        return Batch(images: dataset.images.slice(range), supervision: dataset.supervision(range))
    }
}

/// Decodes batches of samples on its own threads, in batch order, at most `depth` batches ahead
/// of the one `take` waits for.
private final class Prefetcher: @unchecked Sendable {
    private let reader: any SampleReader
    private let batches: [[Int]]
    private let depth: Int
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var started = 0
    private var consumed = 0
    private var ready: [Int: Result<Tensor, DatasetError>] = [:]
    private var cancelled = false

    init(reader: any SampleReader, batches: [[Int]], threads: Int, depth: Int) {
        self.reader = reader
        self.batches = batches
        self.depth = depth
        for index in 0..<min(threads, batches.count) {
            let thread = Thread { [self] in work() }
            thread.name = "gauntlet-loader-\(index)"
            thread.start()
        }
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// Batch `batch`'s images, waiting until a thread has decoded them.
    func take(_ batch: Int) throws(DatasetError) -> Tensor {
        condition.lock()
        defer { condition.unlock() }
        while ready[batch] == nil { condition.wait() }
        let result = ready.removeValue(forKey: batch)!
        consumed = batch + 1
        condition.broadcast()
        if case .failure = result { cancelled = true }
        return try result.get()
    }

    /// A thread's loop: claim the next batch within the window, decode it, publish it.
    private func work() {
        let decoder = reader.makeDecoder()
        let shape = reader.sampleShape
        let sampleSize = shape.reduce(1, *)
        condition.lock()
        while true {
            while !cancelled && started < batches.count && started >= consumed + depth { condition.wait() }
            if cancelled || started >= batches.count { break }
            let batch = started
            started += 1
            condition.unlock()
            let samples = batches[batch]
            var failure: DatasetError?
            let scalars = [Float](unsafeUninitializedCapacity: samples.count * sampleSize) { buffer, initialized in
                buffer.initialize(repeating: 0)
                do throws(DatasetError) { try decoder.decode(samples, into: buffer) } catch { failure = error }
                initialized = samples.count * sampleSize
            }
            let result: Result<Tensor, DatasetError> = failure.map { .failure($0) } ?? .success(Tensor(shape: [samples.count] + shape, scalars: scalars))
            condition.lock()
            ready[batch] = result
            condition.broadcast()
        }
        condition.unlock()
    }
}
