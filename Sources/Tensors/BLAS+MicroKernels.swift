import CMicroKernels
import Foundation

/// Gauntlet's own kernels for one vector instruction set (`Sources/CMicroKernels`): matrix
/// products for small shapes, and the element-wise passes around them (dropout masks, Adam,
/// 2×2 max pooling, transposes). The door to them as `BLAS.swift` is to OpenBLAS.
///
/// At the shapes of the layers (tens to hundreds of rows and columns per thread), OpenBLAS
/// spends a large share of each call packing both operands into its own layouts; these
/// kernels read both in place and keep a tile of C in registers, and are measured faster there
/// (`gauntlet-bench --kernels`); at large shapes OpenBLAS's cache blocking wins. Every element's
/// sum is taken in increasing order of the inner index, so a product's result does not depend on
/// how it is split into blocks or threads, nor on the family: every family gives the same bits,
/// and so do the element-wise kernels and the Swift loops they stand for.
///
/// One family runs in a process (`active`): the fastest this CPU has, unless the environment
/// names another (`GAUNTLET_KERNELS`), or none at all (OpenBLAS and Swift loops alone, the
/// portable path of CPUs without AVX2, such as aarch64).
struct MicroKernels: @unchecked Sendable {  // an immutable table of C function pointers
    /// Gauntlet's kernel families, fastest first.
    enum Family: String, CaseIterable, Sendable {
        /// AVX-512F and AVX-512DQ, 16 floats per vector.
        case avx512
        /// AVX2 and FMA, 8 floats per vector.
        case avx2

        fileprivate var cFamily: gauntlet_kernel_family {
            switch self {
            case .avx512: GAUNTLET_FAMILY_AVX512
            case .avx2: GAUNTLET_FAMILY_AVX2
            }
        }
    }

    let family: Family
    private let table: gauntlet_kernels

    /// The family's kernels, or nil when this build or CPU cannot run them.
    init?(_ family: Family) {
        guard let table = gauntlet_kernels_of(family.cFamily) else { return nil }
        self.family = family
        self.table = table.pointee
    }

    /// The family's name as recorded with results: `AVX-512` or `AVX2`.
    var name: String { String(cString: table.name) }

    /// Floats per vector: the most output channels `pooledConv3x3Gradients` takes at once.
    var lanes: Int { Int(table.lanes) }

    /// Every family this CPU runs, fastest first.
    static let available: [MicroKernels] = Family.allCases.compactMap(MicroKernels.init)

    /// The environment variable that names the family to use: `avx512`, `avx2`, or `portable`
    /// (none: OpenBLAS and Swift loops alone). Unset or empty, the fastest available.
    static let environmentVariable = "GAUNTLET_KERNELS"

    /// The kernels in use, or nil on the portable path: the family `GAUNTLET_KERNELS` names, else
    /// the fastest this CPU runs; none where `GAUNTLET_MICROKERNELS` is `0` (kept for scripts
    /// that set it). A family this CPU cannot run, or an unknown name, stops the process with a
    /// message (`selectionProblem`); the commands check that first.
    static let active: MicroKernels? = {
        switch selection(ProcessInfo.processInfo.environment) {
        case .success(let kernels): return kernels
        case .failure(let problem): fatalError(problem.message)
        }
    }()

    /// Whether the products and element-wise passes go through a family's kernels.
    static var isEnabled: Bool { active != nil }

    /// Why the environment's request cannot be met, or nil when it can.
    static func selectionProblem(_ environment: [String: String]) -> String? {
        if case .failure(let problem) = selection(environment) { return problem.message }
        return nil
    }

    struct SelectionProblem: Error {
        let message: String
    }

    /// The kernels the environment asks for (nil: the portable path).
    static func selection(_ environment: [String: String]) -> Result<MicroKernels?, SelectionProblem> {
        if environment["GAUNTLET_MICROKERNELS"] == "0" { return .success(nil) }
        let requested = environment[environmentVariable] ?? ""
        if requested.isEmpty { return .success(available.first) }
        if requested == "portable" { return .success(nil) }
        let runs = (available.map(\.family.rawValue) + ["portable"]).joined(separator: ", ")
        guard let family = Family(rawValue: requested) else {
            return .failure(SelectionProblem(message: "\(environmentVariable)=\(requested): unknown kernel family; this CPU runs: \(runs)"))
        }
        guard let kernels = available.first(where: { $0.family == family }) else {
            let message = "\(environmentVariable)=\(requested): this CPU (or build) cannot run the \(family.rawValue) kernels"
            return .failure(SelectionProblem(message: message + "; it runs: \(runs)"))
        }
        return .success(kernels)
    }

    /// Products of at most this many multiply-adds (per thread) take these kernels, larger ones
    /// OpenBLAS.
    static let largestProduct = 1 << 27

    /// `C (+)= op(A)·B`, as `BLAS.sgemm` with `alpha` 1, B not transposed and `accumulate` for
    /// `beta` 1.
    func sgemm(
        transposeA: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        table.sgemm(m, n, k, a, transposeA ? 1 : lda, transposeA ? lda : 1, b, ldb, c, ldc, accumulate ? 1 : 0)
    }

    /// `C (+)= A·Bᵀ` for a row-major `m×k` A and `n×k` B, as `BLAS.sgemm` with A as stored, B
    /// transposed, `alpha` 1 and `accumulate` for `beta` 1; with `rowStart` (n values, a layer's
    /// bias) every row of C starts from it instead of from C or zero. Computed as `Cᵀ (+)= B·Aᵀ`
    /// (B's rows read in place, copies of Aᵀ and Cᵀ), the same bits as `sgemm` on B transposed
    /// (onto C filled with `rowStart`'s rows). Returns false, computing nothing, when the copies'
    /// memory cannot be had.
    func sgemmTransposedB(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        accumulate: Bool, rowStart: UnsafePointer<Float>? = nil, c: UnsafeMutablePointer<Float>, ldc: Int
    ) -> Bool {
        table.sgemm_transposed_b(m, n, k, a, lda, b, ldb, c, ldc, accumulate ? 1 : 0, rowStart) == 1
    }

    /// Whether `sgemmTransposedB` should take `C = A·Bᵀ` (A `m×k`, B `n×k`) rather than OpenBLAS,
    /// which packs B for its kernel: when B is the larger operand (a layer's weight against a
    /// part's few rows of inputs), copying Aᵀ and Cᵀ (twice when adding onto C) moves less than
    /// packing B (the measurements are in benchmarks/README.md).
    static func prefersTransposedB(m: Int, n: Int, k: Int) -> Bool {
        n * k > m * k + 2 * m * n
    }

    /// Whether `BLAS.sgemm` computes `C (+)= A·Bᵀ` (A `m×k` as stored, B `n×k`) through
    /// `sgemmTransposedB` in one call on the calling thread.
    static func takesTransposedBInOneCall(m: Int, n: Int, k: Int) -> Bool {
        isEnabled && BLAS.isOneCall(m: m, n: n, k: k) && m * n * k <= largestProduct && prefersTransposedB(m: m, n: n, k: k)
    }

    /// The elements `range` of the dropout mask with `key` (`RandomSource.dropoutMaskElement`,
    /// bit for bit), written to `out`.
    func dropoutMask(key: UInt64, elements range: Range<Int>, p: Float, keep: Float, into out: UnsafeMutablePointer<Float>) {
        table.dropout_mask(key, range.lowerBound, range.count, p, keep, out)
    }

    /// The dropout mask as `dropoutMask` makes it into `mask` and `input · mask` into `output`, in
    /// one pass.
    func dropout(
        key: UInt64, elements range: Range<Int>, p: Float, keep: Float, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>
    ) {
        table.dropout(key, range.lowerBound, range.count, p, keep, input, output, mask)
    }

    /// One Adam update of `count` elements (`Kernels.adamUpdate`, bit for bit).
    func adamUpdate(
        count: Int, theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        beta1: Float, beta2: Float, eps: Float, decay: Float, stepSize: Float, rootCorrection2: Float
    ) {
        table.adam_update(count, theta, gradient, m, v, beta1, beta2, eps, decay, stepSize, rootCorrection2)
    }

    /// `Kernels.conv2dMaxPool2x2ParameterGradients` for the output channels `channels` (at most
    /// `lanes`), one per vector lane, writing their rows of `dw` and `db`.
    func pooledConv3x3Gradients(
        _ g: Conv2dGeometry, channels: Range<Int>, padded: UnsafePointer<Float>, gradient: UnsafePointer<Float>,
        argMax: UnsafePointer<Int32>, pooled: UnsafePointer<Float>?, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>
    ) {
        precondition(channels.count >= 1 && channels.count <= lanes && g.kernelHeight == 3 && g.kernelWidth == 3)
        let paddedWidth = g.width + 2 * g.padding, paddedPlane = (g.height + 2 * g.padding) * paddedWidth
        table.pooled_conv3x3_gradients(
            g.batch, g.outChannels, channels.lowerBound, Int32(channels.count), g.inChannels,
            padded, paddedPlane, paddedWidth, g.stride, g.outHeight / 2, g.outWidth / 2,
            gradient, argMax, pooled, dw, db)
    }

    /// 2×2 max pooling of one product plane, as `Kernels.poolRow` row after row (the same bits).
    func maxPool2x2(
        plane: UnsafePointer<Float>, height: Int, width: Int, shift: Float, relu: Bool,
        values: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Int32>?, topIndex: Int
    ) {
        table.max_pool_2x2(plane, height, width, shift, relu ? 1 : 0, values, positions, Int32(truncatingIfNeeded: topIndex))
    }

    /// `destination[j·ldd + i] = source[i·lds + j]` for a `rows×columns` block.
    func transpose(
        rows: Int, columns: Int, _ source: UnsafePointer<Float>, lds: Int,
        into destination: UnsafeMutablePointer<Float>, ldd: Int
    ) {
        table.transpose(rows, columns, source, lds, destination, ldd)
    }
}
