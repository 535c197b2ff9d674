import Foundation
import Testing
@testable import Tensors

/// On a CPU with AVX-512 (the machines the benchmarks and CI run on) the kernels are on unless
/// `GAUNTLET_MICROKERNELS=0`, so every other test of products and layers goes through them
/// (`make test` runs the suite a second time with them off, for the portable paths).
@Suite struct MicroKernelSelectionTests {
    @Test func enabledWhereverTheCPUHasAVX512() {
        let allowed = ProcessInfo.processInfo.environment["GAUNTLET_MICROKERNELS"] != "0"
        #expect(MicroKernels.isEnabled == (BLAS.cpuSupportsAVX512 && allowed))
        #expect(BLAS.kernelName.hasSuffix("AVX-512 small-product kernels") == MicroKernels.isEnabled)
    }
}

/// Gauntlet's AVX-512 products and transpose against sums written out element by element.
@Suite(.enabled(if: MicroKernels.isEnabled, "AVX-512 kernels off: no AVX-512F/DQ, or GAUNTLET_MICROKERNELS=0")) struct MicroKernelTests {
    /// Every shape around the tile sizes (8 rows; 16, 32 and 48 columns; the wide tile of 6 rows
    /// and 64 columns that takes a last 49 to 64 columns; blocks of 256 terms),
    /// A as stored and transposed, C overwritten and added onto, strides wider than the
    /// matrices, B's rows at every offset in a cache line (with a row stride of whole lines the
    /// column tiles start before column 0): each element equal bit for bit to its fused
    /// multiply-adds taken in order of the inner index (onto C's old value when adding), and
    /// C's spare columns left alone.
    @Test func productsAreTheOrderedFusedSums() {
        var rng = RandomSource(seed: 5)
        var checked = 0
        for m in [1, 2, 3, 7, 8, 9, 13, 21] {
            for n in [1, 15, 16, 17, 33, 48, 50, 64, 97, 100] {
                for k in [0, 1, 5, 256, 300, 513] where m * n * k <= 300_000 || k < 10 {
                    for (transposeA, ldb) in [(false, n + 3), (true, (n + 15) / 16 * 16 + 16)] {
                        let (aRows, aColumns) = transposeA ? (k, m) : (m, k)
                        let lda = aColumns + 2, ldc = n + 1, offset = Int(rng.next() % 16)
                        let a = (0..<max(1, aRows * lda)).map { _ in rng.nextUnitFloat() - 0.5 }
                        let stored = (0..<max(1, k * ldb + offset)).map { _ in rng.nextUnitFloat() - 0.5 }
                        let b = Array(stored[offset...])
                        let c0 = (0..<m * ldc).map { _ in rng.nextUnitFloat() }
                        for accumulate in [false, true] {
                            var c = c0
                            stored.withUnsafeBufferPointer { pb in
                                MicroKernels.sgemm(transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: pb.baseAddress! + offset,
                                                   ldb: ldb, accumulate: accumulate, c: &c, ldc: ldc)
                            }
                            var wrong = 0
                            for i in 0..<m {
                                for j in 0..<n {
                                    var sum: Float = accumulate ? c0[i * ldc + j] : 0
                                    for p in 0..<k {
                                        sum.addProduct(transposeA ? a[p * lda + i] : a[i * lda + p], b[p * ldb + j])
                                    }
                                    if sum.bitPattern != c[i * ldc + j].bitPattern { wrong += 1 }
                                }
                                if c[i * ldc + n..<i * ldc + ldc] != c0[i * ldc + n..<i * ldc + ldc] { wrong += 1 }
                            }
                            #expect(wrong == 0, "\(m)×\(n)×\(k) transposeA \(transposeA) ldb \(ldb) offset \(offset) accumulate \(accumulate)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > 600)
    }

    /// `BLAS.sgemm` sends small products with B as stored, alpha 1 and beta 0 or 1 here: the
    /// same bits as the kernel called directly, however the product is split over threads.
    @Test func smallProductsGoThroughTheKernel() {
        var rng = RandomSource(seed: 8)
        let m = 64, n = 784, k = 288
        let a = (0..<m * k).map { _ in rng.nextUnitFloat() - 0.5 }, b = (0..<k * n).map { _ in rng.nextUnitFloat() - 0.5 }
        for beta: Float in [0, 1] {
            let c0 = (0..<m * n).map { _ in rng.nextUnitFloat() }
            var viaBLAS = c0, direct = c0
            BLAS.sgemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: beta, c: &viaBLAS, ldc: n)
            MicroKernels.sgemm(transposeA: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, accumulate: beta == 1, c: &direct, ldc: n)
            #expect(viaBLAS.map(\.bitPattern) == direct.map(\.bitPattern))
        }
    }

    /// `C (+)= A·Bᵀ` through copies of Aᵀ and Cᵀ: each element bit for bit its fused
    /// multiply-adds in order of the inner index, onto zero, C's old value or the row start
    /// given, with strides wider than the matrices and C's spare columns left alone.
    @Test func transposedBProductsAreTheOrderedFusedSums() {
        var rng = RandomSource(seed: 12)
        for (m, n, k) in [(1, 20, 7), (7, 40, 33), (13, 97, 300), (64, 100, 260), (3, 5, 0)] {
            let lda = k + 2, ldb = k + 5, ldc = n + 1
            let a = (0..<max(1, m * lda)).map { _ in rng.nextUnitFloat() - 0.5 }
            let b = (0..<max(1, n * ldb)).map { _ in rng.nextUnitFloat() - 0.5 }
            let c0 = (0..<m * ldc).map { _ in rng.nextUnitFloat() }
            let rowStart = (0..<n).map { _ in rng.nextUnitFloat() - 0.5 }
            for (accumulate, startsFromRow) in [(false, false), (true, false), (false, true)] {
                var c = c0
                let done = rowStart.withUnsafeBufferPointer { start in
                    MicroKernels.sgemmTransposedB(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate,
                                                  rowStart: startsFromRow ? start.baseAddress : nil, c: &c, ldc: ldc)
                }
                #expect(done)
                var wrong = 0
                for i in 0..<m {
                    for j in 0..<n {
                        var sum: Float = startsFromRow ? rowStart[j] : accumulate ? c0[i * ldc + j] : 0
                        for p in 0..<k { sum.addProduct(a[i * lda + p], b[j * ldb + p]) }
                        if sum.bitPattern != c[i * ldc + j].bitPattern { wrong += 1 }
                    }
                    if c[i * ldc + n..<i * ldc + ldc] != c0[i * ldc + n..<i * ldc + ldc] { wrong += 1 }
                }
                #expect(wrong == 0, "\(m)×\(n)×\(k) accumulate \(accumulate) row start \(startsFromRow)")
            }
        }
    }

    /// A linear layer's forward on a part's rows (one thread) with its weight as stored starts
    /// the product from the bias: the same bits as writing the bias rows and adding the product
    /// of the weight transposed onto them.
    @Test func linearOnAPartStartsItsProductFromTheBias() {
        var rng = RandomSource(seed: 14)
        let x = Tensor.uniform(shape: [64, 300], low: -1, high: 1, using: &rng)
        let w = Tensor.uniform(shape: [200, 300], low: -1, high: 1, using: &rng), b = Tensor.uniform(shape: [200], low: -1, high: 1, using: &rng)
        #expect(Parallel.$insidePart.withValue(true) { MicroKernels.takesTransposedBInOneCall(m: 64, n: 200, k: 300) })
        let y = Parallel.$insidePart.withValue(true) { Kernels.linear(x, weight: w, bias: b) }
        var expected = [Float](repeating: 0, count: 64 * 200)
        for row in 0..<64 { for o in 0..<200 { expected[row * 200 + o] = b.scalars[o] } }
        let wt = Kernels.transposed(w)
        MicroKernels.sgemm(transposeA: false, m: 64, n: 200, k: 300, a: x.scalars, lda: 300, b: wt.scalars, ldb: 200,
                           accumulate: true, c: &expected, ldc: 200)
        #expect(y.shape == [64, 200])
        #expect(zip(y.scalars, expected).filter { $0.bitPattern != $1.bitPattern }.count == 0)
    }

    /// `BLAS.sgemm` sends `A·Bᵀ` where B is the larger operand (a layer's forward product on a
    /// part's rows) through `sgemmTransposedB`: the same bits as the kernel on B transposed,
    /// however the product is split over threads; where A is the larger, OpenBLAS.
    @Test func layerProductsWithBTransposedGoThroughTheKernel() {
        #expect(MicroKernels.prefersTransposedB(m: 64, n: 256, k: 784))
        #expect(MicroKernels.prefersTransposedB(m: 64, n: 256, k: 256))
        #expect(!MicroKernels.prefersTransposedB(m: 64, n: 10, k: 256))
        var rng = RandomSource(seed: 13)
        let m = 64, n = 256, k = 784
        let a = (0..<m * k).map { _ in rng.nextUnitFloat() - 0.5 }, b = (0..<n * k).map { _ in rng.nextUnitFloat() - 0.5 }
        var bTransposed = [Float](repeating: 0, count: k * n)
        for j in 0..<n { for p in 0..<k { bTransposed[p * n + j] = b[j * k + p] } }
        for beta: Float in [0, 1] {
            let c0 = (0..<m * n).map { _ in rng.nextUnitFloat() }
            var viaBLAS = c0, direct = c0
            BLAS.sgemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: beta, c: &viaBLAS, ldc: n)
            MicroKernels.sgemm(transposeA: false, m: m, n: n, k: k, a: a, lda: k, b: bTransposed, ldb: n, accumulate: beta == 1, c: &direct, ldc: n)
            let differing = zip(viaBLAS, direct).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "beta \(beta)")
        }
    }

    /// The vectorised dropout masks are bit for bit their elements' definition, from any first
    /// element and for any length (sixteen at a time, then a shorter tail), NaN `p` included.
    @Test func dropoutMasksAreTheirElementsDefinition() {
        for (key, p) in [(UInt64(1), Float(0.3)), (0xdead_beef_1234_5678, 0.5), (UInt64.max, 0.05), (42, 1), (7, 0), (9, .nan)] {
            for range in [0..<1, 1..<2, 0..<16, 1..<17, 3..<40, 1000..<1333, 5..<5] {
                var mask = [Float](repeating: -1, count: range.count + 1)
                MicroKernels.dropoutMask(key: key, elements: range, p: p, keep: 2.5, into: &mask)
                let expected = range.map { RandomSource.dropoutMaskElement(key: key, index: $0, p: p, keep: 2.5) }
                #expect(Array(mask.prefix(range.count)) == expected && mask.last == -1, "key \(key) p \(p) \(range)")
            }
        }
        // Mask and product in one pass: the same mask, and the product of the input with it.
        var rng = RandomSource(seed: 4)
        let x = Tensor.normal(shape: [37], using: &rng)
        for range in [0..<37, 100..<137, 5..<42] {
            var a = RandomSource(seed: 3), b = RandomSource(seed: 3)
            let (output, mask) = a.dropout(x, count: 200, p: 0.4, keep: 1 / 0.6, elements: range)
            #expect(mask.scalars == b.dropoutMask(count: 200, p: 0.4, keep: 1 / 0.6, elements: range) && a.next() == b.next())
            #expect(output.scalars == zip(x.scalars, mask.scalars).map { $0 * $1 }, "\(range)")
        }
        // Known values: SplitMix64 from 0 gives 0xe220a8397b1dcdaf first, whose bits 40–63 are
        // 14819496 (0.883 of 2²⁴) and bits 16–39 0x397b1d = 3767069 (0.2245 of 2²⁴).
        #expect(RandomSource.dropoutMaskElement(key: 0, index: 0, p: 0.88, keep: 1) == 1)
        #expect(RandomSource.dropoutMaskElement(key: 0, index: 0, p: 0.89, keep: 1) == 0)
        #expect(RandomSource.dropoutMaskElement(key: 0, index: 1, p: 0.224, keep: 1) == 1)
        #expect(RandomSource.dropoutMaskElement(key: 0, index: 1, p: 0.225, keep: 1) == 0)
    }

    @Test func transposeCoversEveryElementAndNothingElse() {
        var rng = RandomSource(seed: 9)
        for rows in [1, 5, 16, 17, 40] {
            for columns in [1, 3, 16, 31, 64] {
                let lds = columns + 2, ldd = rows + 3
                let source = (0..<rows * lds).map { _ in rng.nextUnitFloat() }
                var destination = [Float](repeating: -1, count: columns * ldd)
                MicroKernels.transpose(rows: rows, columns: columns, source, lds: lds, into: &destination, ldd: ldd)
                var wrong = 0
                for j in 0..<columns {
                    for i in 0..<ldd where destination[j * ldd + i] != (i < rows ? source[i * lds + j] : -1) { wrong += 1 }
                }
                #expect(wrong == 0, "\(rows)×\(columns)")
            }
        }
    }
}
