import Foundation

extension BLAS {
    /// Core types whose kernels use AVX-512.
    static let avx512CoreTypes: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// Whether this CPU reports the AVX-512 subsets OpenBLAS's SkylakeX kernels use
    /// (F, CD, BW, DQ, VL), read from `/proc/cpuinfo`.
    public static var cpuSupportsAVX512: Bool {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flagsLine = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return false }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
    }

    /// The families of Gauntlet's own kernels this CPU runs, fastest first, as
    /// `GAUNTLET_KERNELS` names them (`avx512`, `avx2`), then `portable` (OpenBLAS and Swift loops
    /// alone), which every CPU runs.
    public static var kernelFamilies: [String] { MicroKernels.available.map(\.family.rawValue) + ["portable"] }

    /// The family of Gauntlet's kernels in use (`avx512`, `avx2`), or nil on the portable path.
    public static var kernelFamily: String? { MicroKernels.active?.family.rawValue }

    /// Why this process's `GAUNTLET_KERNELS` cannot be honoured (an unknown name, or a family
    /// this CPU cannot run), or nil. Programs check it before any product: the kernels' first
    /// use stops the process with this message.
    public static var kernelSelectionProblem: String? { MicroKernels.selectionProblem(ProcessInfo.processInfo.environment) }

    /// Whether the loaded kernels are an AVX-512 family.
    public static var usesAVX512Kernels: Bool { avx512CoreTypes.contains(coreName.lowercased()) }

    /// OpenBLAS 0.3.21 does not recognise recent AVX-512 CPUs (AMD Zen 4/5) and falls back to
    /// its AVX2 Haswell kernels, about half as fast. The core type can only be chosen before the
    /// library loads, so when the CPU supports AVX-512, OpenBLAS picked non-AVX-512 kernels,
    /// and the user has not set `OPENBLAS_CORETYPE`, this re-executes the current program with
    /// `OPENBLAS_CORETYPE=SkylakeX`. `GAUNTLET_BLAS_AUTOSELECT=0` turns this off. Returns only
    /// when no re-execution happened (or it failed).
    public static func reexecutingWithFastestKernels() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["GAUNTLET_BLAS_AUTOSELECT"] != "0",
            !usesAVX512Kernels, cpuSupportsAVX512
        else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        setenv("GAUNTLET_BLAS_AUTOSELECT", "0", 1)  // never loop
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // execv returned: it failed. Carry on with the kernels already loaded.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
