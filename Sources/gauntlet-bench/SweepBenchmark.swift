// The grid runner's benchmark (`gauntlet-bench --sweep`): runs the sweeps of `benchmarks/`
// through the release `gauntlet` executable and reports
// - the scheduler and storage overhead per cell: wall time minus the cells' own stage times
//   (which the cells store), over a sweep of 100 tiny cells;
// - how much faster 2 jobs finish a CPU-bound sweep than 1 job (1 job gets both cores as BLAS
//   threads), for a sweep dominated by evaluation and one dominated by training, with 1 job on
//   1 BLAS thread as a third point that separates the pool's scaling from BLAS's.
import Foundation
import Reporting
import Results

struct SweepRun {
    var wall: Double
    var cells: Int
    /// Σ over cells of every stage's seconds.
    var cellSeconds: Double
    /// Σ over cells, per stage.
    var stages: [(stage: String, seconds: Double)]
}

enum SweepBenchmarkError: Error, CustomStringConvertible {
    case noExecutable(String)
    case failed(String, Int32)
    case incomplete(String, Int, Int)

    var description: String {
        switch self {
        case .noExecutable(let path): "no gauntlet executable at \(path): build it with `swift build -c release --product gauntlet`"
        case .failed(let command, let status): "`\(command)` exited with status \(status)"
        case .incomplete(let folder, let complete, let total): "\(folder): only \(complete) of \(total) cells completed"
        }
    }
}

struct SweepBenchmark {
    var directory: String
    let gauntlet: String
    let scratch: String

    init(directory: String) throws {
        self.directory = directory
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        gauntlet = executable.deletingLastPathComponent().appendingPathComponent("gauntlet").path
        guard FileManager.default.isExecutableFile(atPath: gauntlet) else { throw SweepBenchmarkError.noExecutable(gauntlet) }
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-bench-\(UUID().uuidString)").path
    }

    /// Runs one experiment file into a fresh folder (`label` names it) and reads back what its cells measured.
    func run(_ file: String, label: String, _ arguments: [String]) throws -> SweepRun {
        let output = "\(scratch)/\(label)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gauntlet)
        process.arguments = ["run", "\(directory)/\(file)", "--output", output, "--quiet"] + arguments
        process.standardOutput = FileHandle.nullDevice
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        process.waitUntilExit()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let command = "gauntlet " + process.arguments!.joined(separator: " ")
        guard process.terminationStatus == 0 else { throw SweepBenchmarkError.failed(command, process.terminationStatus) }
        let experiment = try FileManager.default.contentsOfDirectory(atPath: output).first { !$0.hasPrefix(".") } ?? ""
        let results = try ResultsFolder.read("\(output)/\(experiment)")
        let complete = results.cells.filter(\.completed)
        guard complete.count == results.trials.count else {
            throw SweepBenchmarkError.incomplete("\(output)/\(experiment)", complete.count, results.trials.count)
        }
        var stages: [(stage: String, seconds: Double)] = []
        for (stage, seconds) in complete.flatMap(\.stages) {
            if let index = stages.firstIndex(where: { $0.stage == stage }) { stages[index].seconds += seconds } else { stages.append((stage, seconds)) }
        }
        try? FileManager.default.removeItem(atPath: output)
        return SweepRun(wall: wall, cells: complete.count, cellSeconds: stages.reduce(0) { $0 + $1.seconds }, stages: stages)
    }

    func report() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        print("\nsweeps of \(directory)/ through \(gauntlet), \(ProcessInfo.processInfo.activeProcessorCount) cores:")

        let overhead = try run("sweep-overhead.yaml", label: "overhead", ["--jobs", "1"])
        let perCell = (overhead.wall - overhead.cellSeconds) / Double(overhead.cells)
        print("  overhead: \(overhead.cells) tiny cells, 1 job: \(format(overhead.wall)) s wall, cells' own stages \(format(overhead.cellSeconds)) s")
        print(
            "    scheduler + storage + start-up: \(String(format: "%.1f", 1000 * perCell)) ms per cell"
                + " (cell's own work \(String(format: "%.1f", 1000 * overhead.cellSeconds / Double(overhead.cells))) ms)")

        for (file, what) in [("sweep-corruptions.yaml", "evaluation-bound"), ("sweep-training.yaml", "training-bound")] {
            let one = try run(file, label: "\(what)-1", ["--jobs", "1"])
            let oneThread = try run(file, label: "\(what)-1x1", ["--jobs", "1", "--blas-threads", "1"])
            let two = try run(file, label: "\(what)-2", ["--jobs", "2"])
            print("  \(what) (\(file), \(two.cells) cells):")
            for (run, setting) in [(one, "1 job × 2 BLAS threads"), (oneThread, "1 job × 1 BLAS thread"), (two, "2 jobs × 1 BLAS thread")] {
                let stages = run.stages.map { "\($0.stage) \(format($0.seconds))" }.joined(separator: ", ")
                print("    \(pad(setting, 23)) \(String(format: "%7.2f", run.wall)) s wall; Σ cells: \(stages)")
            }
            print(
                "    2 jobs vs 1 job: \(String(format: "%.2f", one.wall / two.wall))×;"
                    + " vs 1 job on 1 BLAS thread: \(String(format: "%.2f", oneThread.wall / two.wall))×;"
                    + " a cell's gain from a second BLAS thread: \(String(format: "%.2f", oneThread.cellSeconds / one.cellSeconds))×")
        }
    }

    private func format(_ seconds: Double) -> String { String(format: "%.2f", seconds) }
}
