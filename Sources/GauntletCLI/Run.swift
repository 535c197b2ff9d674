import ArgumentParser
import Catalog
import Foundation
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

    /// Resolves the grid, runs it, prints the table; a failed trial makes the exit status 1.
    func execute() throws {
        let grid = try Diagnostics.resolve(file, overrides: overrides)
        let runner = ExperimentRunner(grid: grid, outputDirectory: output) { line in
            if !quiet { Diagnostics.printError(line) }
        }
        let report: ExperimentRunner.Report
        do {
            report = try runner.run()
        } catch {
            Diagnostics.printError("error: \(error)")
            throw ExitCode.failure
        }
        print(report.table, terminator: "")
        print("results: \(report.resultsPath)")
        if report.failedCount > 0 {
            Diagnostics.printError("error: \(report.failedCount) of \(report.outcomes.count) trial(s) failed; their messages are in the table and in \(report.resultsPath)")
            throw ExitCode.failure
        }
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
