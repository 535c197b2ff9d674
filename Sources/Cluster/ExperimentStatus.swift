import Foundation
import Results
import Storage

/// Which cells of a results folder are complete, failed or missing, and the newest Slurm
/// submission made for it (`gauntlet status`). The grid's cells come from that submission's
/// record, or else from the index of the last run or merge.
public struct ExperimentStatus: Sendable {
    public enum State: Sendable, Equatable {
        case complete
        case failed(String)
        case missing
    }

    public var experimentDirectory: String
    public var cells: [(cell: SlurmSubmission.Cell, state: State)]
    public var submission: SlurmSubmission?

    public init(experimentDirectory: String, cells: [(cell: SlurmSubmission.Cell, state: State)], submission: SlurmSubmission?) {
        self.experimentDirectory = experimentDirectory
        self.cells = cells
        self.submission = submission
    }

    public var completeCount: Int { cells.filter { $0.state == .complete }.count }
    public var failedCount: Int { cells.filter { if case .failed = $0.state { true } else { false } }.count }
    public var missingCount: Int { cells.filter { $0.state == .missing }.count }

    /// The cells that a resumed submission runs again: missing and failed.
    public var unfinished: Set<String> { Set(cells.filter { $0.state != .complete }.map(\.cell.id)) }

    public static func read(_ folder: String) throws -> ExperimentStatus {
        let files = ExperimentFiles(directory: folder), directory = files.directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SlurmError(command: "gauntlet status", message: "\(directory): no such folder")
        }
        let submission = try SlurmSubmission.latest(in: directory)
        let grid: [SlurmSubmission.Cell]
        if let submission {
            grid = submission.gridCells
        } else {
            grid = try indexCells(files)
        }
        let cells = grid.map { cell in
            let state: State
            switch CellFile.summary(at: files.cellPath(cell.id), trialID: cell.id)?.status {
            case .completed?: state = .complete
            case .failed(let message)?: state = .failed(message)
            case nil: state = .missing
            }
            return (cell, state)
        }
        return ExperimentStatus(experimentDirectory: directory, cells: cells, submission: submission)
    }

    /// The grid's cells as the index lists them (labels from the cell files where present).
    static func indexCells(_ files: ExperimentFiles) throws -> [SlurmSubmission.Cell] {
        let directory = files.directory, name = files.name, path = files.indexPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw SlurmError(
                command: "gauntlet status",
                message:
                    "\(directory) has neither an index (\(name).h5) nor a Slurm submission (slurm/); give a folder that `gauntlet run` or `gauntlet submit` wrote"
            )
        }
        let index: HDF5File
        do { index = try HDF5File.open(path) } catch {
            throw SlurmError(command: "gauntlet status", message: "\(path): cannot read the index: \(error)")
        }
        defer { index.close() }
        let ids = try index.readStrings("/trials/trial_id")
        let models = try index.readStrings("/trials/model")
        return zip(ids, models).map { id, model in
            guard let summary = CellFile.summary(at: files.cellPath(id), trialID: id) else { return SlurmSubmission.Cell(id: id, label: model) }
            let swept = summary.parameters.filter { $0.axis != "model" }.map { "\($0.axis)=\($0.value)" }
            return SlurmSubmission.Cell(id: id, label: ([model] + swept).joined(separator: " "))
        }
    }
}
