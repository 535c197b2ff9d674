import Catalog
import Foundation
import Grid
import Reporting
import Results
import Runner
import Spec

/// What `gauntlet run` and `merge` print of a run: its summary table, or its JSON (`--json`).
enum RunSummary {
    /// A machine-readable summary of a run (`gauntlet run --json`).
    static func json(_ report: ExperimentRunner.Report, experiment: String) -> JSONValue {
        func state(_ summary: CellFile.Summary?) -> String {
            switch summary?.status {
            case .completed?: "completed";
            case .failed?: "failed";
            case nil: "missing"
            }
        }
        let cells: [JSONValue] = report.cells.map { resolved, summary in
            var members: [(String, JSONValue)] = [
                ("trial_id", .string(resolved.trial.id)), ("model", .string(resolved.trial.modelName)),
                ("seed", .string(String(resolved.trial.seed))), ("repeat", .integer(resolved.trial.repeatIndex)),
                ("parameters", .object(resolved.trial.parameters.map { ($0.axis, .string($0.value)) })),
                ("status", .string(state(summary))),
            ]
            if case .failed(let message)? = summary?.status { members.append(("message", .string(message))) }
            if let summary {
                members.append(("evaluations", .array(summary.evaluations.map { .string($0.name) })))
                members.append(("predictors", .array(summary.evaluations.map { .string($0.predictor) })))
                members.append(("calibrations", .array(summary.evaluations.map { .string($0.calibration) })))
                members.append(("metrics", .object(summary.metrics.map { ($0.name, .array($0.values.map { .number($0) })) })))
            }
            return .object(members)
        }
        return .object([
            ("experiment", .string(experiment)), ("results", .string(report.resultsPath)),
            ("trials", .integer(report.cells.count)), ("ran", .integer(report.ran)), ("skipped", .integer(report.skipped)),
            ("failed", .integer(report.failedCount)), ("missing", .integer(report.missingCount)),
            ("stopped_early", .bool(report.stoppedEarly)), ("cells", .array(cells)),
        ])
    }

    /// One row per trial and evaluation: the model, every swept value, and every metric;
    /// failed trials show their message, missing ones say so.
    static func table(_ cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)]) -> String {
        let summary = RepeatSummary(cells)
        let axes = summary.axes, metrics = summary.metrics
        let evaluations = cells.flatMap { $0.summary?.evaluations ?? [] }
        // Predictor and calibration columns appear when some evaluation is not the plain model
        // or is calibrated; with repeats, a column says how many completed of those asked for.
        let predictors = evaluations.contains { $0.predictor != "model" }, calibrations = evaluations.contains { $0.calibration != "none" }
        let repeated = summary.requestedRepeats > 1
        let variantHeaders = (predictors ? ["predictor"] : []) + (calibrations ? ["calibration"] : []) + (repeated ? ["repeats"] : [])
        var table = TextTable(
            headers: ["model"] + axes + ["evaluation"] + variantHeaders + metrics,
            alignments: [.left] + axes.map { _ in .right } + [.left] + variantHeaders.map { _ in .left } + metrics.map { _ in .right })
        func variant(predictor: String, calibration: String, repeats: String) -> [String] {
            (predictors ? [predictor] : []) + (calibrations ? [calibration] : []) + (repeated ? [repeats] : [])
        }
        if repeated {
            for row in summary.rows {
                let shown = zip(row.mean, row.standardDeviation).map { mean, std in
                    std.isNaN ? TextTable.number(mean) : "\(TextTable.number(mean)) ± \(TextTable.number(std))"
                }
                table.append(
                    [row.model] + row.values + [row.evaluation]
                        + variant(predictor: row.predictor, calibration: row.calibration, repeats: "\(row.repeats)/\(summary.requestedRepeats)") + shown)
            }
        }
        for (resolved, cellSummary) in cells {
            let trial = resolved.trial
            let values = axes.map { axis in trial.parameters.first { $0.axis == axis }?.value ?? "" }
            let blank = variantHeaders.map { _ in "" } + metrics.map { _ in "" }
            let which = repeated ? " (repeat \(trial.repeatIndex))" : ""
            guard let cellSummary else {
                table.append([trial.modelName] + values + ["missing (not run yet)\(which)"] + blank)
                continue
            }
            if case .failed(let message) = cellSummary.status {
                table.append([trial.modelName] + values + ["FAILED\(which): \(message)"] + blank)
                continue
            }
            guard !repeated else { continue }
            for (index, evaluation) in cellSummary.evaluations.enumerated() {
                let numbers = metrics.map { name in cellSummary.metrics.first { $0.name == name }.map { TextTable.number($0.values[index]) } ?? "" }
                table.append(
                    [trial.modelName] + values + [evaluation.name]
                        + variant(predictor: evaluation.predictor, calibration: evaluation.calibration, repeats: "") + numbers)
            }
        }
        return table.render()
    }
}
