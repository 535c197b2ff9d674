// `gauntlet-bench --kernels`: the quickstart CNN's convolution kernels one by one (forward with
// its 2×2 pooling, backward as training and as an attack asks it), next to the matrix products
// alone at the same shapes and chunking, so the time spent around the products shows.
import Foundation
import Tensors

struct KernelBenchmark {
    let peak: Double
    let repeats: Int

    /// Best of `repeats` wall times of `body`, in milliseconds.
    func best(_ body: () -> Void) -> Double {
        body()
        var fastest = Double.infinity
        for _ in 0..<repeats { fastest = min(fastest, seconds(body)) }
        return 1000 * fastest
    }

    func line(_ what: String, _ milliseconds: Double, flops: Double) {
        let gflops = flops / milliseconds / 1e6
        print(
            "  \(pad(what, 34)) \(String(format: "%8.2f", milliseconds)) ms  \(String(format: "%7.1f", gflops)) GFLOP/s  \(String(format: "%5.1f", 100 * gflops / peak)) %"
        )
    }

    /// The products one pass makes, chunk by chunk and pipeline by pipeline as the kernels run
    /// them (`Kernels.forEachChunkPipeline`).
    func products(_ g: Conv2dGeometry, forward: Bool, weight: Bool, input: Bool) -> Double {
        let plane = g.outHeight * g.outWidth, size = max(g.outChannels, g.patchSize) * Kernels.imagesPerChunk(g) * plane
        // One set of operands per part, allocated outside the timing.
        let parts = max(1, BLAS.threadCount)
        let a = [Float](repeating: 0.5, count: size), b = [Float](repeating: 0.25, count: size)
        let outputs = (0..<parts).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: size) }
        defer { outputs.forEach { $0.deallocate() } }
        return best {
            _ = Kernels.forEachChunkPipeline(g) { part, chunk, chunks in
                let columns = chunk * plane, c = outputs[part]
                for _ in chunks {
                    if forward {
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: g.outChannels, n: columns, k: g.patchSize,
                            a: a, lda: g.patchSize, b: b, ldb: columns, c: c, ldc: columns)
                    }
                    if weight {
                        // As the layer sums it with Gauntlet's kernels: dWᵀ += cols · dYᵀ (the
                        // transpose of dY, a few percent of the product, left out); else dY · colsᵀ.
                        if BLAS.kernelFamily != nil {
                            BLAS.sgemm(
                                transposeA: false, transposeB: false, m: g.patchSize, n: g.outChannels, k: columns,
                                a: a, lda: columns, b: b, ldb: g.outChannels, beta: 1, c: c, ldc: g.outChannels)
                        } else {
                            BLAS.sgemm(
                                transposeA: false, transposeB: true, m: g.outChannels, n: g.patchSize, k: columns,
                                a: a, lda: columns, b: b, ldb: columns, beta: 1, c: c, ldc: g.patchSize)
                        }
                    }
                    if input {
                        BLAS.sgemm(
                            transposeA: true, transposeB: false, m: g.patchSize, n: columns, k: g.outChannels,
                            a: a, lda: g.patchSize, b: b, ldb: columns, c: c, ldc: columns)
                    }
                }
            }
        }
    }

    func report() {
        for batch in [128, 250] {
            print("\nconvolutions of the quickstart CNN (3×3, padding 1, then ReLU and 2×2 max pooling), batch \(batch):")
            print("  kernel                             time         rate        of peak")
            for (inChannels, side, outChannels) in [(1, 28, 32), (32, 14, 64)] {
                let g = Conv2dGeometry(
                    batch: batch, inChannels: inChannels, height: side, width: side, outChannels: outChannels,
                    kernelHeight: 3, kernelWidth: 3, padding: 1)
                var rng = RandomSource(seed: 0)
                let x = Tensor.uniform(shape: g.inputShape, using: &rng)
                let w = Tensor.uniform(shape: g.weightShape, low: -0.2, high: 0.2, using: &rng)
                let b = Tensor.uniform(shape: [outChannels], using: &rng)
                let product = 2 * Double(g.batch * g.outChannels * g.outHeight * g.outWidth * g.patchSize)
                let name = "\(inChannels)→\(outChannels) \(side)×\(side)"
                var pooled = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, relu: true)
                line("\(name) forward + pool", best { pooled = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, relu: true) }, flops: product)
                line(
                    "\(name) forward + pool, no indices", best { _ = Kernels.conv2dMaxPool2x2(x, weight: w, bias: b, geometry: g, indices: false, relu: true) },
                    flops: product)
                line("  its product alone", products(g, forward: true, weight: false, input: false), flops: product)
                let dy = Tensor.uniform(shape: pooled.output.shape, using: &rng)
                for (what, needInput, needParameters) in [("backward dW", false, true), ("backward dX", true, false), ("backward dW dX", true, true)] {
                    let time = best {
                        _ = Kernels.conv2dMaxPool2x2Backward(
                            dy, argMax: pooled.argMax, input: x, weight: w, geometry: g,
                            needInput: needInput, needParameters: needParameters, reluOutput: pooled.output)
                    }
                    let count = Double((needInput ? 1 : 0) + (needParameters ? 1 : 0))
                    line("\(name) \(what)", time, flops: count * product)
                    line("  its products alone", products(g, forward: false, weight: needParameters, input: needInput), flops: count * product)
                }
            }
        }
    }
}
