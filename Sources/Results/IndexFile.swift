import Catalog
import Foundation
import Grid
import Reporting
import Spec
import Storage

/// The experiment's index, `results/<name>/<name>.h5`: one file that links every cell (HDF5
/// external links to `cells/<id>.h5`), lists every trial of the current grid with its status, and
/// holds a flat table of all scalar metrics with the sweep parameters as columns, one row per
/// trial and evaluation, for pandas and h5py users. Rebuilt from the cell files after every run
/// and by `gauntlet merge`; cells of other specs in the folder are never included.
public enum IndexFile {
    /// Columns every table has; a swept axis with one of these names (`seed`, `repeat`) is
    /// stored as `<name>_swept` (the `seed` column holds each trial's own, derived seed).
    static let fixedColumns: Set<String> = ["trial_id", "model", "repeat", "seed", "evaluation", "kind", "predictor", "calibration"]

    static func columnName(_ axis: String) -> String { fixedColumns.contains(axis) ? "\(axis)_swept" : axis }

    public static func write(
        grid: ResolvedGrid, cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)],
        provenance: Provenance, to destination: String
    ) throws {
        try AtomicFile.write(to: destination) { temporary in
            let file = try HDF5File.create(temporary)
            defer { file.close() }
            let present = cells.compactMap { cell in cell.summary.map { (cell.trial, $0) } }
            let complete = present.filter { $0.1.status == .completed }.count
            let attributes: [(String, AttributeValue)] = [
                ("format_version", .integer(CellFile.formatVersion)),
                ("gauntlet_version", .string(provenance.toolVersion)),
                ("experiment", .string(grid.name)),
                ("spec_file", .string(grid.document.file)),
                ("created", .string(provenance.created)),
                ("git_commit", .string(provenance.gitCommit)),
                ("host", .string(provenance.host)),
                ("trial_count", .integer(Int64(cells.count))),
                ("complete", .integer(Int64(complete))),
                ("failed", .integer(Int64(present.count - complete))),
                ("missing", .integer(Int64(cells.count - present.count))),
            ]
            for (name, value) in attributes { try file.setAttribute(name, value) }
            try file.write("/spec", strings: [grid.document.text], scalar: true)
            try file.write("/spec_sources/path", strings: grid.document.sources.map(\.path))
            try file.write("/spec_sources/text", strings: grid.document.sources.map(\.text))
            try file.write("/overrides", strings: grid.document.overrides)

            // Every trial of the grid, present or not.
            try file.write("/trials/trial_id", strings: cells.map(\.trial.trial.id))
            try file.write("/trials/model", strings: cells.map(\.trial.trial.modelName))
            try file.write("/trials/repeat", integers: cells.map { Int64($0.trial.trial.repeatIndex) }, shape: [cells.count])
            try file.write("/trials/seed", integers: cells.map { Int64(bitPattern: $0.trial.trial.seed) }, shape: [cells.count])
            try file.write(
                "/trials/status",
                strings: cells.map { cell in
                    switch cell.summary?.status {
                    case .completed?: "completed";
                    case .failed?: "failed";
                    case nil: "missing"
                    }
                })
            try file.write(
                "/trials/message",
                strings: cells.map { cell in
                    if case .failed(let message)? = cell.summary?.status { return message }
                    return ""
                })
            try file.write("/trials/file", strings: cells.map { $0.summary == nil ? "" : "cells/\($0.trial.trial.id).h5" })
            for (trial, _) in present { try file.linkExternal("/cells/\(trial.trial.id)", file: "cells/\(trial.trial.id).h5") }

            // The flat table: one row per present trial and evaluation.
            var axes: [String] = []
            var metrics: [String] = []
            for (trial, summary) in present {
                for (axis, _) in trial.trial.parameters where !axes.contains(axis) { axes.append(axis) }
                for (name, _) in summary.metrics where !metrics.contains(name) { metrics.append(name) }
            }
            var rows: [(trial: Trial, summary: CellFile.Summary, evaluation: Int)] = []
            for (trial, summary) in present {
                for index in summary.evaluations.indices { rows.append((trial.trial, summary, index)) }
            }
            let n = rows.count
            try file.write("/table/trial_id", strings: rows.map(\.trial.id))
            try file.write("/table/model", strings: rows.map(\.trial.modelName))
            try file.write("/table/repeat", integers: rows.map { Int64($0.trial.repeatIndex) }, shape: [n])
            try file.write("/table/seed", integers: rows.map { Int64(bitPattern: $0.trial.seed) }, shape: [n])
            try file.write("/table/evaluation", strings: rows.map { $0.summary.evaluations[$0.evaluation].name })
            try file.write("/table/kind", strings: rows.map { $0.summary.evaluations[$0.evaluation].kind })
            try file.write("/table/predictor", strings: rows.map { $0.summary.evaluations[$0.evaluation].predictor })
            try file.write("/table/calibration", strings: rows.map { $0.summary.evaluations[$0.evaluation].calibration })
            for axis in axes where axis != "model" {
                try file.write("/table/\(columnName(axis))", strings: rows.map { row in row.trial.parameters.first { $0.axis == axis }?.value ?? "" })
            }
            for metric in metrics {
                try file.write(
                    "/table/\(metric)",
                    doubles: rows.map { row in
                        row.summary.metrics.first { $0.name == metric }?.values[row.evaluation] ?? .nan
                    }, shape: [n])
            }
            let columns =
                ["trial_id", "model"] + axes.filter { $0 != "model" }.map(columnName) + ["repeat", "seed", "evaluation", "kind", "predictor", "calibration"]
                + metrics
            try file.setAttribute("columns", .string("[" + columns.map(CanonicalJSON.quote).joined(separator: ",") + "]"), on: "/table")
            try writeSummary(RepeatSummary(cells), to: file)
        }
    }

    /// `/aggregate`: the table aggregated over repeats (`RepeatSummary`), one row per cell and
    /// evaluation, with `<metric>_mean`, `<metric>_std` and the number of completed `repeats`.
    static func writeSummary(_ summary: RepeatSummary, to file: HDF5File) throws {
        let rows = summary.rows, n = rows.count
        guard n > 0 else { return }
        try file.write("/aggregate/model", strings: rows.map(\.model))
        for (index, axis) in summary.axes.enumerated() {
            try file.write("/aggregate/\(columnName(axis))", strings: rows.map { $0.values[index] })
        }
        try file.write("/aggregate/evaluation", strings: rows.map(\.evaluation))
        try file.write("/aggregate/kind", strings: rows.map(\.kind))
        try file.write("/aggregate/predictor", strings: rows.map(\.predictor))
        try file.write("/aggregate/calibration", strings: rows.map(\.calibration))
        try file.write("/aggregate/repeats", integers: rows.map { Int64($0.repeats) }, shape: [n])
        for (index, metric) in summary.metrics.enumerated() {
            try file.write("/aggregate/\(metric)_mean", doubles: rows.map { $0.mean[index] }, shape: [n])
            try file.write("/aggregate/\(metric)_std", doubles: rows.map { $0.standardDeviation[index] }, shape: [n])
        }
        let columns =
            ["model"] + summary.axes.map(columnName) + ["evaluation", "kind", "predictor", "calibration", "repeats"]
            + summary.metrics.flatMap { ["\($0)_mean", "\($0)_std"] }
        try file.setAttribute("columns", .string("[" + columns.map(CanonicalJSON.quote).joined(separator: ",") + "]"), on: "/aggregate")
        try file.setAttribute("requested_repeats", .integer(Int64(summary.requestedRepeats)), on: "/aggregate")
    }
}
