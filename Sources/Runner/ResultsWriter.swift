import Catalog
import Datasets
import Grid
import Layers
import Spec
import Foundation
import Storage
import Tensors

/// Writes an experiment's results as one HDF5 file (layout `format_version` 1, documented in
/// `schemas/results-format.md`), atomically: nothing appears under the final name unless every
/// write succeeded.
public enum ResultsWriter {
    public static let formatVersion: Int64 = 1

    public static func write(
        _ outcomes: [TrialOutcome], grid: ResolvedGrid, testLabels: [Int],
        provenance: Provenance, to destination: String
    ) throws {
        try AtomicFile.write(to: destination) { temporary in
            let file = try HDF5File.create(temporary)
            defer { file.close() }
            try file.setAttribute("format_version", .integer(formatVersion))
            try file.setAttribute("gauntlet_version", .string(provenance.toolVersion))
            try file.setAttribute("experiment", .string(grid.name))
            try file.setAttribute("spec_file", .string(grid.document.file))
            try file.setAttribute("trial_count", .integer(Int64(outcomes.count)))
            try file.setAttribute("created", .string(provenance.created))
            try file.setAttribute("git_commit", .string(provenance.gitCommit))
            try file.setAttribute("host", .string(provenance.host))
            try file.setAttribute("os", .string(provenance.operatingSystem))
            try file.setAttribute("blas_core", .string(provenance.blasCore))
            try file.setAttribute("blas_config", .string(provenance.blasConfiguration))
            try file.setAttribute("blas_threads", .integer(Int64(provenance.blasThreads)))
            try file.write("/spec", strings: [grid.document.text], scalar: true)
            try file.write("/spec_sources/path", strings: grid.document.sources.map(\.path))
            try file.write("/spec_sources/text", strings: grid.document.sources.map(\.text))
            try file.write("/dataset/test_labels", integers: testLabels.map(Int64.init), shape: [testLabels.count])
            if let first = grid.trials.first {
                try file.setAttribute("kind", .string(type(of: first.experiment.dataset).kind), on: "/dataset")
            }
            for outcome in outcomes { try writeTrial(outcome, to: file) }
        }
    }

    static func writeTrial(_ outcome: TrialOutcome, to file: HDF5File) throws {
        let trial = outcome.trial
        let group = "/trials/\(trial.id)"
        try file.createGroup(group)
        try file.setAttribute("trial_id", .string(trial.id), on: group)
        try file.setAttribute("index", .integer(Int64(trial.index)), on: group)
        try file.setAttribute("model", .string(trial.modelName), on: group)
        try file.setAttribute("repeat", .integer(Int64(trial.repeatIndex)), on: group)
        try file.setAttribute("seed", .integer(Int64(bitPattern: trial.seed)), on: group)
        let parameters = trial.parameters.map { "\(CanonicalJSON.quote($0.axis)):\(CanonicalJSON.quote($0.value))" }
        try file.setAttribute("parameters", .string("{" + parameters.joined(separator: ",") + "}"), on: group)
        switch outcome.status {
        case .completed:
            try file.setAttribute("status", .string("completed"), on: group)
        case .failed(let message):
            try file.setAttribute("status", .string("failed"), on: group)
            try file.setAttribute("message", .string(message), on: group)
        }
        try file.setAttribute("training_seconds", .real(outcome.trainingSeconds), on: group)
        try file.setAttribute("evaluation_seconds", .real(outcome.evaluationSeconds), on: group)

        let evaluations = outcome.evaluations
        if !evaluations.isEmpty {
            let n = evaluations.count
            try file.write("\(group)/metrics/evaluation", strings: evaluations.map(\.name))
            try file.write("\(group)/metrics/kind", strings: evaluations.map(\.kind.rawValue))
            for (index, metric) in evaluations[0].metrics.enumerated() {
                try file.write("\(group)/metrics/\(metric.name)", doubles: evaluations.map { $0.metrics[index].value }, shape: [n])
            }
            try file.write("\(group)/metrics/seconds", doubles: evaluations.map(\.seconds), shape: [n])
            let store = trial.spec.store
            if store.predictions {
                let samples = evaluations[0].predictions.count
                try file.write("\(group)/predictions", integers: evaluations.flatMap { $0.predictions.map(Int64.init) }, shape: [n, samples])
            }
            if let first = evaluations[0].logits {
                try file.write("\(group)/logits", floats: evaluations.flatMap { $0.logits?.scalars ?? [] }, shape: [n] + first.shape)
            }
            if let first = evaluations[0].examples {
                try file.write("\(group)/examples", floats: evaluations.flatMap { $0.examples?.scalars ?? [] }, shape: [n] + first.shape)
            }
        }
        let curve = outcome.learningCurve
        if !curve.isEmpty {
            let n = curve.count
            try file.write("\(group)/learning_curve/epoch", integers: curve.map { Int64($0.epoch) }, shape: [n])
            try file.write("\(group)/learning_curve/learning_rate", doubles: curve.map(\.learningRate), shape: [n])
            try file.write("\(group)/learning_curve/train_loss", doubles: curve.map(\.trainLoss), shape: [n])
            try file.write("\(group)/learning_curve/validation_loss", doubles: curve.map(\.validationLoss), shape: [n])
            try file.write("\(group)/learning_curve/validation_accuracy", doubles: curve.map(\.validationAccuracy), shape: [n])
            try file.write("\(group)/learning_curve/seconds", doubles: curve.map(\.seconds), shape: [n])
        }
        for (key, value) in outcome.stateDict where trial.spec.store.weights {
            if key.hasSuffix(".num_batches_tracked") {
                try file.write("\(group)/state_dict/\(key)", integers: value.scalars.map { Int64($0) }, shape: [])
            } else {
                try file.write("\(group)/state_dict/\(key)", floats: value.scalars, shape: value.shape)
            }
        }
        let summary = outcome.summary
        if !summary.isEmpty {
            try file.write("\(group)/summary/layer", strings: summary.map(\.name))
            try file.write("\(group)/summary/kind", strings: summary.map(\.kind))
            try file.write("\(group)/summary/output_shape", strings: summary.map { $0.outputShape.map(String.init).joined(separator: "x") })
            try file.write("\(group)/summary/parameters", integers: summary.map { Int64($0.parameterCount) }, shape: [summary.count])
            try file.write("\(group)/summary/multiply_accumulates", integers: summary.map { Int64($0.multiplyAccumulates) }, shape: [summary.count])
        }
    }
}
