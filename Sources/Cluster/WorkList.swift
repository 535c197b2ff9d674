import Catalog
import Foundation
import Grid
import Spec

/// The cells a set of shard processes runs, in units: one line per unit, its trial ids separated
/// by spaces, where the trials of a unit share one trained model (they differ only in
/// evaluation), so a unit never trains twice. `gauntlet submit` writes one per submission
/// (`cells.txt`); `gauntlet run --cells FILE --shard i/N` runs units i, i + N, i + 2N, ….
/// Lines starting with `#` are comments.
public struct WorkList: Sendable, Equatable {
    public var units: [[String]]

    public init(units: [[String]]) {
        self.units = units
    }

    /// One unit per training group of `trials`, groups in the order of their first trial.
    public static func grouping(_ trials: [ResolvedTrial]) -> WorkList {
        WorkList(units: ResolvedTrial.trainingGroups(trials).map { $0.map(\.trial.id) })
    }

    public var cellCount: Int { units.reduce(0) { $0 + $1.count } }

    /// The file's text: a comment naming the experiment, then one unit per line.
    public func text(experiment: String) -> String {
        "# cells of experiment '\(experiment)': one line per unit of work (trials sharing a trained model); shard i of N runs lines i, i + N, …\n"
            + units.map { $0.joined(separator: " ") + "\n" }.joined()
    }

    /// Reads a work list file; `file` names it in errors.
    public static func read(_ file: String) throws -> WorkList {
        guard let data = FileManager.default.contents(atPath: file) else { throw WorkListError(file: file, message: "no such file") }
        let text = String(decoding: data, as: UTF8.self)
        var units: [[String]] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let ids = trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if let bad = ids.first(where: { $0.count != 16 || !$0.allSatisfy(\.isHexDigit) }) {
                throw WorkListError(file: file, message: "line \(number + 1): '\(bad)' is not a trial id (16 hex digits)")
            }
            units.append(ids)
        }
        if units.isEmpty { throw WorkListError(file: file, message: "lists no trial") }
        return WorkList(units: units)
    }

    /// The trial ids of the units that `shard` runs.
    public func trials(of shard: Shard) -> [String] {
        units.indices.filter { shard.contains($0) }.flatMap { units[$0] }
    }

    /// Throws when the list names a trial that `grid` does not have: the experiment file, a file
    /// it includes, or the overrides changed after the list was written.
    public func check(against grid: ResolvedGrid, file: String) throws {
        let known = Set(grid.trials.map(\.trial.id))
        let unknown = units.joined().filter { !known.contains($0) }
        guard let first = unknown.first else { return }
        throw WorkListError(
            file: file,
            message:
                "trial \(first)\(unknown.count > 1 ? " and \(unknown.count - 1) more" : "") not in the grid of \(grid.document.file) (the file, a file it includes, or the overrides changed since the list was written)"
        )
    }
}

/// A work list that cannot be used, naming its file.
public struct WorkListError: Error, CustomStringConvertible {
    public var file: String
    public var message: String

    public var description: String { "\(file): \(message)" }
}
