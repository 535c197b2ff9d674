import Foundation
import Reporting
import Storage

extension ResultsFolder {
    /// Why a cell file cannot be reported.
    struct CellError: Error, CustomStringConvertible {
        var description: String
    }

    /// One cell file as the report needs it. Its identity, status and evaluations must read;
    /// each optional part (curves, uncertainty, attributions) is left out when it does not.
    static func readCell(_ path: String, trialID: String) throws -> CellResult {
        let file = try HDF5File.open(path)
        defer { file.close() }
        guard case .integer(let format)? = try file.attribute("format_version") else { throw CellError(description: "no format_version attribute") }
        guard readableFormats.contains(format) else {
            throw CellError(
                description: "results format \(format); this version reads formats \(readableFormats.sorted().map(String.init).joined(separator: ", "))")
        }
        guard try file.attribute("trial_id") == .string(trialID) else { throw CellError(description: "holds another trial than \(trialID)") }
        var attributes: [(name: String, value: String)] = []
        var model = "", status = "", message = "", parameters = "{}"
        var repeatIndex = 0, seed: UInt64 = 0, training = Double.nan, evaluation = Double.nan
        for name in [
            "gauntlet_version", "git_commit", "started", "finished", "host", "os", "cpu_model", "cores", "blas_core",
            "blas_config", "blas_threads", "peak_memory_mib", "dataset", "task", "loss",
        ] {
            switch try? file.attribute(name) {
            case .string(let value)?: attributes.append((name, value))
            case .integer(let value)?: attributes.append((name, String(value)))
            case .real(let value)?: attributes.append((name, TextTable.number(value, decimals: 1)))
            case nil: break
            }
        }
        if case .string(let value)? = try file.attribute("model") { model = value }
        if case .string(let value)? = try file.attribute("status") { status = value }
        if case .string(let value)? = try? file.attribute("message") { message = value }
        if case .string(let value)? = try file.attribute("parameters") { parameters = value }
        if case .integer(let value)? = try file.attribute("repeat") { repeatIndex = Int(value) }
        if case .integer(let value)? = try file.attribute("seed") { seed = UInt64(bitPattern: value) }
        if case .real(let value)? = try? file.attribute("training_seconds") { training = value }
        if case .real(let value)? = try? file.attribute("evaluation_seconds") { evaluation = value }
        guard !model.isEmpty, !status.isEmpty else { throw CellError(description: "no model or status attribute") }
        var cell = CellResult(
            trialID: trialID, model: model, repeatIndex: repeatIndex, seed: seed,
            parameters: CellFile.parseParameters(parameters), completed: status == "completed",
            message: message, attributes: attributes, trainingSeconds: training, evaluationSeconds: evaluation)
        if file.exists("/learning_curve/epoch") {
            cell.learningCurve = try? LearningCurve(
                epoch: file.readIntegers("/learning_curve/epoch").values.map(Double.init),
                trainLoss: file.readDoubles("/learning_curve/train_loss").values,
                validationLoss: file.readDoubles("/learning_curve/validation_loss").values,
                validationAccuracy: file.readDoubles("/learning_curve/validation_accuracy").values)
        }
        if let names = try? file.readStrings("/stages/name"), let seconds = try? file.readDoubles("/stages/seconds").values, names.count == seconds.count {
            cell.stages = Array(zip(names, seconds))
        }
        guard file.exists("/metrics/evaluation") else { return cell }
        try readEvaluations(file, into: &cell)
        let clean = cleanPredictions(file, cell: cell)
        readArrays(file, clean: clean, into: &cell)
        readUncertainty(file, into: &cell)
        readAttacks(file, clean: clean, into: &cell)
        readEnsembles(file, into: &cell)
        readInterpretation(file, into: &cell)
        return cell
    }

    static func readEvaluations(_ file: HDF5File, into cell: inout CellResult) throws {
        let names = try file.readStrings("/metrics/evaluation")
        let kinds = try file.readStrings("/metrics/kind")
        let seconds = try file.readDoubles("/metrics/seconds").values
        let types = try file.readStrings("/evaluations/type")
        let severities = try file.readIntegers("/evaluations/severity").values
        let budgets = try file.readDoubles("/evaluations/budget").values
        let families = try file.readStrings("/evaluations/family")
        let predictors = try file.readStrings("/evaluations/predictor")
        let calibrations = try file.readStrings("/evaluations/calibration")
        let e = names.count
        guard
            [kinds.count, seconds.count, types.count, severities.count, budgets.count, families.count, predictors.count, calibrations.count].allSatisfy({
                $0 == e
            })
        else {
            throw CellError(description: "/metrics and /evaluations disagree on the number of evaluations")
        }
        cell.evaluations = names.indices.map { i in
            EvaluationInfo(
                name: names[i], kind: kinds[i], type: types[i], severity: Int(severities[i]), budget: budgets[i],
                family: families[i], predictor: predictors[i], calibration: calibrations[i], seconds: seconds[i])
        }
        // Metric columns in the experiment's order (format 6), then the other columns.
        var order: [String] = []
        if file.exists("/metric_columns/name") {
            order = try file.readStrings("/metric_columns/name")
            let better = try file.readIntegers("/metric_columns/higher_is_better").values
            let ideal = try file.readDoubles("/metric_columns/ideal").values
            for (index, name) in order.enumerated() {
                cell.directions[name] = ColumnDirection(higherIsBetter: better[index] != 0, ideal: ideal[index].isNaN ? nil : ideal[index])
            }
        }
        let members = try file.members(of: "/metrics").filter { !["evaluation", "kind", "seconds"].contains($0) }
        for name in order.filter(members.contains) + members.filter({ !order.contains($0) }) {
            let values = try file.readDoubles("/metrics/\(name)").values
            guard values.count == e else { throw CellError(description: "/metrics/\(name) has \(values.count) values for \(e) evaluations") }
            cell.metrics.append((name, values))
        }
        if file.exists("/methods/metric") {
            cell.definitions = Array(zip(try file.readStrings("/methods/metric"), try file.readStrings("/methods/definition")))
        }
    }

    /// Rows of a `[E, …]` array, each `count` long.
    static func rows(_ values: [Double], count: Int) -> [[Double]] {
        guard count > 0 else { return [] }
        return stride(from: 0, to: values.count, by: count).map { Array(values[$0..<min(values.count, $0 + count)]) }
    }

    /// Reliability bins, ROC and PR curves, and confusion counts (from the confusion-matrix
    /// metric, or else from the stored predictions of the clean evaluation).
    /// The clean evaluation's index, the test labels and the model's predictions on it.
    typealias CleanPredictions = (index: Int, labels: [Int], predicted: [Int])

    /// The test labels and the model's uncalibrated clean predictions (from `/predictions`),
    /// read once for the confusion matrix and the attack outcomes; nil when not stored.
    static func cleanPredictions(_ file: HDF5File, cell: CellResult) -> CleanPredictions? {
        guard let labels = try? file.readIntegers("/test_labels").values.map(Int.init), !labels.isEmpty,
            let predictions = try? file.readIntegers("/predictions"), predictions.shape.count == 2,
            predictions.shape[0] == cell.evaluations.count, predictions.shape[1] == labels.count,
            let clean = cell.evaluations.firstIndex(where: { $0.kind == "clean" && $0.isModelUncalibrated })
        else { return nil }
        let n = labels.count
        return (clean, labels, predictions.values[(clean * n)..<((clean + 1) * n)].map(Int.init))
    }

    static func readArrays(_ file: HDF5File, clean: CleanPredictions?, into cell: inout CellResult) {
        let e = cell.evaluations.count
        let binned = ((try? file.members(of: "/metric_arrays")) ?? []).first { file.exists("/metric_arrays/\($0)/bin_count") }
        if let metric = binned, let count = try? file.readDoubles("/metric_arrays/\(metric)/bin_count") {
            let b = count.shape.last ?? 0
            func part(_ name: String) -> [[Double]] { rows((try? file.readDoubles("/metric_arrays/\(metric)/\(name)").values) ?? [], count: b) }
            let lower = part("bin_lower"), upper = part("bin_upper"), confidence = part("bin_confidence"), accuracy = part("bin_accuracy")
            let counts = rows(count.values, count: b)
            if [lower.count, upper.count, confidence.count, accuracy.count, counts.count].allSatisfy({ $0 == e }) {
                cell.reliability = (0..<e).map {
                    ReliabilityBinsData(lower: lower[$0], upper: upper[$0], confidence: confidence[$0], accuracy: accuracy[$0], count: counts[$0])
                }
            }
        }
        if file.exists("/class_names"), let names = try? file.readStrings("/class_names") { cell.classNames = names }
        cell.roc = curves(file, metric: "auroc", x: "fpr", y: "tpr", evaluations: e)
        cell.precisionRecall = curves(file, metric: "average_precision", x: "recall", y: "precision", evaluations: e)
        if let counts = try? file.readDoubles("/metric_arrays/confusion_matrix/counts"), counts.shape.count == 3, counts.shape[0] == e {
            cell.classCount = counts.shape[1]
            cell.confusion = rows(counts.values, count: counts.shape[1] * counts.shape[2])
        } else if let clean {
            let k = max(clean.labels.max() ?? 0, clean.predicted.max() ?? 0) + 1
            var counts = [Double](repeating: 0, count: k * k)
            for (label, predicted) in zip(clean.labels, clean.predicted) where label >= 0 && predicted >= 0 {
                counts[label * k + predicted] += 1
            }
            cell.classCount = k
            cell.confusion = (0..<e).map { $0 == clean.index ? counts : [] }
        }
        if let rows = try? file.readStrings("/ood/source"), let predictors = try? file.readStrings("/ood/predictor"),
            let scores = try? file.readStrings("/ood/score"), let auroc = try? file.readDoubles("/ood/auroc").values,
            let aupr = try? file.readDoubles("/ood/aupr").values, let fpr = try? file.readDoubles("/ood/fpr_at_95_tpr").values,
            [predictors.count, scores.count, auroc.count, aupr.count, fpr.count].allSatisfy({ $0 == rows.count })
        {
            cell.detections = rows.indices.map {
                DetectionRow(source: rows[$0], predictor: predictors[$0], score: scores[$0], auroc: auroc[$0], aupr: aupr[$0], fprAt95: fpr[$0])
            }
        }
    }

    /// A ranking metric's curves per evaluation and class (`offsets` delimit evaluations).
    static func curves(_ file: HDF5File, metric: String, x: String, y: String, evaluations e: Int) -> [[Curve]] {
        let group = "/metric_arrays/\(metric)"
        guard let offsets = try? file.readIntegers("\(group)/offsets").values, offsets.count == e + 1,
            let xs = try? file.readDoubles("\(group)/\(x)").values, let ys = try? file.readDoubles("\(group)/\(y)").values,
            let classes = try? file.readDoubles("\(group)/class").values,
            xs.count == ys.count, xs.count == classes.count, Int(offsets.last!) == xs.count
        else { return [] }
        return (0..<e).map { evaluation in
            var curves: [Curve] = []
            for i in Int(offsets[evaluation])..<Int(offsets[evaluation + 1]) {
                let c = Int(classes[i])
                if curves.last?.positiveClass != c { curves.append(Curve(positiveClass: c, x: [], y: [])) }
                curves[curves.count - 1].x.append(xs[i])
                curves[curves.count - 1].y.append(ys[i])
            }
            return curves
        }
    }

    static func readUncertainty(_ file: HDF5File, into cell: inout CellResult) {
        guard let scores = try? file.readStrings("/uncertainty/scores"),
            let evaluations = try? file.readIntegers("/uncertainty/evaluation").values,
            let values = try? file.readFloats("/uncertainty/values"), values.shape.count == 3,
            values.shape[0] == evaluations.count, values.shape[1] == scores.count
        else { return }
        let n = values.shape[2]
        let table = (0..<evaluations.count).map { u in
            (0..<scores.count).map { s in values.values[((u * scores.count) + s) * n..<((u * scores.count) + s + 1) * n].map(Double.init) }
        }
        var sets: [(source: String, values: [[Double]])] = []
        for (index, source) in ((try? file.readStrings("/ood/sources")) ?? []).enumerated() {
            guard let sample = try? file.readFloats("/ood/sample_scores/\(index)"), sample.shape.count == 3, sample.shape[1] == scores.count else { continue }
            let m = sample.shape[2]
            // Predictor 0 is the model.
            sets.append((source, (0..<scores.count).map { s in sample.values[(s * m)..<((s + 1) * m)].map(Double.init) }))
        }
        cell.uncertainty = UncertaintyData(scores: scores, evaluations: evaluations.map(Int.init), values: table, outOfDistribution: sets)
    }

    static func readAttacks(_ file: HDF5File, clean: CleanPredictions?, into cell: inout CellResult) {
        guard let names = try? file.readStrings("/attacks/evaluation"), let success = try? file.readIntegers("/attacks/success"),
            success.shape.count == 2, success.shape[0] == names.count
        else { return }
        let n = success.shape[1]
        var cleanWrong = [Bool](repeating: false, count: n)
        if let clean, clean.labels.count == n { cleanWrong = zip(clean.predicted, clean.labels).map { $0 != $1 } }
        cell.attacks = AttackData(
            evaluations: names, success: (0..<names.count).map { a in success.values[(a * n)..<((a + 1) * n)].map { $0 != 0 } },
            cleanWrong: cleanWrong)
    }

    /// Every ensemble attack's report (`/autoattack`, written by `CellFile.writeEnsembleReports`).
    static func readEnsembles(_ file: HDF5File, into cell: inout CellResult) {
        guard let names = try? file.readStrings("/autoattack/evaluation") else { return }
        for (index, name) in names.enumerated() {
            let group = "/autoattack/\(index)"
            guard let components = try? file.readStrings("\(group)/components"),
                let brokenBy = try? file.readIntegers("\(group)/broken_by").values,
                let norms = try? file.readFloats("\(group)/perturbation_norm").values, norms.count == brokenBy.count,
                let after = try? file.readDoubles("\(group)/robust_accuracy_after").values, after.count == components.count
            else { continue }
            let warnings = file.exists("\(group)/warnings") ? ((try? file.readStrings("\(group)/warnings")) ?? []) : []
            cell.ensembles.append(
                EnsembleData(
                    evaluation: name, components: components, brokenBy: brokenBy.map(Int.init), norms: norms.map(Double.init), robustAccuracyAfter: after,
                    warnings: warnings))
        }
    }

    /// The clean evaluation's attribution maps (summed over channels) and the per-layer statistics.
    static func readInterpretation(_ file: HDF5File, into cell: inout CellResult) {
        guard let methods = try? file.readStrings("/interpret/methods") else { return }
        let targets = (try? file.readIntegers("/interpret/targets"))
        for label in methods {
            let group = "/interpret/attributions/\(label)"
            guard let maps = try? file.readFloats("\(group)/maps"), maps.shape.count == 5,
                let scales = try? file.readDoubles("\(group)/display_scale").values
            else { continue }
            let (s, c, h, w) = (maps.shape[1], maps.shape[2], maps.shape[3], maps.shape[4])
            let summed = (0..<s).map { sample in
                (0..<(h * w)).map { pixel in (0..<c).reduce(0.0) { $0 + Double(maps.values[((sample * c) + $1) * h * w + pixel]) } }
            }
            let deletion = (try? file.readDoubles("\(group)/deletion_auc").values) ?? []
            let insertion = (try? file.readDoubles("\(group)/insertion_auc").values) ?? []
            cell.attributions.append(
                AttributionData(
                    label: label, maps: summed, scales: Array(scales.prefix(s)), height: h, width: w,
                    targets: targets.map { Array($0.values.prefix(s)).map(Int.init) } ?? [],
                    deletionAUC: Array(deletion.prefix(s)), insertionAUC: Array(insertion.prefix(s))))
        }
        if let layers = try? file.readStrings("/interpret/layer_statistics/layers"),
            let evaluations = try? file.readStrings("/interpret/evaluations"),
            let change = try? file.readDoubles("/interpret/layer_statistics/relative_change").values,
            let dead = try? file.readDoubles("/interpret/layer_statistics/dead_fraction").values,
            change.count == layers.count * evaluations.count, dead.count == change.count
        {
            cell.layerStatistics = LayerStatisticsData(
                layers: layers, evaluations: evaluations,
                relativeChange: rows(change, count: layers.count), deadFraction: rows(dead, count: layers.count))
        }
    }
}
