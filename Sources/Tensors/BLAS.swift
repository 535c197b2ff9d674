import CBLAS

/// The one door to OpenBLAS: matrix products and the library's configuration.
///
/// Every matrix product and convolution in Gauntlet goes through `sgemm`: small products (B not
/// transposed, or transposed where B is the larger operand) through Gauntlet's own kernels where
/// the CPU runs a family of them (`MicroKernels`: AVX-512 or AVX2), the others through OpenBLAS.
/// The kernels OpenBLAS uses (its "core type") are fixed when the library loads, from the CPU or
/// from the `OPENBLAS_CORETYPE` environment variable; results differ in their last bits between
/// core types, those kernels and thread counts, so all are recorded with every run
/// (`kernelName`).
///
/// OpenBLAS itself always runs on one thread: a product is split into one block of rows or
/// columns per thread of the job (`threadCount`), each an OpenBLAS call on a thread of the
/// `Parallel` pool. OpenBLAS's own workers would otherwise spin (yielding) for up to 2²⁸ cycles
/// after every product, taking turns on the cores with the threads of the loops around the
/// products; and a convolution's pipelines (`Kernels.forEachChunkPipeline`) need one-threaded
/// products anyway.
///
/// What a split promises: every element of C is computed by exactly one call, the call of its
/// block (`blocks`). Gauntlet's kernels give each element the same bits whatever call computes
/// it (its ordered fused sum), so there a product's result does not depend on the split, the
/// thread count or the kernel family. OpenBLAS makes no such promise: its kernels may round an
/// element differently in a call of another shape (its AVX2 "Haswell" and "Zen" kernels treat a
/// call's last columns apart), so on its route a product split for another thread count may
/// differ in its last bits; for a given shape and thread count it is the same, call after call.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C` on row-major matrices, where `op(A)` is `m×k`,
    /// `op(B)` is `k×n` and `C` is `m×n`; `lda`, `ldb`, `ldc` are the row strides as stored.
    /// Products of at least 2²⁰ multiply-adds are split along C's longer side (at multiples
    /// of 16) into one block per thread of the job; inside a `Parallel` part, one call.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        let (alongColumns, bounds) = blocks(m: m, n: n, k: k)
        guard bounds.count > 2 else {
            sgemmOnThisThread(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let parts = bounds.count - 1
        Parallel.forEach(parts, grain: 1, parts: parts) { blocks in
            for p in blocks {
                let start = bounds[p], count = bounds[p + 1] - start
                if alongColumns {
                    sgemmOnThisThread(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: count, k: k, alpha: alpha,
                        a: a, lda: lda, b: transposeB ? b + start * ldb : b + start, ldb: ldb,
                        beta: beta, c: c + start, ldc: ldc)
                } else {
                    sgemmOnThisThread(
                        transposeA: transposeA, transposeB: transposeB, m: count, n: n, k: k, alpha: alpha,
                        a: transposeA ? a + start : a + start * lda, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c + start * ldc, ldc: ldc)
                }
            }
        }
    }

    /// How `sgemm` splits an `m×n×k` product: along C's columns (`alongColumns`, where C has at
    /// least as many columns as rows) or rows, block p covering `bounds[p] ..< bounds[p + 1]` of
    /// them; one block when `isOneCall`, else one per thread (`threads`, by default those
    /// available here; fewer where a block would be under 16 wide), each starting at a multiple
    /// of 16.
    static func blocks(m: Int, n: Int, k: Int, threads: Int = Parallel.threadsAvailable) -> (alongColumns: Bool, bounds: [Int]) {
        let alongColumns = n >= m, side = alongColumns ? n : m
        let parts = isOneCall(m: m, n: n, k: k, threads: threads) ? 1 : min(threads, (side + 15) / 16)
        var bounds = [0]
        for p in 1...parts {
            let bound = min(side, (side * p / parts + 15) / 16 * 16)
            if bound > bounds.last! { bounds.append(bound) }
        }
        return (alongColumns, bounds)
    }

    /// Whether `sgemm` computes an `m×n×k` product in one call on the calling thread: below 2²⁰
    /// multiply-adds, where the job has one thread (inside a `Parallel` part), or where C has
    /// at most 16 rows and columns.
    static func isOneCall(m: Int, n: Int, k: Int, threads: Int = Parallel.threadsAvailable) -> Bool {
        m * n * k < 1 << 20 || threads == 1 || max(m, n) <= 16
    }

    /// One product on the calling thread: Gauntlet's kernels for small products with
    /// `alpha` 1 and `beta` 0 or 1 (`MicroKernels`) where B is as stored, or transposed against A
    /// as stored when that route moves less memory than OpenBLAS's packing of B; else one
    /// OpenBLAS call.
    static func sgemmOnThisThread(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if alpha == 1, beta == 0 || beta == 1, let kernels = MicroKernels.active, m * n * k <= MicroKernels.largestProduct {
            if !transposeB {
                kernels.sgemm(
                    transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                    accumulate: beta == 1, c: c, ldc: ldc)
                return
            }
            if !transposeA, MicroKernels.prefersTransposedB(m: m, n: n, k: k),
                kernels.sgemmTransposedB(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: beta == 1, c: c, ldc: ldc)
            {
                return
            }
        }
        _ = oneThreadedLibrary
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// What computes the products: OpenBLAS's kernel family, and which family of Gauntlet's own
    /// kernels takes the small ones (`MicroKernels`; results differ in their last bits between
    /// OpenBLAS's families and Gauntlet's kernels, never between Gauntlet's families).
    public static var kernelName: String {
        coreName + (MicroKernels.active.map { " + Gauntlet \($0.name) small-product kernels" } ?? "")
    }

    /// The kernel family OpenBLAS selected, for example `Haswell` or `SkylakeX`.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build configuration string (version, threading, dynamic-arch).
    public static var configuration: String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config)
    }

    /// The number of threads of the job: products and `Parallel` loops are split over that many.
    /// Until `setThreadCount`, OpenBLAS's own default (`OPENBLAS_NUM_THREADS`, else the cores).
    public static var threadCount: Int { jobThreads }

    /// Sets the number of threads of the job (at least 1).
    public static func setThreadCount(_ count: Int) {
        _ = oneThreadedLibrary
        jobThreads = max(1, count)
    }

    /// The job's thread count as set; read without a lock: it is set before the work starts.
    nonisolated(unsafe) private static var jobThreads: Int = oneThreadedLibrary

    /// OpenBLAS's default thread count, read once, after which OpenBLAS is set to one thread.
    private static let oneThreadedLibrary: Int = {
        let threads = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        return max(1, threads)
    }()
}
