import Dispatch

/// Splits a kernel's independent work over the cores a job owns: as many parts as it has BLAS
/// threads (`jobs × threads = cores`), so the loops around the matrix products (patch
/// lowering, layout copies, activations, pooling) use those cores too instead of leaving them
/// to OpenBLAS's idle threads. Every part computes its own outputs with the same arithmetic in
/// the same order as one serial loop, so results do not depend on how many parts there are.
public enum Parallel {
    /// Calls `body` on contiguous, disjoint ranges covering `0..<count`: one range when `count`
    /// is below `2 × grain` or the job has one thread, else up to one per BLAS thread, each at
    /// least `grain` items. `body` must only write what its range owns.
    @inlinable
    public static func forEach(_ count: Int, grain: Int, parts requested: Int? = nil, _ body: (Range<Int>) -> Void) {
        let parts = min(requested ?? BLAS.threadCount, count / max(1, grain))
        guard parts > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                shared.body(count * part / parts..<count * (part + 1) / parts)
            }
        }
    }

    /// Carries the non-escaping body into `concurrentPerform`, which waits for every part.
    @usableFromInline
    struct UncheckedBody: @unchecked Sendable {
        @usableFromInline let body: (Range<Int>) -> Void
        @usableFromInline init(body: @escaping (Range<Int>) -> Void) { self.body = body }
    }
}
