import Foundation
import Testing
@testable import Tensors

/// Which family of Gauntlet's kernels runs: the fastest the CPU has, unless `GAUNTLET_KERNELS`
/// names another (`make test` runs the suite with each family the CPU has, and with none).
@Suite struct MicroKernelSelectionTests {
    @Test func theFastestFamilyUnlessTheEnvironmentNamesAnother() throws {
        let environment = ProcessInfo.processInfo.environment
        let chosen = try MicroKernels.selection(environment).get()
        #expect(MicroKernels.active?.family == chosen?.family)
        if let active = MicroKernels.active {
            #expect(BLAS.kernelName.hasSuffix("Gauntlet \(active.name) small-product kernels"))
        } else {
            #expect(!BLAS.kernelName.contains("Gauntlet"))
        }
        #expect(try MicroKernels.selection([:]).get()?.family == MicroKernels.available.first?.family)
        #expect(try MicroKernels.selection(["GAUNTLET_KERNELS": ""]).get()?.family == MicroKernels.available.first?.family)
        #expect(try MicroKernels.selection(["GAUNTLET_KERNELS": "portable"]).get() == nil)
        #expect(try MicroKernels.selection(["GAUNTLET_MICROKERNELS": "0", "GAUNTLET_KERNELS": "avx2"]).get() == nil)
        for family in MicroKernels.Family.allCases {
            let result = MicroKernels.selection(["GAUNTLET_KERNELS": family.rawValue])
            if MicroKernels.available.contains(where: { $0.family == family }) {
                #expect(try result.get()?.family == family)
            } else {
                #expect(MicroKernels.selectionProblem(["GAUNTLET_KERNELS": family.rawValue])?.contains("cannot run the \(family.rawValue) kernels") == true)
            }
        }
        let unknown = MicroKernels.selectionProblem(["GAUNTLET_KERNELS": "avx3"])
        #expect(unknown == "GAUNTLET_KERNELS=avx3: unknown kernel family; this CPU runs: \(BLAS.kernelFamilies.joined(separator: ", "))")
        #expect(BLAS.kernelFamilies.last == "portable")
    }

    /// The families follow the CPU's features as the kernel reports them in `/proc/cpuinfo`
    /// (which lists only what the operating system lets programs use).
    @Test func familiesFollowTheCPUFeatures() throws {
        #if arch(x86_64)
            let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("flags") })
            let flags = Set(line.split(separator: " ").map(String.init))
            var expected: [MicroKernels.Family] = []
            if flags.isSuperset(of: ["avx512f", "avx512dq"]) { expected.append(.avx512) }
            if flags.isSuperset(of: ["avx2", "fma"]) { expected.append(.avx2) }
            #expect(MicroKernels.available.map(\.family) == expected)
            #expect(MicroKernels.available.map(\.lanes) == expected.map { $0 == .avx512 ? 16 : 8 })
        #else
            #expect(MicroKernels.available.isEmpty)
        #endif
    }
}

/// Every family of Gauntlet's kernels this CPU runs, each against sums and loops written out
/// element by element (and so each family against the others, bit for bit).
@Suite(.enabled(if: !MicroKernels.available.isEmpty, "no family of Gauntlet's kernels runs on this CPU"))
struct MicroKernelTests {
    /// Every shape around each family's tile sizes (AVX-512: 8 rows; 16, 32 and 48 columns; the
    /// wide tile of 6 rows and 64 columns that takes a last 49 to 64 columns; AVX2: 6 rows; 8 and
    /// 16 columns; from 128 rows, tiles of misaligned B copied to aligned memory; blocks of 256
    /// terms),
    /// A as stored and transposed, C overwritten and added onto, strides wider than the
    /// matrices, B's rows at every offset in a cache line (with a row stride of whole lines the
    /// column tiles start before column 0): each element equal bit for bit to its fused
    /// multiply-adds taken in order of the inner index (onto C's old value when adding), and
    /// C's spare columns left alone.
    @Test(arguments: MicroKernels.available.map(\.family)) func productsAreTheOrderedFusedSums(family: MicroKernels.Family) throws {
        let kernels = try #require(MicroKernels(family))
        var rng = RandomSource(seed: 5)
        var checked = 0
        for m in [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 21, 37, 128, 133] {
            for n in [1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 33, 48, 50, 64, 97, 100] {
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
                                kernels.sgemm(
                                    transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: pb.baseAddress! + offset,
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
                            #expect(wrong == 0, "\(family) \(m)×\(n)×\(k) transposeA \(transposeA) ldb \(ldb) offset \(offset) accumulate \(accumulate)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > 1500)
    }

    /// `C (+)= A·Bᵀ` through copies of Aᵀ and Cᵀ: each element bit for bit its fused
    /// multiply-adds in order of the inner index, onto zero, C's old value or the row start
    /// given, with strides wider than the matrices and C's spare columns left alone.
    @Test(arguments: MicroKernels.available.map(\.family)) func transposedBProductsAreTheOrderedFusedSums(family: MicroKernels.Family) throws {
        let kernels = try #require(MicroKernels(family))
        var rng = RandomSource(seed: 12)
        for (m, n, k) in [(1, 20, 7), (7, 40, 33), (13, 97, 300), (64, 100, 260), (3, 5, 0), (9, 23, 17)] {
            let lda = k + 2, ldb = k + 5, ldc = n + 1
            let a = (0..<max(1, m * lda)).map { _ in rng.nextUnitFloat() - 0.5 }
            let b = (0..<max(1, n * ldb)).map { _ in rng.nextUnitFloat() - 0.5 }
            let c0 = (0..<m * ldc).map { _ in rng.nextUnitFloat() }
            let rowStart = (0..<n).map { _ in rng.nextUnitFloat() - 0.5 }
            for (accumulate, startsFromRow) in [(false, false), (true, false), (false, true)] {
                var c = c0
                let done = rowStart.withUnsafeBufferPointer { start in
                    kernels.sgemmTransposedB(
                        m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate,
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
                #expect(wrong == 0, "\(family) \(m)×\(n)×\(k) accumulate \(accumulate) row start \(startsFromRow)")
            }
        }
    }

    /// The vectorised dropout masks are bit for bit their elements' definition, from any first
    /// element and for any length (whole vectors, then a shorter tail), NaN `p` included; the
    /// mask and product in one pass, the same mask and the product of the input with it.
    @Test(arguments: MicroKernels.available.map(\.family)) func dropoutMasksAreTheirElementsDefinition(family: MicroKernels.Family) throws {
        let kernels = try #require(MicroKernels(family))
        var rng = RandomSource(seed: 4)
        for (key, p) in [(UInt64(1), Float(0.3)), (0xdead_beef_1234_5678, 0.5), (UInt64.max, 0.05), (42, 1), (7, 0), (9, .nan)] {
            for range in [0..<1, 1..<2, 0..<8, 1..<9, 0..<16, 1..<17, 3..<40, 1000..<1333, 5..<5] {
                let expected = range.map { RandomSource.dropoutMaskElement(key: key, index: $0, p: p, keep: 2.5) }
                var mask = [Float](repeating: -1, count: range.count + 1)
                kernels.dropoutMask(key: key, elements: range, p: p, keep: 2.5, into: &mask)
                #expect(Array(mask.prefix(range.count)) == expected && mask.last == -1, "\(family) key \(key) p \(p) \(range)")
                let x = (0..<range.count + 1).map { _ in rng.nextUnitFloat() - 0.5 }
                var y = [Float](repeating: -1, count: range.count + 1), both = [Float](repeating: -1, count: range.count + 1)
                kernels.dropout(key: key, elements: range, p: p, keep: 2.5, input: x, output: &y, mask: &both)
                #expect(both == mask, "\(family) key \(key) p \(p) \(range)")
                #expect(Array(y.prefix(range.count)) == zip(x, expected).map { $0 * $1 } && y.last == -1, "\(family) key \(key) p \(p) \(range)")
            }
        }
        // Known values: SplitMix64 from 0 gives 0xe220a8397b1dcdaf first, whose bits 40–63 are
        // 14819496 (0.883 of 2²⁴) and bits 16–39 0x397b1d = 3767069 (0.2245 of 2²⁴).
        #expect(RandomSource.dropoutMaskElement(key: 0, index: 0, p: 0.88, keep: 1) == 1)
        #expect(RandomSource.dropoutMaskElement(key: 0, index: 0, p: 0.89, keep: 1) == 0)
        #expect(RandomSource.dropoutMaskElement(key: 0, index: 1, p: 0.224, keep: 1) == 1)
        #expect(RandomSource.dropoutMaskElement(key: 0, index: 1, p: 0.225, keep: 1) == 0)
    }

    @Test(arguments: MicroKernels.available.map(\.family)) func transposeCoversEveryElementAndNothingElse(family: MicroKernels.Family) throws {
        let kernels = try #require(MicroKernels(family))
        var rng = RandomSource(seed: 9)
        for rows in [1, 5, 8, 9, 16, 17, 40] {
            for columns in [1, 3, 8, 13, 16, 31, 64] {
                let lds = columns + 2, ldd = rows + 3
                let source = (0..<rows * lds).map { _ in rng.nextUnitFloat() }
                var destination = [Float](repeating: -1, count: columns * ldd)
                kernels.transpose(rows: rows, columns: columns, source, lds: lds, into: &destination, ldd: ldd)
                var wrong = 0
                for j in 0..<columns {
                    for i in 0..<ldd where destination[j * ldd + i] != (i < rows ? source[i * lds + j] : -1) { wrong += 1 }
                }
                #expect(wrong == 0, "\(family) \(rows)×\(columns)")
            }
        }
    }

    /// Adam's update: each element bit for bit its rule written out (every operation rounded in
    /// order), for whole vectors and every length of tail, and nothing past `count` touched.
    @Test(arguments: MicroKernels.available.map(\.family)) func adamUpdateIsItsRuleElementByElement(family: MicroKernels.Family) throws {
        let kernels = try #require(MicroKernels(family))
        var rng = RandomSource(seed: 13)
        for count in [0, 1, 7, 8, 9, 15, 16, 17, 100] {
            for decay: Float in [0, 0.01] {
                let theta0 = (0...count).map { _ in rng.nextUnitFloat() - 0.5 }, g = (0...count).map { _ in rng.nextUnitFloat() - 0.5 }
                let m0 = (0...count).map { _ in rng.nextUnitFloat() * 0.1 }, v0 = (0...count).map { _ in rng.nextUnitFloat() * 0.01 }
                var theta = theta0, m = m0, v = v0
                let (b1, b2, eps, step, root): (Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 1e-3 / 0.19, 0.0447)
                kernels.adamUpdate(
                    count: count, theta: &theta, gradient: g, m: &m, v: &v, beta1: b1, beta2: b2, eps: eps,
                    decay: decay, stepSize: step, rootCorrection2: root)
                var wrong = 0
                for i in 0..<count {
                    let gi = decay == 0 ? g[i] : g[i] + decay * theta0[i]
                    let mi = b1 * m0[i] + (1 - b1) * gi, vi = b2 * v0[i] + (1 - b2) * gi * gi
                    let ti = theta0[i] - step * mi / (vi.squareRoot() / root + eps)
                    if m[i].bitPattern != mi.bitPattern || v[i].bitPattern != vi.bitPattern || theta[i].bitPattern != ti.bitPattern { wrong += 1 }
                }
                #expect(
                    wrong == 0 && theta[count] == theta0[count] && m[count] == m0[count] && v[count] == v0[count],
                    "\(family) count \(count) decay \(decay)")
            }
        }
    }

    /// 2×2 max pooling of a plane: bit for bit `Kernels.poolRow` row after row (values, the first
    /// maximum's index on ties, NaN, ReLU), for rows of whole vectors of windows, partial ones and
    /// fewer windows than a vector, and nothing past the plane's outputs touched.
    @Test(arguments: MicroKernels.available.map(\.family)) func maxPoolingIsTheRowLoop(family: MicroKernels.Family) throws {
        let kernels = try #require(MicroKernels(family))
        var rng = RandomSource(seed: 21)
        for (height, width) in [(2, 2), (4, 6), (2, 16), (4, 18), (6, 32), (2, 34), (4, 40), (2, 64), (8, 28)] {
            // Values from {−1, 0, 1}: most windows hold ties; one holds NaN.
            var plane = (0..<height * width).map { _ in Float(Int(rng.nextUnitFloat() * 3) - 1) }
            plane[width + 1] = .nan
            let outputs = height * width / 4, top = 1000
            for (shift, relu) in [(Float(0), false), (0.5, true), (-0.25, true)] {
                var values = [Float](repeating: 7, count: outputs + 1), positions = [Int32](repeating: -7, count: outputs + 1)
                var loopValues = values, loopPositions = positions
                kernels.maxPool2x2(
                    plane: plane, height: height, width: width, shift: shift, relu: relu,
                    values: &values, positions: &positions, topIndex: top)
                plane.withUnsafeBufferPointer { source in
                    loopValues.withUnsafeMutableBufferPointer { lv in
                        loopPositions.withUnsafeMutableBufferPointer { lp in
                            for yo in 0..<height / 2 {
                                let out = yo * width / 2
                                Kernels.poolRow(
                                    top: source.baseAddress! + 2 * yo * width, width: width, count: width / 2, shift: shift,
                                    relu: relu, values: lv.baseAddress! + out, positions: lp.baseAddress! + out,
                                    topIndex: top + 2 * yo * width)
                            }
                        }
                    }
                }
                #expect(
                    values.map(\.bitPattern) == loopValues.map(\.bitPattern) && positions == loopPositions,
                    "\(family) \(height)×\(width) shift \(shift) relu \(relu)")
                var valuesOnly = [Float](repeating: 7, count: outputs + 1)
                kernels.maxPool2x2(
                    plane: plane, height: height, width: width, shift: shift, relu: relu,
                    values: &valuesOnly, positions: nil, topIndex: top)
                #expect(valuesOnly.map(\.bitPattern) == values.map(\.bitPattern))
            }
        }
    }

    /// The pooled convolution's parameter gradients from every family: the same bits as each
    /// other (the same ordered fused sums per lane), with channel groups of a vector's lanes
    /// and fewer, with and without a ReLU.
    @Test func pooledGradientsAreTheSameInEveryFamily() {
        let g = Conv2dGeometry(batch: 5, inChannels: 3, height: 10, width: 12, outChannels: 21, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        var rng = RandomSource(seed: 23)
        let x = Tensor.normal(shape: g.inputShape, using: &rng)
        let w = Tensor.normal(shape: g.weightShape, std: 0.3, using: &rng), b = Tensor.normal(shape: [g.outChannels], using: &rng)
        for relu in [false, true] {
            let forward = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, relu: relu)
            let dy = Tensor.normal(shape: forward.output.shape, using: &rng)
            let results = MicroKernels.available.map { kernels in
                Kernels.conv2dMaxPool2x2ParameterGradients(
                    dy, argMax: forward.argMax, input: x, geometry: g,
                    reluOutput: relu ? forward.output : nil, kernels: kernels)
            }
            for (family, result) in zip(MicroKernels.available.map(\.family), results).dropFirst() {
                #expect(result.weight.scalars.map(\.bitPattern) == results[0].weight.scalars.map(\.bitPattern), "\(family) relu \(relu)")
                #expect(result.bias.scalars.map(\.bitPattern) == results[0].bias.scalars.map(\.bitPattern), "\(family) relu \(relu)")
            }
        }
    }
}

/// `BLAS.sgemm` and the layers send their products through the family in use.
@Suite(.enabled(if: MicroKernels.isEnabled, "Gauntlet's kernels off: no family runs here, or GAUNTLET_KERNELS=portable"))
struct MicroKernelRoutingTests {
    /// `BLAS.sgemm` sends small products with B as stored, alpha 1 and beta 0 or 1 here: the
    /// same bits as the kernel called directly, however the product is split over threads.
    @Test func smallProductsGoThroughTheKernel() throws {
        let kernels = try #require(MicroKernels.active)
        var rng = RandomSource(seed: 8)
        let m = 64, n = 784, k = 288
        let a = (0..<m * k).map { _ in rng.nextUnitFloat() - 0.5 }, b = (0..<k * n).map { _ in rng.nextUnitFloat() - 0.5 }
        for beta: Float in [0, 1] {
            let c0 = (0..<m * n).map { _ in rng.nextUnitFloat() }
            var viaBLAS = c0, direct = c0
            BLAS.sgemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: beta, c: &viaBLAS, ldc: n)
            kernels.sgemm(transposeA: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, accumulate: beta == 1, c: &direct, ldc: n)
            #expect(viaBLAS.map(\.bitPattern) == direct.map(\.bitPattern))
        }
    }

    /// A linear layer's forward on a part's rows (one thread) with its weight as stored starts
    /// the product from the bias: the same bits as writing the bias rows and adding the product
    /// of the weight transposed onto them.
    @Test func linearOnAPartStartsItsProductFromTheBias() throws {
        let kernels = try #require(MicroKernels.active)
        var rng = RandomSource(seed: 14)
        let x = Tensor.uniform(shape: [64, 300], low: -1, high: 1, using: &rng)
        let w = Tensor.uniform(shape: [200, 300], low: -1, high: 1, using: &rng), b = Tensor.uniform(shape: [200], low: -1, high: 1, using: &rng)
        #expect(Parallel.$insidePart.withValue(true) { MicroKernels.takesTransposedBInOneCall(m: 64, n: 200, k: 300) })
        let y = Parallel.$insidePart.withValue(true) { Kernels.linear(x, weight: w, bias: b) }
        var expected = [Float](repeating: 0, count: 64 * 200)
        for row in 0..<64 { for o in 0..<200 { expected[row * 200 + o] = b.scalars[o] } }
        let wt = Kernels.transposed(w)
        kernels.sgemm(
            transposeA: false, m: 64, n: 200, k: 300, a: x.scalars, lda: 300, b: wt.scalars, ldb: 200,
            accumulate: true, c: &expected, ldc: 200)
        #expect(y.shape == [64, 200])
        #expect(zip(y.scalars, expected).filter { $0.bitPattern != $1.bitPattern }.count == 0)
    }

    /// `BLAS.sgemm` sends `A·Bᵀ` where B is the larger operand (a layer's forward product on a
    /// part's rows) through `sgemmTransposedB`: the same bits as the kernel on B transposed,
    /// however the product is split over threads; where A is the larger, OpenBLAS.
    @Test func layerProductsWithBTransposedGoThroughTheKernel() throws {
        let kernels = try #require(MicroKernels.active)
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
            kernels.sgemm(transposeA: false, m: m, n: n, k: k, a: a, lda: k, b: bTransposed, ldb: n, accumulate: beta == 1, c: &direct, ldc: n)
            let differing = zip(viaBLAS, direct).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "beta \(beta)")
        }
    }

    /// The dropout of a tensor (mask and product in one pass) gives what the mask alone would, and
    /// moves the generator as it does.
    @Test func dropoutOfATensorIsItsMaskTimesTheInput() {
        var rng = RandomSource(seed: 4)
        let x = Tensor.normal(shape: [37], using: &rng)
        for range in [0..<37, 100..<137, 5..<42] {
            var a = RandomSource(seed: 3), b = RandomSource(seed: 3)
            let (output, mask) = a.dropout(x, count: 200, p: 0.4, keep: 1 / 0.6, elements: range)
            #expect(mask.scalars == b.dropoutMask(count: 200, p: 0.4, keep: 1 / 0.6, elements: range) && a.next() == b.next())
            #expect(output.scalars == zip(x.scalars, mask.scalars).map { $0 * $1 }, "\(range)")
        }
    }
}
