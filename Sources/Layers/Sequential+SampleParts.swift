import Tensors

extension Sequential {
    /// The fewest samples a part of a split batch gets: below that, a part's one-threaded
    /// products lose more than the second thread gains.
    static let minimumSamplesPerPart = 8

    /// Calls `body` on one contiguous range of a batch's samples per thread of the job, the
    /// parts side by side, each from input to output on its own thread (its products and loops
    /// one-threaded, as a convolution's pipelines run), and returns the parts' results in sample
    /// order. For passes whose samples are computed independently of one another (inference mode:
    /// no batch statistics, no random draws), so that a sample's result does not depend on the
    /// split but for rounding (a part's products have other sizes); a training step arranges its
    /// dropout masks and gradient sums for it (`splitGradients`). One range, `0..<batch`, when
    /// the job has one thread, this runs inside a part already, or the batch has fewer than two
    /// parts' worth of samples. (`parts`, for tests, asks for that many parts instead of one per
    /// thread.)
    func forEachSamplePart<T>(_ batch: Int, parts requested: Int? = nil, _ body: (Range<Int>) -> T) -> [T] {
        let parts = min(requested ?? Parallel.threadsAvailable, batch / Self.minimumSamplesPerPart)
        guard parts > 1 else { return [body(0..<batch)] }
        return Parallel.map(parts, parts: parts) { part in body(batch * part / parts..<batch * (part + 1) / parts) }
    }

    /// `transform` of each part's rows of `batch`, joined back along the batch axis
    /// (`forEachSamplePart`).
    func mapSampleParts(_ batch: Tensor, parts requested: Int? = nil, _ transform: (Tensor) -> Tensor) -> Tensor {
        let parts = forEachSamplePart(batch.shape[0], parts: requested) { range in transform(batch.slice(range)) }
        return parts.count == 1 ? parts[0] : Tensor(concatenating: parts)
    }
}
