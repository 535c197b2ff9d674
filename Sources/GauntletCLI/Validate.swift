import ArgumentParser
import Catalog
import Grid

/// `gauntlet validate FILE...`: check files completely without running anything.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check experiment files (keys, kinds, ranges, sweeps, model shapes) without running them.",
        discussion: "Every problem of every file is printed; the exit status is 2 if any file has one.")

    @Argument(help: "The experiment files (YAML).")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one experiment file") }
    }

    func run() throws {
        var invalid = 0
        for file in files {
            do {
                let grid = try Diagnostics.resolve(file, overrides: [])
                print("\(file): valid; \(grid.trials.count) trial(s)")
            } catch {
                invalid += 1
            }
        }
        if invalid > 0 { throw ExitCode(2) }
    }
}
