import ArgumentParser
import Catalog
import Foundation
import Runner

/// `gauntlet run FILE`: train, evaluate, store, and print the results table.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an experiment file end to end and write its results under the output folder.")

    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Option(name: .shortAndLong, help: "The folder that receives <experiment name>/<experiment name>.h5.")
    var output = "results"

    @Flag(name: .shortAndLong, help: "Print only the results table.")
    var quiet = false

    func run() throws {
        let experiment = try Diagnostics.resolve(file)
        let runner = ExperimentRunner(experiment: experiment, outputDirectory: output) { line in
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
