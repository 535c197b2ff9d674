import Catalog
import Datasets
import Evaluation
import Foundation
import Grid
import Layers
import Spec
import Storage
import Tensors

/// One trial's results as one HDF5 file, `cells/<trial id>.h5` (layout `format_version` 6,
/// documented in `schemas/results-format.md`). Written under a temporary name and renamed when
/// complete, right after the trial ends: a killed run loses at most the trial in flight.
public enum CellFile {
    public static let formatVersion: Int64 = 6

    /// What the index and the summary table need of a cell, read back from its file.
    public struct Summary: Sendable {
        public var trialID: String
        public var model: String
        public var repeatIndex: Int
        public var seed: UInt64
        public var parameters: [(axis: String, value: String)]
        public var status: TrialOutcome.Status
        /// Evaluation names, kinds, predictors and calibration methods, and every metric's values
        /// (one per evaluation).
        public var evaluations: [(name: String, kind: String, predictor: String, calibration: String)]
        public var metrics: [(name: String, values: [Double])]
    }

    public static func write(
        _ outcome: TrialOutcome, trial resolved: ResolvedTrial, grid: ResolvedGrid,
        testLabels: [Int], provenance: Provenance, started: Date, to destination: String
    ) throws {
        let trial = outcome.trial
        try AtomicFile.write(to: destination) { temporary in
            let file = try HDF5File.create(temporary)
            defer { file.close() }
            let formatter = ISO8601DateFormatter()
            let attributes: [(String, AttributeValue)] = [
                ("format_version", .integer(formatVersion)),
                ("gauntlet_version", .string(provenance.toolVersion)),
                ("experiment", .string(grid.name)),
                ("trial_id", .string(trial.id)),
                ("model", .string(trial.modelName)),
                ("repeat", .integer(Int64(trial.repeatIndex))),
                ("seed", .integer(Int64(bitPattern: trial.seed))),
                ("parameters", .string(parametersJSON(trial.parameters))),
                ("status", .string(outcome.status == .completed ? "completed" : "failed")),
                ("started", .string(formatter.string(from: started))),
                ("finished", .string(formatter.string(from: Date()))),
                ("training_seconds", .real(outcome.trainingSeconds)),
                ("evaluation_seconds", .real(outcome.evaluationSeconds)),
                ("spec_file", .string(grid.document.file)),
                ("git_commit", .string(provenance.gitCommit)),
                ("host", .string(provenance.host)),
                ("os", .string(provenance.operatingSystem)),
                ("blas_core", .string(provenance.blasCore)),
                ("blas_config", .string(provenance.blasConfiguration)),
                ("blas_threads", .integer(Int64(provenance.blasThreads))),
                ("cpu_model", .string(provenance.cpuModel)),
                ("cores", .integer(Int64(provenance.cores))),
                ("peak_memory_mib", .real(Provenance.peakMemoryMiB)),
            ]
            for (name, value) in attributes { try file.setAttribute(name, value) }
            if case .failed(let message) = outcome.status { try file.setAttribute("message", .string(message)) }
            if let source = resolved.model.source { try file.setAttribute("model_source", .string(source)) }
            try file.write("/spec", strings: [grid.document.text], scalar: true)
            try file.write("/resolved_spec", strings: [trial.resolvedSpec], scalar: true)
            try file.write("/spec_sources/path", strings: grid.document.sources.map(\.path))
            try file.write("/spec_sources/text", strings: grid.document.sources.map(\.text))
            try file.write("/test_labels", integers: testLabels.map(Int64.init), shape: [testLabels.count])
            if let names = resolved.experiment.dataset.classNames { try file.write("/class_names", strings: names) }
            if let targets = outcome.evaluations.first?.regression {
                try file.write("/test_targets", doubles: targets.targets, shape: [targets.count, targets.targetCount])
            }
            try file.setAttribute("dataset", .string(type(of: resolved.experiment.dataset).kind))
            try file.setAttribute("task", .string(resolved.experiment.task.rawValue))
            try file.setAttribute("loss", .string(resolved.model.loss.rawValue))
            try writeMetricColumns(resolved.experiment.metrics, to: file)
            if !outcome.stageSeconds.isEmpty {
                try file.write("/stages/name", strings: outcome.stageSeconds.map(\.stage))
                try file.write("/stages/seconds", doubles: outcome.stageSeconds.map(\.seconds), shape: [outcome.stageSeconds.count])
            }
            try writeResults(outcome, store: trial.spec.store, labels: testLabels, to: file)
        }
    }

    /// `/metric_columns` (every metric column with the direction reports mark the best by) and
    /// `/methods` (every metric's exact definition): a report reads them from the results alone.
    static func writeMetricColumns(_ metrics: [any Metric], to file: HDF5File) throws {
        let columns = metrics.flatMap { metric in metric.columns.map { (metric: metric.name, column: $0) } }
        if !columns.isEmpty {
            try file.write("/metric_columns/name", strings: columns.map(\.column.name))
            try file.write("/metric_columns/metric", strings: columns.map(\.metric))
            try file.write("/metric_columns/higher_is_better", integers: columns.map { $0.column.higherIsBetter ? 1 : 0 }, shape: [columns.count])
            try file.write("/metric_columns/ideal", doubles: columns.map { $0.column.ideal ?? .nan }, shape: [columns.count])
        }
        if !metrics.isEmpty {
            try file.write("/methods/metric", strings: metrics.map(\.name))
            try file.write("/methods/definition", strings: metrics.map(\.definition))
        }
    }

    static func writeResults(_ outcome: TrialOutcome, store: StoreSpec, labels: [Int], to file: HDF5File) throws {
        let evaluations = outcome.evaluations
        if !evaluations.isEmpty {
            let n = evaluations.count
            try file.write("/metrics/evaluation", strings: evaluations.map(\.name))
            try file.write("/metrics/kind", strings: evaluations.map(\.kind.rawValue))
            try file.write("/metrics/seconds", doubles: evaluations.map(\.seconds), shape: [n])
            try file.write("/evaluations/type", strings: evaluations.map(\.type))
            try file.write("/evaluations/severity", integers: evaluations.map { Int64($0.severity ?? 0) }, shape: [n])
            try file.write("/evaluations/budget", doubles: evaluations.map { $0.budget.map(decimal) ?? .nan }, shape: [n])
            try file.write("/evaluations/family", strings: evaluations.map { $0.family ?? "" })
            try file.write("/evaluations/predictor", strings: evaluations.map(\.predictor))
            try file.write("/evaluations/calibration", strings: evaluations.map(\.calibration))
            try writeAttackResults(evaluations.filter { $0.predictor == "model" && $0.calibration == "none" }, labels: labels, to: file)
            try writeEnsembleReports(evaluations, adversarial: store.adversarial, to: file)
            let shifted = evaluations.filter { $0.sampleIndices != nil && $0.predictor == "model" && $0.calibration == "none" }
            if !shifted.isEmpty {
                try file.write("/label_shift/evaluation", strings: shifted.map(\.name))
                try file.write(
                    "/label_shift/indices", integers: shifted.flatMap { $0.sampleIndices!.map(Int64.init) },
                    shape: [shifted.count, shifted[0].sampleIndices!.count])
            }
            for (index, metric) in evaluations[0].metrics.enumerated() {
                try file.write("/metrics/\(metric.name)", doubles: evaluations.map { $0.metrics[index].value }, shape: [n])
            }
            try writeMetricArrays(evaluations, to: file)
            try writeUncertainty(outcome, to: file)
            if store.predictions, let first = evaluations[0].regression {
                let shape = [n, first.count, first.targetCount]
                try file.write("/regression/mean", floats: evaluations.flatMap { $0.regression!.mean.map(Float.init) }, shape: shape)
                for (name, part) in [("aleatoric_variance", \RegressionBatch.aleatoric), ("epistemic_variance", \RegressionBatch.epistemic)] {
                    try file.write(
                        "/regression/\(name)",
                        floats: evaluations.flatMap { record in
                            record.regression![keyPath: part]?.map(Float.init) ?? Array(repeating: .nan, count: first.mean.count)
                        }, shape: shape)
                }
            } else if store.predictions {
                let samples = evaluations[0].predictions.count
                try file.write("/predictions", integers: evaluations.flatMap { $0.predictions.map(Int64.init) }, shape: [n, samples])
            }
            if let first = evaluations[0].logits {
                try file.write("/logits", floats: evaluations.flatMap { $0.logits?.scalars ?? [] }, shape: [n] + first.shape)
            }
            if let first = evaluations[0].examples {
                try file.write("/examples", floats: evaluations.flatMap { $0.examples?.scalars ?? [] }, shape: [n] + first.shape)
            }
        }
        let curve = outcome.learningCurve
        if !curve.isEmpty {
            let n = curve.count
            try file.write("/learning_curve/epoch", integers: curve.map { Int64($0.epoch) }, shape: [n])
            try file.write("/learning_curve/learning_rate", doubles: curve.map(\.learningRate), shape: [n])
            try file.write("/learning_curve/train_loss", doubles: curve.map(\.trainLoss), shape: [n])
            try file.write("/learning_curve/validation_loss", doubles: curve.map(\.validationLoss), shape: [n])
            try file.write("/learning_curve/validation_accuracy", doubles: curve.map(\.validationAccuracy), shape: [n])
            try file.write("/learning_curve/seconds", doubles: curve.map(\.seconds), shape: [n])
        }
        for (key, value) in outcome.stateDict where store.weights {
            if key.hasSuffix(".num_batches_tracked") {
                try file.write("/state_dict/\(key)", integers: value.scalars.map { Int64($0) }, shape: [])
            } else {
                try file.write("/state_dict/\(key)", floats: value.scalars, shape: value.shape)
            }
        }
        let summary = outcome.summary
        if !summary.isEmpty {
            try file.write("/summary/layer", strings: summary.map(\.name))
            try file.write("/summary/kind", strings: summary.map(\.kind))
            try file.write("/summary/output_shape", strings: summary.map { $0.outputShape.map(String.init).joined(separator: "x") })
            try file.write("/summary/parameters", integers: summary.map { Int64($0.parameterCount) }, shape: [summary.count])
            try file.write("/summary/multiply_accumulates", integers: summary.map { Int64($0.multiplyAccumulates) }, shape: [summary.count])
            try file.write("/summary/flops", integers: summary.map { Int64(2 * $0.multiplyAccumulates) }, shape: [summary.count])
        }
        if !outcome.modelGraph.isEmpty { try file.write("/model_graph", strings: [outcome.modelGraph], scalar: true) }
        if let interpretation = outcome.interpretation { try writeInterpretation(interpretation, to: file) }
    }

    /// `/interpret`: attributions, their quality and layer introspection (see
    /// schemas/results-format.md).
    static func writeInterpretation(_ result: Interpretation, to file: HDF5File) throws {
        let e = result.evaluations.count
        guard e > 0 else { return }
        let s = result.targets.first?.count ?? 0
        try file.write("/interpret/evaluations", strings: result.evaluations)
        try file.write("/interpret/targets", integers: result.targets.flatMap { $0.map(Int64.init) }, shape: [e, s])
        try file.write("/interpret/methods", strings: result.methods.map(\.label))
        func stacked(_ rows: [[Double]]) -> [Double] { rows.flatMap { $0 } }
        for method in result.methods {
            let group = "/interpret/attributions/\(method.label)"
            let mapShape = Array(method.maps[0].shape)
            try file.write("\(group)/maps", floats: method.maps.flatMap(\.scalars), shape: [e] + mapShape)
            try file.setAttribute("kind", .string(method.kind), on: group)
            try file.write("\(group)/display_scale", doubles: stacked(method.displayScale), shape: [e, s])
            if !method.deletion.isEmpty {
                let points = method.deletion[0].first?.count ?? 0
                try file.write("\(group)/deletion_curve", doubles: method.deletion.flatMap { $0.flatMap { $0 } }, shape: [e, s, points])
                try file.write("\(group)/insertion_curve", doubles: method.insertion.flatMap { $0.flatMap { $0 } }, shape: [e, s, points])
                try file.write("\(group)/deletion_auc", doubles: method.deletion.flatMap { $0.map(AttributionQuality.area) }, shape: [e, s])
                try file.write("\(group)/insertion_auc", doubles: method.insertion.flatMap { $0.map(AttributionQuality.area) }, shape: [e, s])
            }
            if !method.completenessError.isEmpty {
                try file.write("\(group)/completeness_error", doubles: stacked(method.completenessError), shape: [e, s])
                try file.write("\(group)/relative_completeness_error", doubles: stacked(method.relativeCompletenessError), shape: [e, s])
            }
            if !method.randomizationCorrelation.isEmpty {
                try file.write("\(group)/randomization_rank_correlation", doubles: method.randomizationCorrelation, shape: [s])
            }
            if !method.sensitivity.isEmpty {
                try file.write("\(group)/max_sensitivity", doubles: method.sensitivity, shape: [s])
            }
        }
        if !result.layers.isEmpty {
            let l = result.layers.count
            try file.write("/interpret/layer_statistics/layers", strings: result.layers)
            try file.write("/interpret/layer_statistics/mean", doubles: stacked(result.layerMean), shape: [e, l])
            try file.write("/interpret/layer_statistics/std", doubles: stacked(result.layerStd), shape: [e, l])
            try file.write("/interpret/layer_statistics/dead_fraction", doubles: stacked(result.deadFraction), shape: [e, l])
            try file.write("/interpret/layer_statistics/relative_change", doubles: stacked(result.relativeChange), shape: [e, l])
        }
        for (layer, maps) in zip(result.activationLayers, result.activations) where !maps.isEmpty {
            try file.write("/interpret/activations/\(layer)", floats: maps.flatMap(\.scalars), shape: [e] + maps[0].shape)
        }
        if !result.weightNames.isEmpty {
            try file.write("/interpret/weights/parameters", strings: result.weightNames)
            try file.write("/interpret/weights/statistics", doubles: stacked(result.weightStatistics), shape: [result.weightNames.count, 5])
            try file.setAttribute("columns", .string("[\"mean\",\"std\",\"min\",\"max\",\"l2_norm\"]"), on: "/interpret/weights/statistics")
        }
        if let filters = result.firstLayerFilters {
            try file.write("/interpret/first_layer_filters", floats: filters.scalars, shape: filters.shape)
        }
    }

    /// Every metric's arrays, `/metric_arrays/<metric>/<array>`: fixed arrays stacked `[E, …]`,
    /// curves concatenated over evaluations with `/metric_arrays/<metric>/offsets` `[E + 1]`
    /// (evaluation `e`'s points are `offsets[e] ..< offsets[e+1]`).
    static func writeMetricArrays(_ evaluations: [EvaluationRecord], to file: HDF5File) throws {
        var names: [(metric: String, array: String, layout: MetricArray.Layout)] = []
        for (metric, array) in evaluations[0].arrays { names.append((metric, array.name, array.layout)) }
        var offsetsWritten: Set<String> = []
        for (metric, name, layout) in names {
            let rows = evaluations.map { record in record.arrays.first { $0.metric == metric && $0.array.name == name }?.array }
            let path = "/metric_arrays/\(metric)/\(name)"
            switch layout {
            case .fixed(let shape):
                let count = shape.reduce(1, *)
                try file.write(path, doubles: rows.flatMap { $0?.values ?? Array(repeating: .nan, count: count) }, shape: [rows.count] + shape)
            case .curve:
                let values = rows.map { $0?.values ?? [] }
                try file.write(path, doubles: values.flatMap { $0 }, shape: [values.reduce(0) { $0 + $1.count }])
                if offsetsWritten.insert(metric).inserted {
                    var offsets: [Int64] = [0]
                    for row in values { offsets.append(offsets.last! + Int64(row.count)) }
                    try file.write("/metric_arrays/\(metric)/offsets", integers: offsets, shape: [offsets.count])
                }
            }
        }
    }

    /// Per-sample uncertainty scores, calibration fits and out-of-distribution detection.
    static func writeUncertainty(_ outcome: TrialOutcome, to file: HDF5File) throws {
        let scoreNames = outcome.uncertaintyScores
        let withScores = outcome.evaluations.indices.filter { outcome.evaluations[$0].uncertainty != nil }
        if !withScores.isEmpty {
            let samples = outcome.evaluations[withScores[0]].uncertainty![0].count
            try file.write("/uncertainty/scores", strings: scoreNames)
            try file.write("/uncertainty/evaluation", integers: withScores.map(Int64.init), shape: [withScores.count])
            try file.write(
                "/uncertainty/values", floats: withScores.flatMap { outcome.evaluations[$0].uncertainty!.flatMap { $0.map(Float.init) } },
                shape: [withScores.count, scoreNames.count, samples])
        }
        if !outcome.recordedLayers.isEmpty {
            try file.write("/uncertainty/layers", strings: outcome.recordedLayers)
            try file.write(
                "/uncertainty/layer_variance", doubles: outcome.evaluations.flatMap { $0.layerVariance ?? outcome.recordedLayers.map { _ in .nan } },
                shape: [outcome.evaluations.count, outcome.recordedLayers.count])
        }
        let fits = outcome.calibrationFits
        if !fits.isEmpty {
            try file.write("/calibration/predictor", strings: fits.map(\.predictor))
            try file.write("/calibration/method", strings: fits.map(\.method))
            try file.write("/calibration/validation_nll_before", doubles: fits.map(\.validationLossBefore), shape: [fits.count])
            try file.write("/calibration/validation_nll_after", doubles: fits.map(\.validationLossAfter), shape: [fits.count])
            try file.write("/calibration/validation_ece_before", doubles: fits.map(\.validationECEBefore), shape: [fits.count])
            try file.write("/calibration/validation_ece_after", doubles: fits.map(\.validationECEAfter), shape: [fits.count])
            for (index, fit) in fits.enumerated() {
                for (name, values) in fit.parameters {
                    try file.write("/calibration/parameters/\(index)/\(name)", doubles: values, shape: [values.count])
                }
            }
        }
        let detections = outcome.detections
        if !detections.isEmpty {
            let n = detections.count
            try file.write("/ood/source", strings: detections.map(\.source))
            try file.write("/ood/predictor", strings: detections.map(\.predictor))
            try file.write("/ood/score", strings: detections.map(\.score))
            try file.write("/ood/auroc", doubles: detections.map(\.detection.auroc), shape: [n])
            try file.write("/ood/aupr", doubles: detections.map(\.detection.aupr), shape: [n])
            try file.write("/ood/fpr_at_95_tpr", doubles: detections.map(\.detection.falsePositiveRateAt95), shape: [n])
            try file.write("/ood/sources", strings: outcome.outOfDistributionScores.map(\.source))
            try file.write("/ood/scores", strings: scoreNames)
            for (index, source) in outcome.outOfDistributionScores.enumerated() {
                let samples = source.scores.first?.first?.count ?? 0
                try file.write(
                    "/ood/sample_scores/\(index)", floats: source.scores.flatMap { $0.flatMap { $0.map(Float.init) } },
                    shape: [source.scores.count, scoreNames.count, samples])
            }
        }
    }

    /// Per-sample attack outcomes: `/attacks/success` (1 where the attacked input is
    /// misclassified) for every attack evaluation, and per attack family the smallest budget of
    /// its epsilon sweep that fooled each sample (`/attacks/min_epsilon`; 0 when the clean input
    /// is already misclassified, +∞ when no budget did).
    static func writeAttackResults(_ evaluations: [EvaluationRecord], labels: [Int], to file: HDF5File) throws {
        let attacks = evaluations.filter { $0.kind == .attack }
        guard !attacks.isEmpty, let clean = evaluations.first(where: { $0.kind == .clean }) else { return }
        let success = attacks.map { attack in zip(attack.predictions, labels).map { $0 != $1 } }
        try file.write("/attacks/evaluation", strings: attacks.map(\.name))
        try file.write("/attacks/success", integers: success.flatMap { $0.map { $0 ? 1 : 0 } }, shape: [attacks.count, labels.count])
        var families: [String] = []
        for attack in attacks where attack.budget != nil && !families.contains(attack.family ?? "") { families.append(attack.family ?? "") }
        guard !families.isEmpty else { return }
        var minimum: [Double] = []
        for family in families {
            var row = zip(clean.predictions, labels).map { $0 != $1 ? 0 : Double.infinity }
            for (attack, fooled) in zip(attacks, success) where attack.family == family {
                let budget = attack.budget.map(decimal) ?? .infinity
                for i in row.indices where fooled[i] { row[i] = min(row[i], budget) }
            }
            minimum += row
        }
        try file.write("/attacks/families", strings: families)
        try file.write("/attacks/min_epsilon", doubles: minimum, shape: [families.count, labels.count])
    }

    /// Per ensemble-attack evaluation `a` (in `/autoattack/evaluation` order), `/autoattack/<a>/`:
    /// `components` (`clean`, then the attacks in order), per sample `broken_by` (the index of
    /// the first component that broke it, −1 when robust) and `perturbation_norm` (NaN when
    /// robust), `robust_accuracy_after` each component, `warnings` (the sanity checks that
    /// fired; absent when none), `adversarial` (when stored) and the attribute `norm`.
    static func writeEnsembleReports(_ evaluations: [EvaluationRecord], adversarial: Bool, to file: HDF5File) throws {
        let reported = evaluations.compactMap { record in record.attackReport.map { (record.name, $0) } }
        guard !reported.isEmpty else { return }
        try file.write("/autoattack/evaluation", strings: reported.map(\.0))
        for (index, (_, report)) in reported.enumerated() {
            let group = "/autoattack/\(index)"
            let n = report.brokenBy.count
            try file.write("\(group)/components", strings: report.components)
            try file.write("\(group)/broken_by", integers: report.brokenBy.map(Int64.init), shape: [n])
            try file.write("\(group)/perturbation_norm", floats: report.norms, shape: [n])
            try file.write("\(group)/robust_accuracy_after", doubles: report.robustAccuracyAfter, shape: [report.components.count])
            if !report.warnings.isEmpty { try file.write("\(group)/warnings", strings: report.warnings) }
            if adversarial, let images = report.adversarial { try file.write("\(group)/adversarial", floats: images.scalars, shape: images.shape) }
            try file.setAttribute("norm", .string(report.norm), on: group)
        }
    }

    /// A Float budget as the Double of its shortest decimal text (0.1, not 0.10000000149), so
    /// readers can compare it with the values written in the experiment file.
    static func decimal(_ value: Float) -> Double { Double("\(value)") ?? Double(value) }

    /// The summary of a cell file, or nil when it is missing, unreadable, of another format or
    /// of another trial (a stale or half-copied file counts as missing, and the trial reruns).
    public static func summary(at path: String, trialID: String) -> Summary? {
        guard FileManager.default.fileExists(atPath: path), let file = try? HDF5File.open(path) else { return nil }
        defer { file.close() }
        guard (try? file.attribute("format_version")) == .integer(formatVersion),
            (try? file.attribute("trial_id")) == .string(trialID),
            case .string(let model)? = try? file.attribute("model"),
            case .string(let status)? = try? file.attribute("status"),
            case .integer(let repeatIndex)? = try? file.attribute("repeat"),
            case .integer(let seed)? = try? file.attribute("seed"),
            case .string(let parameters)? = try? file.attribute("parameters")
        else { return nil }
        var outcomeStatus = TrialOutcome.Status.completed
        if status != "completed" {
            let message: String
            if case .string(let text)? = try? file.attribute("message") { message = text } else { message = "failed" }
            outcomeStatus = .failed(message)
        }
        var evaluations: [(String, String, String, String)] = []
        var metrics: [(String, [Double])] = []
        if file.exists("/metrics/evaluation"), let names = try? file.readStrings("/metrics/evaluation"),
            let kinds = try? file.readStrings("/metrics/kind"), let members = try? file.members(of: "/metrics"),
            let predictors = try? file.readStrings("/evaluations/predictor"), let calibrations = try? file.readStrings("/evaluations/calibration")
        {
            evaluations = names.indices.map { (names[$0], kinds[$0], predictors[$0], calibrations[$0]) }
            for member in members where !["evaluation", "kind", "seconds"].contains(member) {
                if let values = try? file.readDoubles("/metrics/\(member)").values { metrics.append((member, values)) }
            }
        }
        return Summary(
            trialID: trialID, model: model, repeatIndex: Int(repeatIndex), seed: UInt64(bitPattern: seed),
            parameters: parseParameters(parameters), status: outcomeStatus, evaluations: evaluations, metrics: metrics)
    }

    static func parametersJSON(_ parameters: [(axis: String, value: String)]) -> String {
        "{" + parameters.map { "\(CanonicalJSON.quote($0.axis)):\(CanonicalJSON.quote($0.value))" }.joined(separator: ",") + "}"
    }

    /// Reads back `parametersJSON` (an object of strings, in order).
    static func parseParameters(_ text: String) -> [(axis: String, value: String)] {
        guard let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: String]
        else { return [] }
        // JSONSerialization loses key order; restore it from the text.
        return object.keys.sorted {
            (text.range(of: CanonicalJSON.quote($0))?.lowerBound ?? text.endIndex) < (text.range(of: CanonicalJSON.quote($1))?.lowerBound ?? text.endIndex)
        }
        .map { ($0, object[$0]!) }
    }
}
