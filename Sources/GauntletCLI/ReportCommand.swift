import ArgumentParser
import Foundation
import Reporting
import Results

/// `gauntlet report DIR...`: the paper-style report of stored results.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the report of stored results: report.html, report.md, tables/*.tex, figures/*.svg.",
        discussion: """
            Reads only the HDF5 files of the results folder (never reruns a model). Cells that are missing or \
            unreadable are named in the report and on standard error; the rest is reported. Several folders make \
            one comparison report with an `experiment` axis (give --output).
            """)

    @Argument(help: "Results folders (results/<experiment>).")
    var folders: [String]

    @Option(name: .shortAndLong, help: "The folder that receives the report (default: the results folder).")
    var output: String?

    @Option(help: "The model mCE and relative mCE are normalised by (default: the experiment file's report.baseline).")
    var baseline: String?

    @Option(
        name: .customLong("metric"),
        help: "A metric column plotted against every numeric sweep axis; repeatable (default: the experiment file's report.metrics, else its first column).")
    var metrics: [String] = []

    @Option(
        help:
            "Per-setting figures are drawn for at most this many settings (default: the experiment file's report.figure_settings, else 6; the tables hold all)."
    )
    var figureSettings: Int?

    func validate() throws {
        if folders.isEmpty { throw ValidationError("give a results folder, for example results/quickstart") }
        if folders.count > 1 && output == nil { throw ValidationError("a report over several results folders needs --output") }
        if let figureSettings, figureSettings < 1 { throw ValidationError("--figure-settings must be at least 1, got \(figureSettings)") }
    }

    func run() throws {
        var sets: [ResultSet] = []
        for folder in folders {
            do {
                sets.append(try ResultsFolder.read(folder))
            } catch {
                Diagnostics.printError("error: \(error)")
                throw ExitCode.failure
            }
        }
        var results = sets.count == 1 ? sets[0] : ResultSet.combining(sets)
        if let baseline { results.baseline = baseline }
        if !metrics.isEmpty { results.comparedMetrics = metrics }
        let columns = Set(results.cells.flatMap { $0.metrics.map(\.name) })
        for metric in results.comparedMetrics where !columns.contains(metric) {
            Diagnostics.printError(
                "warning: no metric column '\(metric)' in the results (columns: \(columns.sorted().joined(separator: ", "))); it is not plotted")
        }
        if let baseline = results.baseline, !results.cells.contains(where: { $0.model == baseline }) {
            Diagnostics.printError(
                "warning: the baseline model '\(baseline)' has no results; mCE and relative mCE are left empty (models: \(Set(results.cells.map(\.model)).sorted().joined(separator: ", ")))"
            )
        }
        for problem in results.problems { Diagnostics.printError("warning: \(problem)") }
        var command = ["gauntlet", "report"] + folders
        if let output { command += ["--output", output] }
        if let baseline { command += ["--baseline", baseline] }
        var builder = ReportBuilder(results: results, reportCommand: command.joined(separator: " "))
        builder.figureSettings = figureSettings ?? results.figureSettings ?? 6
        let destination = output ?? results.folder
        let written: ReportFiles.Written
        do {
            written = try ReportFiles.write(builder.build(), to: destination)
        } catch {
            Diagnostics.printError("error: cannot write the report into \(destination): \(error)")
            throw ExitCode.failure
        }
        for warning in written.warnings { Diagnostics.printError("warning: \(warning)") }
        let pdf = !written.pdfs.isEmpty
        print(
            "report: \(written.html) (\(written.tables.count) tables, \(written.figures.count) figures; also report.md, tables/*.tex, figures/*.svg\(pdf ? " and *.pdf" : ""))"
        )
    }
}
