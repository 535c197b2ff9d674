import CMicroKernels
import Foundation

/// Gauntlet's own AVX-512 matrix products for small shapes (`Sources/CMicroKernels`), the door
/// to them as `BLAS.swift` is to OpenBLAS.
///
/// At the shapes of the layers (tens to hundreds of rows and columns per thread), OpenBLAS
/// spends a large share of each call packing both operands into its own layouts; these
/// kernels read both in place and keep a tile of C in registers, and are measured faster there
/// (`gauntlet-bench --kernels`); at large shapes OpenBLAS's cache blocking wins. Every element's
/// sum is taken in increasing order of the inner index, so a product's result does not depend on
/// how it is split into blocks or threads.
enum MicroKernels {
    /// Whether products (and dropout masks) go through these kernels: the CPU runs AVX-512F and
    /// AVX-512DQ and `GAUNTLET_MICROKERNELS` is not `0`.
    static let isEnabled: Bool =
        gauntlet_avx512_supported() != 0 && ProcessInfo.processInfo.environment["GAUNTLET_MICROKERNELS"] != "0"

    /// Products of at most this many multiply-adds (per thread) take these kernels, larger ones
    /// OpenBLAS.
    static let largestProduct = 1 << 27

    /// `C (+)= op(A)·B`, as `BLAS.sgemm` with `alpha` 1, B not transposed and `accumulate` for
    /// `beta` 1. Only when `isEnabled`.
    static func sgemm(transposeA: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(isEnabled, "MicroKernels.sgemm: AVX-512 kernels not enabled")
        gauntlet_sgemm(m, n, k, a, transposeA ? 1 : lda, transposeA ? lda : 1, b, ldb, c, ldc, accumulate ? 1 : 0)
    }

    /// `C (+)= A·Bᵀ` for a row-major `m×k` A and `n×k` B, as `BLAS.sgemm` with A as stored, B
    /// transposed, `alpha` 1 and `accumulate` for `beta` 1; with `rowStart` (n values, a layer's
    /// bias) every row of C starts from it instead of from C or zero. Computed as `Cᵀ (+)= B·Aᵀ`
    /// (B's rows read in place, copies of Aᵀ and Cᵀ), the same bits as `sgemm` on B transposed
    /// (onto C filled with `rowStart`'s rows). Returns false, computing nothing, when the copies'
    /// memory cannot be had. Only when `isEnabled`.
    static func sgemmTransposedB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                 accumulate: Bool, rowStart: UnsafePointer<Float>? = nil, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        precondition(isEnabled, "MicroKernels.sgemmTransposedB: AVX-512 kernels not enabled")
        return gauntlet_sgemm_transposed_b(m, n, k, a, lda, b, ldb, c, ldc, accumulate ? 1 : 0, rowStart) == 1
    }

    /// Whether `sgemmTransposedB` should take `C = A·Bᵀ` (A `m×k`, B `n×k`) rather than OpenBLAS,
    /// which packs B for its kernel: when B is the larger operand (a layer's weight against a
    /// part's few rows of inputs), copying Aᵀ and Cᵀ (twice when adding onto C) moves less than
    /// packing B. Measured on the 2-core AVX-512 machine of benchmarks/README.md: the kernel
    /// benchmark's `dY·colsᵀ` (64×288×784) 70–72 % → 87–97 % of the sgemm peak, the quickstart
    /// MLP's and CNN's training steps about 2 % faster.
    static func prefersTransposedB(m: Int, n: Int, k: Int) -> Bool {
        n * k > m * k + 2 * m * n
    }

    /// Whether `BLAS.sgemm` computes `C (+)= A·Bᵀ` (A `m×k` as stored, B `n×k`) through
    /// `sgemmTransposedB` in one call on the calling thread.
    static func takesTransposedBInOneCall(m: Int, n: Int, k: Int) -> Bool {
        isEnabled && BLAS.isOneCall(m: m, n: n, k: k) && m * n * k <= largestProduct && prefersTransposedB(m: m, n: n, k: k)
    }

    /// The elements `range` of the dropout mask with `key` (`RandomSource.dropoutMaskElement`,
    /// bit for bit), written to `out`. Only when `isEnabled`.
    static func dropoutMask(key: UInt64, elements range: Range<Int>, p: Float, keep: Float, into out: UnsafeMutablePointer<Float>) {
        precondition(isEnabled, "MicroKernels.dropoutMask: AVX-512 kernels not enabled")
        gauntlet_dropout_mask(key, range.lowerBound, range.count, p, keep, out)
    }

    /// The dropout mask as `dropoutMask` makes it into `mask` and `input · mask` into `output`, in
    /// one pass. Only when `isEnabled`.
    static func dropout(key: UInt64, elements range: Range<Int>, p: Float, keep: Float, input: UnsafePointer<Float>,
                        output: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>) {
        precondition(isEnabled, "MicroKernels.dropout: AVX-512 kernels not enabled")
        gauntlet_dropout(key, range.lowerBound, range.count, p, keep, input, output, mask)
    }

    /// One Adam update of `count` elements (`Kernels.adamUpdate`, bit for bit). Only when `isEnabled`.
    static func adamUpdate(count: Int, theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                           m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                           beta1: Float, beta2: Float, eps: Float, decay: Float, stepSize: Float, rootCorrection2: Float) {
        precondition(isEnabled, "MicroKernels.adamUpdate: AVX-512 kernels not enabled")
        gauntlet_adam_update(count, theta, gradient, m, v, beta1, beta2, eps, decay, stepSize, rootCorrection2)
    }

    /// `Kernels.conv2dMaxPool2x2ParameterGradients` for the output channels `channels` (at most
    /// 16), one per vector lane, writing their rows of `dw` and `db`. Only when `isEnabled`.
    static func pooledConv3x3Gradients(
        _ g: Conv2dGeometry, channels: Range<Int>, padded: UnsafePointer<Float>, gradient: UnsafePointer<Float>,
        argMax: UnsafePointer<Int32>, pooled: UnsafePointer<Float>?, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>
    ) {
        precondition(isEnabled, "MicroKernels.pooledConv3x3Gradients: AVX-512 kernels not enabled")
        precondition(channels.count >= 1 && channels.count <= 16 && g.kernelHeight == 3 && g.kernelWidth == 3)
        let paddedWidth = g.width + 2 * g.padding, paddedPlane = (g.height + 2 * g.padding) * paddedWidth
        gauntlet_pooled_conv3x3_gradients(g.batch, g.outChannels, channels.lowerBound, Int32(channels.count), g.inChannels,
                                          padded, paddedPlane, paddedWidth, g.stride, g.outHeight / 2, g.outWidth / 2,
                                          gradient, argMax, pooled, dw, db)
    }

    /// 2×2 max pooling of one product plane, as `Kernels.poolRow` row after row (the same bits).
    /// Only when `isEnabled`.
    static func maxPool2x2(plane: UnsafePointer<Float>, height: Int, width: Int, shift: Float, relu: Bool,
                           values: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Int32>?, topIndex: Int) {
        precondition(isEnabled, "MicroKernels.maxPool2x2: AVX-512 kernels not enabled")
        gauntlet_max_pool_2x2(plane, height, width, shift, relu ? 1 : 0, values, positions, Int32(truncatingIfNeeded: topIndex))
    }

    /// `destination[j·ldd + i] = source[i·lds + j]` for a `rows×columns` block. Only when `isEnabled`.
    static func transpose(rows: Int, columns: Int, _ source: UnsafePointer<Float>, lds: Int,
                          into destination: UnsafeMutablePointer<Float>, ldd: Int) {
        precondition(isEnabled, "MicroKernels.transpose: AVX-512 kernels not enabled")
        gauntlet_transpose(rows, columns, source, lds, destination, ldd)
    }
}
