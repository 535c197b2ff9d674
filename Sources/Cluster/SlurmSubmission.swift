import Foundation
import Storage

/// What `gauntlet submit` submitted, kept as `slurm/submission-<n>/submission.json` beside the
/// scripts, so that `gauntlet status` can name the jobs and the cells, and anyone can see how
/// the results were produced.
public struct SlurmSubmission: Codable, Sendable {
    public static let formatVersion = 1

    public var formatVersion = SlurmSubmission.formatVersion
    public var number: Int
    public var experiment: String
    /// ISO 8601 time of submission.
    public var submitted: String
    /// The `gauntlet submit` command line and the folder it ran in.
    public var command: [String]
    public var workingDirectory: String
    /// The experiment file, overrides and output folder, as given (relative to `workingDirectory`).
    public var file: String
    public var overrides: [String]
    public var output: String
    /// Whether this submission covers only the cells that were missing or failed (`--resume`).
    public var resume: Bool
    public var options: SlurmOptions
    /// Array tasks in all, and the cells (trial ids) submitted.
    public var tasks: Int
    public var submittedCells: [String]
    public var arrays: [ArrayJob]
    public var mergeJobID: String
    /// Every cell of the grid at submission time (not only those submitted), for `gauntlet status`.
    public var gridCells: [Cell]

    public struct ArrayJob: Codable, Sendable {
        public var jobID: String
        public var script: String
        /// The shards it runs: `firstShard ..< firstShard + shards`.
        public var firstShard: Int
        public var shards: Int

        public init(jobID: String, script: String, firstShard: Int, shards: Int) {
            self.jobID = jobID
            self.script = script
            self.firstShard = firstShard
            self.shards = shards
        }
    }

    public struct Cell: Codable, Sendable, Equatable {
        public var id: String
        public var label: String

        public init(id: String, label: String) {
            self.id = id
            self.label = label
        }
    }

    public init(
        number: Int, experiment: String, submitted: String, command: [String], workingDirectory: String, file: String,
        overrides: [String], output: String, resume: Bool,
        options: SlurmOptions, tasks: Int, submittedCells: [String], arrays: [ArrayJob], mergeJobID: String, gridCells: [Cell]
    ) {
        self.number = number
        self.experiment = experiment
        self.submitted = submitted
        self.command = command
        self.workingDirectory = workingDirectory
        self.file = file
        self.overrides = overrides
        self.output = output
        self.resume = resume
        self.options = options
        self.tasks = tasks
        self.submittedCells = submittedCells
        self.arrays = arrays
        self.mergeJobID = mergeJobID
        self.gridCells = gridCells
    }

    /// Every job id of the submission: the arrays', then the merge job's.
    public var jobIDs: [String] { arrays.map(\.jobID) + [mergeJobID] }

    /// `results/<experiment>/slurm`.
    public static func folder(of experimentDirectory: String) -> String { "\(experimentDirectory)/slurm" }

    public static func directory(_ number: Int, in experimentDirectory: String) -> String {
        "\(folder(of: experimentDirectory))/submission-\(number)"
    }

    /// The numbers of the submissions made for this results folder, ascending.
    public static func numbers(in experimentDirectory: String) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder(of: experimentDirectory))) ?? []
        return names.compactMap { $0.hasPrefix("submission-") ? Int($0.dropFirst("submission-".count)) : nil }.sorted()
    }

    public static func read(_ number: Int, in experimentDirectory: String) throws -> SlurmSubmission {
        let path = "\(directory(number, in: experimentDirectory))/submission.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SlurmError(command: "gauntlet status", message: "\(path): no such file (a submission that did not finish?)")
        }
        do {
            let submission = try JSONDecoder().decode(SlurmSubmission.self, from: data)
            guard submission.formatVersion == formatVersion else {
                throw SlurmError(
                    command: "gauntlet status", message: "\(path): format_version \(submission.formatVersion), this gauntlet reads \(formatVersion)")
            }
            return submission
        } catch let error as SlurmError {
            throw error
        } catch {
            throw SlurmError(command: "gauntlet status", message: "\(path): not a submission record: \(error)")
        }
    }

    /// The newest submission that finished writing its record, if any.
    public static func latest(in experimentDirectory: String) throws -> SlurmSubmission? {
        for number in numbers(in: experimentDirectory).reversed()
        where FileManager.default.fileExists(atPath: "\(directory(number, in: experimentDirectory))/submission.json") {
            return try read(number, in: experimentDirectory)
        }
        return nil
    }

    public func write(in experimentDirectory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        try AtomicFile.write(to: "\(Self.directory(number, in: experimentDirectory))/submission.json") { path in
            try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: path))
        }
    }
}
