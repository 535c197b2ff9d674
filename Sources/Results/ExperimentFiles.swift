import Foundation

/// Where one experiment's results lie: the folder `<output>/<name>/` holding the index
/// `<name>.h5`, one cell file per trial `cells/<trial id>.h5`, and the worker logs `logs/`
/// (`schemas/results-format.md`). The one place that spells these paths.
public struct ExperimentFiles: Sendable, Equatable {
    /// The experiment's folder.
    public var directory: String
    /// The experiment's name, the index file's stem.
    public var name: String

    /// The folder of an experiment, named after its last path component (a trailing `/` ignored).
    public init(directory: String) {
        let trimmed = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.directory = trimmed
        self.name = URL(fileURLWithPath: trimmed).lastPathComponent
    }

    /// The folder of experiment `name` under an output folder (`results/` by default).
    public init(outputDirectory: String, name: String) {
        self.directory = "\(outputDirectory)/\(name)"
        self.name = name
    }

    public var indexPath: String { "\(directory)/\(name).h5" }
    public var cellsDirectory: String { "\(directory)/cells" }
    public var logsDirectory: String { "\(directory)/logs" }

    /// The cell file of the trial with this id.
    public func cellPath(_ trialID: String) -> String { "\(cellsDirectory)/\(trialID).h5" }
}
