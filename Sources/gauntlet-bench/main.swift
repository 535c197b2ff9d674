// Release-mode benchmark: the machine's sgemm peak, OpenBLAS kernel families compared, and the
// training, inference, attack (examples × steps per second) and MC-dropout (examples × passes
// per second) throughput of the quickstart
// models as a fraction of that peak; with `--sweep`, the grid runner's overhead per cell and its
// scaling from 1 to 2 jobs (SweepBenchmark.swift).
//
//   gauntlet-bench [--experiment experiments/quickstart.yaml] [--steps N]
//   gauntlet-bench --sweep [--benchmarks benchmarks]
//   gauntlet-bench --kernels     (the CNN's convolution kernels one by one, KernelBenchmark.swift)
//   gauntlet-bench --only PHASE [--model NAME] [--repeats N]   (one phase alone, for a profiler:
//                                training, inference, pgd, apgd, square or mc, its timed part N times)
//   gauntlet-bench --loader DIR [--threads N] [--batch N] [--resize S]   (one pass of the image
//                                folder loader over DIR, LoaderBenchmark.swift; benchmarks/loader.sh)
//   gauntlet-bench --kernel-families   (the families of Gauntlet's kernels this CPU runs, the
//                                default first, then `portable`: what GAUNTLET_KERNELS may name)
//
// All ratios are measured in the same run. Not a test: run it with `make bench`.
import Catalog
import Datasets
import Evaluation
import Foundation
import Layers
import Perturbations
import Spec
import Tensors

struct Options {
    var experiment = "experiments/quickstart.yaml"
    var steps = 30
    var sgemmOnly = false
    var kernelFamilies = false
    var sweep = false
    var benchmarks = "benchmarks"
    var kernels = false
    var only: String?
    var model: String?
    var repeats = 1
    var loader: String?
    var threads = 2
    var batch = 128
    var resize: Int?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--experiment": experiment = iterator.next() ?? experiment
            case "--steps": steps = Int(iterator.next() ?? "") ?? steps
            case "--sgemm-only": sgemmOnly = true
            case "--kernel-families": kernelFamilies = true
            case "--sweep": sweep = true
            case "--kernels": kernels = true
            case "--benchmarks": benchmarks = iterator.next() ?? benchmarks
            case "--only": only = iterator.next()
            case "--model": model = iterator.next()
            case "--repeats": repeats = max(1, Int(iterator.next() ?? "") ?? repeats)
            case "--loader": loader = iterator.next()
            case "--threads": threads = max(1, Int(iterator.next() ?? "") ?? threads)
            case "--batch": batch = max(1, Int(iterator.next() ?? "") ?? batch)
            case "--resize": resize = Int(iterator.next() ?? "")
            default:
                FileHandle.standardError.write(
                    Data(
                        "usage: gauntlet-bench [--experiment FILE] [--steps N] [--sgemm-only] [--kernel-families] [--sweep [--benchmarks DIR]] [--kernels] [--only PHASE [--model NAME] [--repeats N]] [--loader DIR [--threads N] [--batch N] [--resize S]]\n"
                            .utf8))
                exit(2)
            }
        }
    }
}

/// Best-of-`repeats` GFLOP/s of one `m×k · k×n` sgemm (row-major, as the layers call it), split
/// over the job's threads as `BLAS.sgemm` splits it; with `perThread`, of one such product per
/// thread at once, each on its own thread (as a convolution's pipelines run their chunks).
func sgemmGFLOPS(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false, repeats: Int = 10, perThread: Bool = false) -> Double {
    var rng = RandomSource(seed: 2)
    let a = Tensor.uniform(shape: [m * k], using: &rng), b = Tensor.uniform(shape: [k * n], using: &rng)
    let copies = perThread ? BLAS.threadCount : 1
    let outputs = (0..<copies).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * n) }
    defer { outputs.forEach { $0.deallocate() } }
    var best = Double.infinity
    for _ in 0..<repeats {
        let time = seconds {
            Parallel.forEach(copies, grain: 1) { parts in
                for part in parts {
                    BLAS.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.scalars, lda: transposeA ? m : k,
                        b: b.scalars, ldb: transposeB ? k : n, c: outputs[part], ldc: n)
                }
            }
        }
        best = min(best, time)
    }
    return 2 * Double(copies * m * n * k) / best / 1e9
}

/// The sgemm peak, best of 20: the larger of one square 1024 product (split over the job's
/// threads, as `BLAS.sgemm` splits every product) and one such product per thread at once, each
/// on its own thread (what OpenBLAS's kernel does on all the cores together, as a convolution's
/// pipelines use them).
func squarePeak() -> Double {
    max(sgemmGFLOPS(m: 1024, n: 1024, k: 1024, repeats: 20, perThread: true), sgemmGFLOPS(m: 1024, n: 1024, k: 1024, repeats: 20))
}

/// Runs this program again with `--sgemm-only` under a given core type; returns its GFLOP/s.
func sgemmInChild(coreType: String) -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
    process.arguments = ["--sgemm-only"]
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = coreType
    environment["GAUNTLET_BLAS_AUTOSELECT"] = "0"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return nil }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let fields = output.split(separator: " ")
    guard fields.count == 2, fields[0] == coreType || fields[0].lowercased() == coreType.lowercased() else {
        return nil  // OpenBLAS did not accept the core type
    }
    return Double(fields[1].trimmingCharacters(in: .whitespacesAndNewlines))
}

/// FLOPs of one training step per sample: forward, weight gradient, and input gradient for all
/// but the first layer (the data needs no gradient): 2·MAC each.
func trainingFLOPs(_ summary: [LayerSummary]) -> Double {
    var total = 0.0
    var first = true
    for layer in summary where layer.multiplyAccumulates > 0 {
        total += 2 * Double(layer.multiplyAccumulates) * (first ? 2 : 3)
        first = false
    }
    return total
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func benchmark() throws {
    let options = Options(CommandLine.arguments)
    if options.kernelFamilies {
        // What GAUNTLET_KERNELS may name on this CPU, the default first (`make test` runs the suite with each).
        BLAS.kernelFamilies.forEach { print($0) }
        return
    }
    if let problem = BLAS.kernelSelectionProblem {
        FileHandle.standardError.write(Data("gauntlet-bench: \(problem)\n".utf8))
        exit(2)
    }
    if let folder = options.loader {
        try LoaderBenchmark(folder: folder, threads: options.threads, batchSize: options.batch, resize: options.resize).run()
        return
    }
    if options.sgemmOnly {
        print("\(BLAS.coreName) \(squarePeak())")
        return
    }
    BLAS.reexecutingWithFastestKernels()
    Memory.keepFreedMemoryMapped()
    if options.sweep {
        try SweepBenchmark(directory: options.benchmarks).report()
        return
    }

    print("OpenBLAS: \(BLAS.configuration)")
    print(
        "kernels in use: \(BLAS.kernelName), \(BLAS.threadCount) thread(s); CPU has AVX-512: \(BLAS.cpuSupportsAVX512); "
            + "Gauntlet's families here: \(BLAS.kernelFamilies.joined(separator: ", ")) (GAUNTLET_KERNELS)")
    print("\nsgemm 1024×1024×1024, best of 20, per OpenBLAS core type (each in a fresh process):")
    var families = ["Haswell"]
    if BLAS.cpuSupportsAVX512 { families.append("SkylakeX") }
    var byFamily: [String: Double] = [:]
    for family in families {
        if let gflops = sgemmInChild(coreType: family) {
            byFamily[family] = gflops
            print("  \(pad(family, 10)) \(String(format: "%7.1f", gflops)) GFLOP/s")
        } else {
            print("  \(pad(family, 10)) not available")
        }
    }
    if let avx2 = byFamily["Haswell"], let avx512 = byFamily["SkylakeX"] {
        print("  SkylakeX / Haswell = \(String(format: "%.2f", avx512 / avx2))×")
    }
    let peak = squarePeak()
    print(
        "  this process (\(BLAS.coreName)): \(String(format: "%.1f", peak)) GFLOP/s  ← the peak used below (OpenBLAS: square products are too large for Gauntlet's kernels)"
    )
    if options.kernels {
        KernelBenchmark(peak: peak, repeats: 10).report()
        return
    }

    // The products a convolution layer makes per im2col chunk, for the quickstart CNN's second
    // convolution (32 → 64 channels, 3×3, 14×14): the ceiling its training and attack steps could
    // reach with these shapes (one chunk per thread at once, as the pipelines run them).
    let second = Conv2dGeometry(batch: 128, inChannels: 32, height: 14, width: 14, outChannels: 64, kernelHeight: 3, kernelWidth: 3, padding: 1)
    let images = Kernels.imagesPerChunk(second), columns = images * 14 * 14, patch = second.patchSize
    print("\nsgemm at the shapes of a 3×3 convolution 32 → 64 on 14×14 (\(images) images per chunk):")
    for (what, m, n, k, ta, tb) in [
        ("forward  W·cols", 64, columns, patch, false, false),
        ("weight   dY·colsᵀ", 64, patch, columns, false, true),
        ("input    Wᵀ·dY", patch, columns, 64, true, false),
    ] {
        let gflops = sgemmGFLOPS(m: m, n: n, k: k, transposeA: ta, transposeB: tb, perThread: true)
        print(
            "  \(pad(what, 18)) \(m)×\(n)×\(k): \(String(format: "%6.1f", gflops)) GFLOP/s, \(String(format: "%5.1f", 100 * gflops / peak)) % of peak"
                + (tb ? " (OpenBLAS: B transposed; the layer sums dWᵀ += cols·dYᵀ instead)" : ""))
    }

    // One trial per model of the experiment (sweeps, if any, are ignored: the first cell is used).
    let grid = try ResolvedGrid.load(options.experiment)
    var seenModels: Set<String> = []
    let cells = grid.trials.filter { seenModels.insert($0.model.name).inserted }
    guard let experiment = cells.first?.experiment else { throw CocoaError(.featureUnsupported) }
    let sampleShape = experiment.dataset.sampleShape
    let classes = experiment.dataset.classCount
    let batch = experiment.spec.training.batchSize
    print("\nmodels of \(options.experiment), batch \(batch), \(options.steps) timed steps after 3 warm-up steps:")
    print("  model  phase      samples/s   GFLOP/s   of sgemm peak")
    for resolved in cells.map(\.model) where options.model == nil || options.model == resolved.name {
        // Seconds of one run of a phase's timed part (the mean of `--repeats` runs); nil when
        // `--only` names another phase.
        func timed(_ phase: String, _ body: () -> Void) -> Double? {
            guard options.only == nil || options.only == phase else { return nil }
            return seconds { for _ in 0..<options.repeats { body() } } / Double(options.repeats)
        }
        var rng = RandomSource(seed: 0)
        let model = try resolved.build(inputShape: sampleShape, normalization: experiment.normalization, rng: &rng)
        let images = Tensor.uniform(shape: [batch] + sampleShape, using: &rng)
        let labels = (0..<batch).map { $0 % classes }
        let optimizer = experiment.optimizer.makeOptimizer()
        let forward = 2 * Double(model.summary().reduce(0) { $0 + $1.multiplyAccumulates })
        let training = trainingFLOPs(model.summary())

        for _ in 0..<3 { _ = model.trainStep(images: images, labels: labels, optimizer: optimizer, rng: &rng) }
        let trainTime = timed("training") {
            for _ in 0..<options.steps { _ = model.trainStep(images: images, labels: labels, optimizer: optimizer, rng: &rng) }
        }
        let evalBatch = Tensor.uniform(shape: [experiment.spec.evaluation.batchSize] + sampleShape, using: &rng)
        _ = model.logits(evalBatch)
        let evalSteps = max(3, options.steps / 5)
        let evalTime = timed("inference") { for _ in 0..<evalSteps { _ = model.logits(evalBatch) } }

        // Attacks on the evaluation batch: a PGD / APGD step is a forward and an input-gradient
        // pass (2 × forward FLOPs: no weight gradients); a Square query is one forward pass.
        let attackSteps = 10
        var attackRNG = RandomSource(seed: 1)
        // The model's own predictions as labels: every sample starts correctly classified, and
        // with ε = 0 the Square attack can never fool one, so every query runs on the whole batch.
        let evalLabels = model.logits(evalBatch).argMax(axis: 1)
        let pgdTime = timed("pgd") {
            _ = PGD(epsilon: 0.05, steps: attackSteps).perturb(images: evalBatch, labels: evalLabels, model: model, rng: &attackRNG)
        }
        let apgdTime = timed("apgd") {
            _ = APGD(epsilon: 0.05, steps: attackSteps).perturb(images: evalBatch, labels: evalLabels, model: model, rng: &attackRNG)
        }
        let squareTime = timed("square") {
            _ = SquareAttack(epsilon: 0, queries: attackSteps).perturb(images: evalBatch, labels: evalLabels, model: model, rng: &attackRNG)
        }
        let attacked = Double(evalBatch.shape[0] * attackSteps)
        // MC dropout: stochastic passes of the evaluation batch with the predictive mean and every
        // uncertainty score computed, as evaluations run them (a model without dropout still
        // pays every pass). Samples/s counts passes.
        let passes = 10
        var passRNG = RandomSource(seed: 2)
        let monteCarlo = MonteCarloDropout(passes: passes).predictor(model: model, members: [])
        let mcTime = timed("mc") { _ = monteCarlo.predict(evalBatch, rng: &passRNG) }
        // The layers before the first dropout run once per batch, shared by the passes: count
        // the FLOPs actually computed.
        let sharedLayers = model.firstStochasticLayer ?? 0
        let shared = 2 * Double(model.summary().prefix(sharedLayers).reduce(0) { $0 + $1.multiplyAccumulates })
        let mcFLOPs = forward - shared + shared / Double(passes)

        for (phase, samples, flopsPerSample, time) in [
            ("training", Double(batch * options.steps), training, trainTime),
            ("inference", Double(evalBatch.shape[0] * evalSteps), forward, evalTime),
            ("pgd step", attacked, 2 * forward + forward / Double(attackSteps), pgdTime),
            ("apgd step", attacked, 2 * forward + 2 * forward / Double(attackSteps), apgdTime),
            ("square q.", attacked, forward, squareTime),
            ("mc pass", Double(evalBatch.shape[0] * passes), mcFLOPs, mcTime),
        ] {
            guard let time else { continue }
            let rate = samples / time
            let gflops = rate * flopsPerSample / 1e9
            print(
                "  \(pad(resolved.name, 5))  \(pad(phase, 9))  \(String(format: "%9.0f", rate))  \(String(format: "%8.1f", gflops))   \(String(format: "%5.1f", 100 * gflops / peak)) %"
            )
        }
    }
}

do {
    try benchmark()
} catch {
    FileHandle.standardError.write(Data("gauntlet-bench: \(error)\n".utf8))
    exit(1)
}
