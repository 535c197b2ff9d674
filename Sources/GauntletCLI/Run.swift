import ArgumentParser
import Catalog
import Cluster
import Foundation
import Grid
import Runner

/// The arguments `run` and `sweep` share.
struct RunOptions: ParsableArguments {
    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Argument(help: "Overrides: key.path=value, or a sweep: key=a,b,c | range(a,b[,step]) | linspace(a,b,n) | logspace(a,b,n).")
    var overrides: [String] = []

    @Option(name: .shortAndLong, help: "The folder that receives <experiment name>/<experiment name>.h5.")
    var output = "results"

    @Flag(name: .shortAndLong, help: "Print only the results table.")
    var quiet = false

    @Option(
        name: .shortAndLong,
        help:
            "Trials trained at once, each with cores/jobs BLAS threads (default: one per core, unless the costliest trial would then run alone for long: at most the estimated total cost / the costliest trial's)."
    )
    var jobs: Int?

    @Option(help: "BLAS threads per job (default: cores / jobs). Results differ in their last bits between thread counts; each cell records its own.")
    var blasThreads: Int?

    @Flag(help: "Stop after the first failed trial (trials already running finish and are written).")
    var failFast = false

    @Flag(help: "Print a JSON summary of every trial on standard output instead of the table.")
    var json = false

    @Flag(help: "Run trials in this process instead of in worker processes (a crash then ends the whole run).")
    var inProcess = false

    @Flag(
        help: ArgumentHelp(
            "Serve a parent run as its worker: read lines of trial ids, run them, answer 'done'; the parent writes the index.", visibility: .hidden))
    var serve = false

    @Option(
        help:
            "Run only shard i of N (i/N, 0 ≤ i < N): the trials whose index is i modulo N (with --cells: the listed units whose line is i modulo N). Join shards with `gauntlet merge`."
    )
    var shard: String?

    @Option(help: "Run only the trials a work list names (one unit per line: trial ids sharing a trained model), as `gauntlet submit` writes them.")
    var cells: String?

    @Flag(help: "Leave the index (<experiment>.h5) alone at the end; `gauntlet merge` rebuilds it (Slurm array tasks do this).")
    var noIndex = false

    func validate() throws {
        if let shard, Shard(shard) == nil { throw ValidationError("--shard takes i/N with 0 ≤ i < N, got '\(shard)'") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if let blasThreads, blasThreads < 1 { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
    }

    /// Resolves the grid, runs what is not complete yet, prints the table; a failed trial makes
    /// the exit status 1.
    func execute() throws {
        let grid = try Diagnostics.resolve(file, overrides: overrides)
        let display = ProgressDisplay()
        var runner = ExperimentRunner(
            grid: grid, outputDirectory: output, shard: shard.flatMap(Shard.init) ?? .all, jobs: jobs,
            failFast: failFast
        ) { line in
            if !quiet { display.log(line) }
        }
        runner.blasThreads = blasThreads
        runner.writesIndex = !noIndex
        if let shard = shard.flatMap(Shard.init) { runner.workerLogPrefix = "shard-\(shard.index)-of-\(shard.count)-worker" }
        if let cells {
            // The shard splits the list's units instead of the grid's trials.
            let selected: [String]
            do {
                let list = try WorkList.read(cells)
                try list.check(against: grid, file: cells)
                selected = list.trials(of: runner.shard)
            } catch {
                Diagnostics.printError("error: \(error)")
                throw ExitCode(2)
            }
            if !quiet { display.log("\(cells)\(shard.map { ", shard \($0)" } ?? ""): \(selected.count) trial(s)") }
            runner.onlyTrials = Set(selected)
            runner.shard = .all
        }
        if serve {
            ParentWatch.exitWhenOrphaned()
            runner.writesIndex = false
            while let line = readLine() {
                runner.onlyTrials = Set(line.split(separator: ",").map(String.init))
                do { _ = try runner.run() } catch { display.log("error: \(error)") }
                FileHandle.standardOutput.write(Data("done\n".utf8))
            }
            return
        }
        if let executable = Gauntlet.executable, !inProcess {
            runner.isolation = .init(executable: executable, arguments: [file] + overrides + ["--output", output])
        }
        if !quiet { runner.progress = { display.update(finished: $0, failed: $1, total: $2) } }
        let report: ExperimentRunner.Report
        do {
            report = try runner.run()
        } catch {
            Diagnostics.printError("error: \(error)")
            throw ExitCode.failure
        }
        try Diagnostics.conclude(
            report, experiment: grid.name, sharded: shard != nil || cells != nil || noIndex,
            indexWritten: !noIndex, json: json)
    }
}

/// `gauntlet merge FILE [key=value ...]`: rebuild the index of an experiment from its cell files.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild an experiment's index from its cell files (after sharded runs), without running anything.",
        discussion: "Give the same file and overrides as the runs. Exit status 1 when cells are missing or failed.")

    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Argument(help: "Overrides, as for `gauntlet run`.")
    var overrides: [String] = []

    @Option(name: .shortAndLong, help: "The folder that holds <experiment name>/.")
    var output = "results"

    func run() throws {
        let grid = try Diagnostics.resolve(file, overrides: overrides)
        let runner = ExperimentRunner(grid: grid, outputDirectory: output) { Diagnostics.printError($0) }
        let report: ExperimentRunner.Report
        do {
            report = try runner.rebuildIndex()
        } catch {
            Diagnostics.printError("error: \(error)")
            throw ExitCode.failure
        }
        try Diagnostics.conclude(report, experiment: grid.name)
    }
}

/// `gauntlet run FILE [key=value ...]`: train, evaluate, store, and print the results table.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an experiment file end to end and write its results under the output folder.",
        discussion: "Overrides (key.path=value) change the file for this run; sweep forms such as seed=0,1,2 add axes to the grid.")

    @OptionGroup var options: RunOptions

    func run() throws { try options.execute() }
}

/// `gauntlet sweep FILE key=a,b,c ...`: `run` with at least one override.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an experiment file over extra sweep axes given on the command line.",
        discussion: "Example: gauntlet sweep experiments/quickstart.yaml 'attacks[0].epsilon=linspace(0,0.1,5)' seed=0,1,2")

    @OptionGroup var options: RunOptions

    func validate() throws {
        if options.overrides.isEmpty { throw ValidationError("give at least one key=values override to sweep over (or use `gauntlet run`)") }
    }

    func run() throws { try options.execute() }
}
