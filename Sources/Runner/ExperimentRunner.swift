import Catalog
import Datasets
import Foundation
import Grid
import Reporting
import Spec

/// Runs a resolved experiment: loads its data, runs every trial (a failing trial is recorded
/// and the others go on), writes the results file, and renders the summary table.
public struct ExperimentRunner {
    public var experiment: ResolvedExperiment
    /// The folder under which `<experiment name>/` is written.
    public var outputDirectory: String
    public var log: (String) -> Void

    public init(experiment: ResolvedExperiment, outputDirectory: String, log: @escaping (String) -> Void) {
        self.experiment = experiment
        self.outputDirectory = outputDirectory
        self.log = log
    }

    /// Where the results file of this experiment goes.
    public var resultsPath: String {
        "\(outputDirectory)/\(experiment.spec.name)/\(experiment.spec.name).h5"
    }

    public struct Report: Sendable {
        public var outcomes: [TrialOutcome]
        public var resultsPath: String
        public var table: String
        public var failedCount: Int { outcomes.filter { $0.status != .completed }.count }
    }

    public func run() throws -> Report {
        let provenance = Provenance.current(specFile: experiment.document.file)
        log("gauntlet \(provenance.toolVersion): experiment '\(experiment.spec.name)', BLAS \(provenance.blasCore) × \(provenance.blasThreads) threads")
        let loadStart = Date()
        let data = try experiment.dataset.load()
        log("dataset \(type(of: experiment.dataset).kind): \(data.training.count) training, \(data.validation.count) validation, \(data.test.count) test samples (\(fmt(Date().timeIntervalSince(loadStart), 1)) s)")
        let runner = TrialRunner(experiment: experiment, data: data, log: log)
        let outcomes = GridExpansion.trials(for: experiment.spec).map { trial in
            let outcome = runner.run(trial)
            if case .failed(let message) = outcome.status { log("[\(trial.modelName)] FAILED: \(message)") }
            return outcome
        }
        try ResultsWriter.write(outcomes, experiment: experiment, testLabels: data.test.labels, provenance: provenance, to: resultsPath)
        return Report(outcomes: outcomes, resultsPath: resultsPath, table: Self.table(outcomes))
    }

    /// Model × evaluation table of accuracy and loss; failed trials show their message.
    public static func table(_ outcomes: [TrialOutcome]) -> String {
        var table = TextTable(headers: ["model", "evaluation", "accuracy", "loss"], alignments: [.left, .left, .right, .right])
        for outcome in outcomes {
            if case .failed(let message) = outcome.status {
                table.append([outcome.trial.modelName, "FAILED: \(message)", "", ""])
                continue
            }
            for record in outcome.evaluations {
                table.append([outcome.trial.modelName, record.name, TextTable.number(record.accuracy), TextTable.number(record.loss)])
            }
        }
        return table.render()
    }
}
