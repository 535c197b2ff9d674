import CBLAS

/// The one door to OpenBLAS: matrix products and the library's configuration.
///
/// Every matrix product and convolution in Gauntlet goes through `sgemm`: small products (B not
/// transposed, or transposed where B is the larger operand) through Gauntlet's own AVX-512 kernels
/// where the CPU has them (`MicroKernels`), the others through OpenBLAS. The kernels OpenBLAS uses
/// (its "core type") are fixed when the library loads, from the CPU or from the `OPENBLAS_CORETYPE`
/// environment variable; results differ in their last bits between core types, those kernels and
/// thread counts, so all are recorded with every run (`kernelName`).
///
/// OpenBLAS itself always runs on one thread: a product is split into one block of rows or
/// columns per thread of the job (`threadCount`), each an OpenBLAS call on a thread of the
/// `Parallel` pool. OpenBLAS's own workers would otherwise spin (yielding) for up to 2²⁸ cycles
/// after every product, taking turns on the cores with the threads of the loops around the
/// products; and a convolution's pipelines (`Kernels.forEachChunkPipeline`) need one-threaded
/// products anyway.
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
        let alongColumns = n >= m, side = alongColumns ? n : m
        let parts = isOneCall(m: m, n: n, k: k) ? 1 : min(Parallel.threadsAvailable, (side + 15) / 16)
        guard parts > 1 else {
            sgemmOnThisThread(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                              a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        // Block p covers [bound(p), bound(p + 1)) of C's columns (or rows).
        func bound(_ p: Int) -> Int { min(side, (side * p / parts + 15) / 16 * 16) }
        Parallel.forEach(parts, grain: 1, parts: parts) { blocks in
            for p in blocks {
                let start = bound(p), count = bound(p + 1) - start
                if count <= 0 { continue }
                if alongColumns {
                    sgemmOnThisThread(transposeA: transposeA, transposeB: transposeB, m: m, n: count, k: k, alpha: alpha,
                                      a: a, lda: lda, b: transposeB ? b + start * ldb : b + start, ldb: ldb,
                                      beta: beta, c: c + start, ldc: ldc)
                } else {
                    sgemmOnThisThread(transposeA: transposeA, transposeB: transposeB, m: count, n: n, k: k, alpha: alpha,
                                      a: transposeA ? a + start : a + start * lda, lda: lda, b: b, ldb: ldb,
                                      beta: beta, c: c + start * ldc, ldc: ldc)
                }
            }
        }
    }

    /// Whether `sgemm` computes an `m×n×k` product in one call on the calling thread: below 2²⁰
    /// multiply-adds, where the job has one thread (inside a `Parallel` part), or where C has
    /// at most 16 rows and columns.
    static func isOneCall(m: Int, n: Int, k: Int) -> Bool {
        m * n * k < 1 << 20 || Parallel.threadsAvailable == 1 || max(m, n) <= 16
    }

    /// One product on the calling thread: Gauntlet's AVX-512 kernels for small products with
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
        if alpha == 1, beta == 0 || beta == 1, MicroKernels.isEnabled, m * n * k <= MicroKernels.largestProduct {
            if !transposeB {
                MicroKernels.sgemm(transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                   accumulate: beta == 1, c: c, ldc: ldc)
                return
            }
            if !transposeA, MicroKernels.prefersTransposedB(m: m, n: n, k: k),
               MicroKernels.sgemmTransposedB(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: beta == 1, c: c, ldc: ldc) {
                return
            }
        }
        _ = oneThreadedLibrary
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// What computes the products: OpenBLAS's kernel family, and whether Gauntlet's own
    /// AVX-512 kernels take the small ones (results differ in their last bits between them).
    public static var kernelName: String {
        coreName + (MicroKernels.isEnabled ? " + Gauntlet AVX-512 small-product kernels" : "")
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
