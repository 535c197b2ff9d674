import CBLAS

/// The one door to OpenBLAS: matrix products and the library's configuration.
///
/// Every matrix product and convolution in Gauntlet goes through `sgemm`. The kernels OpenBLAS
/// uses (its "core type") are fixed when the library loads, from the CPU or from the
/// `OPENBLAS_CORETYPE` environment variable; results differ in their last bits between core
/// types and thread counts, so both are recorded with every run.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C` on row-major matrices, where `op(A)` is `m×k`,
    /// `op(B)` is `k×n` and `C` is `m×n`; `lda`, `ldb`, `ldc` are the row strides as stored.
    @inlinable
    public static func sgemm(
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
        openblas_set_num_threads(Int32(max(1, count)))
    }
}
