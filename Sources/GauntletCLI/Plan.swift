import ArgumentParser
import Catalog
import Datasets
import Foundation
import Grid
import Layers
import Reporting
import Tensors

/// `gauntlet plan FILE [key=value ...]`: every cell of the grid, without running anything.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every cell of an experiment's grid with its trial id, seed and estimated cost, without running it.")

    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Argument(help: "Overrides, as for `gauntlet run`.")
    var overrides: [String] = []

    @Flag(help: "Also print every model's summary: layers, output shapes, parameters and FLOPs per sample, and its graph in Graphviz DOT.")
    var models = false

    func run() throws {
        let grid = try Diagnostics.resolve(file, overrides: overrides)
        print(Self.render(grid), terminator: "")
        if models { print(try Self.renderModels(grid), terminator: "") }
    }

    /// Every model of the grid's first cell as a table like torchsummary's (with the input
    /// normalisation, if any), its totals, and its DOT graph.
    static func renderModels(_ grid: ResolvedGrid) throws -> String {
        guard let experiment = grid.trials.first?.experiment else { return "" }
        var text = ""
        for resolved in experiment.models {
            var rng = RandomSource(seed: 0)
            let model = try resolved.build(inputShape: experiment.dataset.sampleShape, normalization: experiment.normalization, rng: &rng)
            let rows = model.summary()
            var table = TextTable(
                headers: ["layer", "kind", "output shape", "parameters", "MFLOP"],
                alignments: [.left, .left, .right, .right, .right])
            for row in rows {
                table.append([
                    row.name, row.kind, row.outputShape.map(String.init).joined(separator: "×"), String(row.parameterCount),
                    String(format: "%.3f", 2 * Double(row.multiplyAccumulates) / 1e6),
                ])
            }
            let flops = 2 * Double(rows.reduce(0) { $0 + $1.multiplyAccumulates })
            text +=
                "\nmodel \(resolved.name): input \(experiment.dataset.sampleShape.map(String.init).joined(separator: "×"))"
                + (model.normalization == nil ? "" : ", normalised inside the model") + "\n"
            text += table.render()
            text +=
                "\(model.parameterCount) parameters (\(String(format: "%.2f", Double(model.parameterCount) * 4 / 1_048_576)) MiB as float32), "
                + "\(String(format: "%.3f", flops / 1e6)) MFLOP per sample forward\n\n"
            text += model.graphDOT(title: resolved.name)
        }
        return text
    }

    static func render(_ grid: ResolvedGrid) -> String {
        var axes: [String] = []
        for resolved in grid.trials {
            for (axis, _) in resolved.trial.parameters where axis != "model" && !axes.contains(axis) { axes.append(axis) }
        }
        var table = TextTable(
            headers: ["cell", "trial id", "model"] + axes + ["trial seed", "GFLOP"],
            alignments: [.right, .left, .left] + axes.map { _ in .right } + [.right, .right])
        var total = 0.0
        for resolved in grid.trials {
            let trial = resolved.trial
            let flops = resolved.estimatedFLOPs
            total += flops
            let values = axes.map { axis in trial.parameters.first { $0.axis == axis }?.value ?? "" }
            table.append([String(trial.index), trial.id, trial.modelName] + values + [String(trial.seed), String(format: "%.1f", flops / 1e9)])
        }
        return table.render()
            + "\(grid.trials.count) trial(s), about \(String(format: "%.1f", total / 1e12)) TFLOP in all (training, validation and evaluations)\n"
    }
}
