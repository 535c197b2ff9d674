import Catalog
import Datasets
import Foundation
import Grid
import Reporting
import Spec

/// Runs a resolved grid: loads each distinct dataset once, runs every trial (a failing trial is
/// recorded and the others go on), writes the results file, and renders the summary table.
public struct ExperimentRunner {
    public var grid: ResolvedGrid
    /// The folder under which `<experiment name>/` is written.
    public var outputDirectory: String
    public var log: (String) -> Void

    public init(grid: ResolvedGrid, outputDirectory: String, log: @escaping (String) -> Void) {
        self.grid = grid
        self.outputDirectory = outputDirectory
        self.log = log
    }

    /// Where the results file of this experiment goes.
    public var resultsPath: String {
        "\(outputDirectory)/\(grid.name)/\(grid.name).h5"
    }

    public struct Report: Sendable {
        public var outcomes: [TrialOutcome]
        public var resultsPath: String
        public var table: String
        public var failedCount: Int { outcomes.filter { $0.status != .completed }.count }
    }

    public func run() throws -> Report {
        let provenance = Provenance.current(specFile: grid.document.file)
        log("gauntlet \(provenance.toolVersion): experiment '\(grid.name)', \(grid.trials.count) trial(s), BLAS \(provenance.blasCore) × \(provenance.blasThreads) threads")
        var datasets: [String: DatasetSplits] = [:]
        var outcomes: [TrialOutcome] = []
        let runner = TrialRunner(log: log)
        var testLabels: [Int] = []
        for resolved in grid.trials {
            let key = resolved.trial.spec.dataset.canonicalParameters
            if datasets[key] == nil {
                let start = Date()
                let data = try resolved.experiment.dataset.load()
                log("dataset \(type(of: resolved.experiment.dataset).kind): \(data.training.count) training, \(data.validation.count) validation, \(data.test.count) test samples (\(fmt(Date().timeIntervalSince(start), 1)) s)")
                datasets[key] = data
            }
            let data = datasets[key]!
            if testLabels.isEmpty { testLabels = data.test.labels }
            let outcome = runner.run(resolved, data: data)
            if case .failed(let message) = outcome.status { log("[\(resolved.trial.label)] FAILED: \(message)") }
            outcomes.append(outcome)
        }
        try ResultsWriter.write(outcomes, grid: grid, testLabels: testLabels, provenance: provenance, to: resultsPath)
        return Report(outcomes: outcomes, resultsPath: resultsPath, table: Self.table(outcomes))
    }

    /// One row per trial and evaluation: the model, every swept value, and every metric;
    /// failed trials show their message.
    public static func table(_ outcomes: [TrialOutcome]) -> String {
        var axes: [String] = []
        for outcome in outcomes {
            for (axis, _) in outcome.trial.parameters where axis != "model" && !axes.contains(axis) { axes.append(axis) }
        }
        var metrics: [String] = []
        for outcome in outcomes {
            for record in outcome.evaluations {
                for (name, _) in record.metrics where !metrics.contains(name) { metrics.append(name) }
            }
        }
        var table = TextTable(headers: ["model"] + axes + ["evaluation"] + metrics,
                              alignments: [.left] + axes.map { _ in .right } + [.left] + metrics.map { _ in .right })
        for outcome in outcomes {
            let values = axes.map { axis in outcome.trial.parameters.first { $0.axis == axis }?.value ?? "" }
            if case .failed(let message) = outcome.status {
                table.append([outcome.trial.modelName] + values + ["FAILED: \(message)"] + metrics.map { _ in "" })
                continue
            }
            for record in outcome.evaluations {
                let cells = metrics.map { name in record.metrics.first { $0.name == name }.map { TextTable.number($0.value) } ?? "" }
                table.append([outcome.trial.modelName] + values + [record.name] + cells)
            }
        }
        return table.render()
    }
}
