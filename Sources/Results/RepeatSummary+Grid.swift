import Catalog
import Grid
import Reporting
import Spec

extension RepeatSummary {
    /// The summary of a run's cells: the axes are those of every trial of the grid (present or
    /// not), the requested repeats the spec's.
    public init(_ cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)]) {
        var axes: [String] = []
        for (resolved, _) in cells {
            for (axis, _) in resolved.trial.parameters where axis != "model" && axis != "repeat" && !axes.contains(axis) { axes.append(axis) }
        }
        self.init(cells.compactMap { $0.summary?.result }, requestedRepeats: cells.first?.trial.trial.spec.repeats ?? 1, axes: axes)
    }
}

extension CellFile.Summary {
    /// The summary as the report's cell record (metrics and evaluations only).
    var result: CellResult {
        var cell = CellResult(
            trialID: trialID, model: model, repeatIndex: repeatIndex, seed: seed, parameters: parameters,
            completed: status == .completed, message: "")
        cell.evaluations = evaluations.map { EvaluationInfo(name: $0.name, kind: $0.kind, predictor: $0.predictor, calibration: $0.calibration) }
        cell.metrics = metrics
        return cell
    }
}
