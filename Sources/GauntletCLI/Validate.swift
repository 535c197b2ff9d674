import ArgumentParser
import Catalog
import Grid

/// `gauntlet validate FILE`: check a file completely without running anything.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check an experiment file (keys, kinds, ranges, model shapes) without running it.")

    @Argument(help: "The experiment file (YAML).")
    var file: String

    func run() throws {
        let experiment = try Diagnostics.resolve(file)
        let trials = GridExpansion.trials(for: experiment.spec)
        print("\(file): valid; \(trials.count) trial(s): \(trials.map { "\($0.modelName) [\($0.id)]" }.joined(separator: ", "))")
    }
}
