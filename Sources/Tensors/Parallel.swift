import CWorkerThreads
import Dispatch
import Foundation

/// Splits a kernel's independent work over the job's threads (`BLAS.threadCount`, with
/// `jobs × threads = cores`): the loops around the matrix products (patch lowering, layout
/// copies, activations, pooling) and the products themselves (`BLAS.sgemm`). Every part
/// computes its own outputs with the same arithmetic in the same order as one serial loop, so
/// results do not depend on how many parts there are. Inside a part, nested loops and products
/// run on that part's thread alone. The parts run on the calling thread and Gauntlet's helper
/// threads (`Sources/CWorkerThreads`), which spin for a while between jobs.
public enum Parallel {
    /// Whether the calling thread runs a part of a `forEach`.
    @TaskLocal static var insidePart = false

    /// The threads a kernel called here may use: the job's, or 1 inside a part.
    public static var threadsAvailable: Int { insidePart ? 1 : BLAS.threadCount }

    /// Calls `body` on contiguous, disjoint ranges covering `0..<count`: one range when `count`
    /// is below `2 × grain`, the job has one thread or this runs inside a part, else up to one
    /// per thread (`parts` if given), each at least `grain` items. `body` must only write what
    /// its range owns.
    public static func forEach(_ count: Int, grain: Int, parts requested: Int? = nil, _ body: (Range<Int>) -> Void) {
        let parts = insidePart ? 1 : min(requested ?? BLAS.threadCount, count / max(1, grain))
        guard parts > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        // The helper threads run the job, unless another thread's job holds them: then
        // Dispatch's threads do.
        guard !forEachOnHelpers(count, parts: parts, body) else { return }
        withoutActuallyEscaping(body) { body in
            let job = PoolJob(body: body, count: count, parts: parts)
            DispatchQueue.concurrentPerform(iterations: parts) { part in job.run(part) }
        }
    }

    /// `body` on the `parts` ranges of `forEach`, on the calling thread and the helper threads
    /// (`gauntlet_pool_run`, `helperThreads` of them), each inside a part. Returns false, running
    /// nothing, when another thread's job holds the helpers.
    static func forEachOnHelpers(_ count: Int, parts: Int, _ body: (Range<Int>) -> Void) -> Bool {
        withoutActuallyEscaping(body) { body in
            var job = PoolJob(body: body, count: count, parts: parts)
            return withUnsafeMutablePointer(to: &job) { pointer in
                gauntlet_pool_run(
                    parts, helperThreads + 1,
                    { context, part in
                        context!.assumingMemoryBound(to: PoolJob.self).pointee.run(part)
                    }, pointer, helperSpinMicroseconds) == 1
            }
        }
    }

    /// How long a helper thread spins waiting for the next job before it sleeps. A training
    /// step or an attack step starts a job every few hundred microseconds, and on virtual
    /// machines waking a sleeping thread costs tens of microseconds where a spinning one starts
    /// at once (the measurements are in benchmarks/README.md).
    static let helperSpinMicroseconds = 300

    /// The helper threads beside the caller: one per thread of the job but the caller's, and no
    /// more than the other cores, so that spinning helpers never take turns on a core with the
    /// thread that has work (a job with more threads than cores has more parts than threads
    /// running them; each thread takes the next part left).
    static var helperThreads: Int { max(0, min(BLAS.threadCount, cores) - 1) }

    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// A job of `forEach`: part `p` of `parts` runs `body` on its range, inside a part. Carries
    /// the non-escaping body to the helper threads (`gauntlet_pool_run`) or into
    /// `concurrentPerform`, both of which wait for every part.
    struct PoolJob: @unchecked Sendable {
        let body: (Range<Int>) -> Void
        let count: Int
        let parts: Int

        func run(_ part: Int) {
            Parallel.$insidePart.withValue(true) {
                body(count * part / parts..<count * (part + 1) / parts)
            }
        }
    }

    /// `transform(i)` for every `i` in `0..<count`, in index order; the indices are split as
    /// `forEach` splits them with a grain of 1 (up to `parts` parts), each part on its own thread.
    public static func map<T>(_ count: Int, parts: Int? = nil, _ transform: (Int) -> T) -> [T] {
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { slots in
            // Each part writes the slots of its own indices.
            forEach(count, grain: 1, parts: parts) { indices in
                for i in indices { slots[i] = transform(i) }
            }
        }
        return results.map { $0! }
    }
}
