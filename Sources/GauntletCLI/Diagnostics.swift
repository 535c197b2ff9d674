import ArgumentParser
import Catalog
import Foundation
import Runner
import Spec

/// How the commands report problems: on standard error, one line per problem, and a non-zero exit.
enum Diagnostics {
    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints a run's table and where its results are; failed cells, and missing ones unless
    /// other shards will bring them, exit with status 1.
    static func conclude(
        _ report: ExperimentRunner.Report, experiment: String, sharded: Bool = false, indexWritten: Bool = true,
        json: Bool = false
    ) throws {
        if json {
            print(RunSummary.json(report, experiment: experiment).pretty())
        } else if !indexWritten {
            let cells = URL(fileURLWithPath: report.resultsPath).deletingLastPathComponent().appendingPathComponent("cells").path
            print("cells: \(cells) (index not rebuilt; `gauntlet merge` does that)")
        } else {
            print(RunSummary.table(report.cells), terminator: "")
            print("results: \(report.resultsPath)")
        }
        let total = report.cells.count
        if report.failedCount > 0 {
            printError(
                "error: \(report.failedCount) of \(total) trial(s) failed; their messages are in the table and in their cell files (cells/<trial id>.h5)")
        }
        if report.missingCount > 0 {
            printError("note: \(report.missingCount) of \(total) trial(s) have no results yet (other shards, or not run)")
        }
        if report.failedCount > 0 || (report.missingCount > 0 && !sharded) || report.stoppedEarly { throw ExitCode.failure }
    }

    /// Resolves an experiment file (with overrides) or prints every problem in it and exits with status 2.
    static func resolve(_ file: String, overrides: [String]) throws -> ResolvedGrid {
        do {
            return try ResolvedGrid.load(file, overrides: overrides)
        } catch {
            for issue in error.issues { printError("error: \(issue)") }
            if error.issues.count > 1 { printError("\(file): \(error.issues.count) problems") }
            throw ExitCode(2)
        }
    }
}
