import ArgumentParser
import Catalog
import Foundation
import Grid
import Reporting

/// `gauntlet plan FILE [key=value ...]`: every cell of the grid, without running anything.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every cell of an experiment's grid with its trial id, seed and estimated cost, without running it.")

    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Argument(help: "Overrides, as for `gauntlet run`.")
    var overrides: [String] = []

    func run() throws {
        let grid = try Diagnostics.resolve(file, overrides: overrides)
        print(Self.render(grid), terminator: "")
    }

    static func render(_ grid: ResolvedGrid) -> String {
        var axes: [String] = []
        for resolved in grid.trials {
            for (axis, _) in resolved.trial.parameters where axis != "model" && !axes.contains(axis) { axes.append(axis) }
        }
        var table = TextTable(headers: ["cell", "trial id", "model"] + axes + ["trial seed", "GFLOP"],
                              alignments: [.right, .left, .left] + axes.map { _ in .right } + [.right, .right])
        var total = 0.0
        for resolved in grid.trials {
            let trial = resolved.trial
            let flops = resolved.estimatedFLOPs
            total += flops
            let values = axes.map { axis in trial.parameters.first { $0.axis == axis }?.value ?? "" }
            table.append([String(trial.index), trial.id, trial.modelName] + values + [String(trial.seed), String(format: "%.1f", flops / 1e9)])
        }
        return table.render() + "\(grid.trials.count) trial(s), about \(String(format: "%.1f", total / 1e12)) TFLOP in all (training, validation and evaluations)\n"
    }
}
