import ArgumentParser
import Foundation
import Tensors

/// The `gauntlet` command: puts neural networks through a declared gauntlet of tests.
public struct Gauntlet: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gauntlet",
        abstract: "Train and test neural networks as declared in a YAML experiment file.",
        version: "0.1.0",
        subcommands: [
            Run.self, Sweep.self, Merge.self, Submit.self, Status.self, ReportCommand.self, Validate.self, Plan.self, Inspect.self, Export.self, List.self,
            Schema.self,
        ])

    public init() {}

    /// The program's entry point: checks the kernel family asked for (`GAUNTLET_KERNELS`),
    /// selects the fastest safe BLAS kernels and the allocator's reuse of freed buffers, then
    /// parses and runs.
    public static func entry() {
        if let problem = BLAS.kernelSelectionProblem {
            FileHandle.standardError.write(Data("gauntlet: \(problem)\n".utf8))
            Foundation.exit(2)
        }
        BLAS.reexecutingWithFastestKernels()
        Memory.keepFreedMemoryMapped()
        executable = "/proc/self/exe"
        main()
    }

    /// This program, when it runs as the `gauntlet` executable (runs then isolate training groups
    /// in child processes of it); nil when the commands are called in process (tests).
    nonisolated(unsafe) static var executable: String?
}
