import CBLAS
import Glibc

/// The one door to OpenBLAS: matrix products and the library's configuration.
///
/// Every matrix product and convolution in Gauntlet goes through `sgemm`. The kernels OpenBLAS
/// uses (its "core type") are fixed when the library loads, from the CPU or from the
/// `OPENBLAS_CORETYPE` environment variable; results differ in their last bits between core
/// types and thread counts, so both are recorded with every run.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C` on row-major matrices, where `op(A)` is `m×k`,
    /// `op(B)` is `k×n` and `C` is `m×n`; `lda`, `ldb`, `ldc` are the row strides as stored.
    /// Runs with the job's thread count: it waits while `withOneThreadPerCall` runs elsewhere in
    /// the process (trials run in one process in parallel).
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        pthread_rwlock_rdlock(threadCountLock)
        defer { pthread_rwlock_unlock(threadCountLock) }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `sgemm` from inside `withOneThreadPerCall`'s body: on the calling thread alone.
    public static func sgemmOnThisThread(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
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

    /// The number of threads OpenBLAS uses for one call.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses for one call (at least 1).
    public static func setThreadCount(_ count: Int) {
        pthread_rwlock_wrlock(threadCountLock)
        defer { pthread_rwlock_unlock(threadCountLock) }
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// Runs `body(threads)` with OpenBLAS set to one thread per call, `threads` being the job's
    /// count: `body` spreads independent products over that many threads of its own, each
    /// calling `sgemmOnThisThread`. Products elsewhere in the process wait meanwhile (with one
    /// trial per process, there are none), so they always run with the job's thread count and
    /// their results do not depend on what runs beside them.
    public static func withOneThreadPerCall<Result>(_ body: (_ threads: Int) -> Result) -> Result {
        pthread_rwlock_wrlock(threadCountLock)
        defer { pthread_rwlock_unlock(threadCountLock) }
        let threads = Int(openblas_get_num_threads())
        guard threads > 1 else { return body(threads) }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(threads)) }
        return body(threads)
    }

    /// Held shared by every `sgemm`, exclusively while the thread count changes.
    nonisolated(unsafe) static let threadCountLock: UnsafeMutablePointer<pthread_rwlock_t> = {
        let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        // A waiting writer goes first, so that a stream of products cannot hold it off.
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        return lock
    }()
}
