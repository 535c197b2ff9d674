import ArgumentParser
import Catalog
import Datasets
import Foundation
import Grid
import Layers
import Reporting
import Spec
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

    /// Every model of the grid's first cell (or the one named `only`) as a table like
    /// torchsummary's (with the input normalisation, if any), its totals, and its DOT graph.
    static func renderModels(_ grid: ResolvedGrid, only: String? = nil, dotOnly: Bool = false) throws -> String {
        guard let experiment = grid.trials.first?.experiment else { return "" }
        let models = experiment.models.filter { only == nil || $0.name == only }
        if let only, models.isEmpty {
            throw ValidationError("no model '\(only)' in \(grid.document.file); its models: \(experiment.models.map(\.name).joined(separator: ", "))")
        }
        var text = ""
        for resolved in models {
            var rng = RandomSource(seed: 0)
            let model = try resolved.build(inputShape: experiment.dataset.sampleShape, normalization: experiment.normalization, rng: &rng)
            if !dotOnly { text += Inspect.renderSummary(model, name: resolved.name) + "\n" }
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
