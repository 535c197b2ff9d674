import Foundation
import Reporting
import Spec
import Storage

/// Reads a results folder (`results/<name>/`: the index and `cells/*.h5`) into a `ResultSet`
/// for reports, never failing on one bad file: a cell file that is missing, truncated, corrupt
/// or of an unknown format is named in `problems` and the rest is reported. Reads layouts 5
/// and 6 (5 lacks metric directions and definitions).
public enum ResultsFolder {
    public static let readableFormats: Set<Int64> = [5, 6]

    public enum ReadError: Error, CustomStringConvertible {
        case notAFolder(String)
        case nothingToReport(String)

        public var description: String {
            switch self {
            case .notAFolder(let path): "\(path): no such results folder"
            case .nothingToReport(let path): "\(path): neither an index (<name>.h5) nor cell files (cells/*.h5): is this a results folder of `gauntlet run`?"
            }
        }
    }

    public static func read(_ folder: String) throws(ReadError) -> ResultSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { throw .notAFolder(folder) }
        let files = ExperimentFiles(directory: folder)
        let trimmed = files.directory, name = files.name
        var results = ResultSet(experiment: name, folder: trimmed)
        let indexPath = files.indexPath
        let cellFiles = ((try? FileManager.default.contentsOfDirectory(atPath: files.cellsDirectory)) ?? [])
            .filter { $0.hasSuffix(".h5") && !$0.hasPrefix(".") }.sorted()
        var sources: [(path: String, text: String)] = []
        if FileManager.default.fileExists(atPath: indexPath) {
            do {
                sources = try readIndex(indexPath, into: &results)
            } catch {
                results.problems.append("\(name).h5 (the index): \(error); reporting the cell files found in cells/")
            }
        } else {
            results.problems.append("\(name).h5 (the index) is missing; reporting the cell files found in cells/")
        }
        if results.trials.isEmpty {
            guard !cellFiles.isEmpty else { throw .nothingToReport(trimmed) }
            results.trials = cellFiles.map { file in
                TrialEntry(trialID: String(file.dropLast(3)), model: "", repeatIndex: 0, seed: 0, state: .completed, message: "")
            }
        }
        for index in results.trials.indices where results.trials[index].state != .missing {
            let trial = results.trials[index]
            let path = files.cellPath(trial.trialID)
            do {
                let cell = try readCell(path, trialID: trial.trialID)
                results.cells.append(cell)
                results.trials[index].model = cell.model
                results.trials[index].repeatIndex = cell.repeatIndex
                results.trials[index].seed = cell.seed
                results.trials[index].state = cell.completed ? .completed : .failed
                results.trials[index].message = cell.message
                if sources.isEmpty, let stored = try? storedSources(path) { sources = stored }
            } catch {
                results.trials[index].state = .unreadable
                results.trials[index].message = "\(error)"
                results.problems.append("cells/\(trial.trialID).h5: \(error)")
            }
        }
        if let first = sources.first {
            results.specFile = first.path
            results.specText = first.text
            if let document = try? SpecDocument.parse(stored: sources, overrides: results.overrides) {
                results.description = document.root["description"]?.scalarValue(String.self) ?? ""
                results.baseline = document.root["report"]?["baseline"]?.scalarValue(String.self)
                results.figureSettings = document.root["report"]?["figure_settings"]?.scalarValue(Int.self)
                results.comparedMetrics = document.root["report"]?["metrics"]?.elements?.compactMap { $0.scalarValue(String.self) } ?? []
                if let repeats = document.root["repeats"]?.scalarValue(Int.self) { results.requestedRepeats = repeats }
            }
        }
        return results
    }

    /// The index's provenance and trial list; returns the stored experiment file and includes.
    static func readIndex(_ path: String, into results: inout ResultSet) throws -> [(path: String, text: String)] {
        let file = try HDF5File.open(path)
        defer { file.close() }
        func text(_ name: String) -> String {
            if case .string(let value)? = try? file.attribute(name) { return value }
            return ""
        }
        results.experiment = text("experiment").isEmpty ? results.experiment : text("experiment")
        results.toolVersion = text("gauntlet_version")
        results.gitCommit = text("git_commit")
        results.host = text("host")
        results.created = text("created")
        results.overrides = file.exists("/overrides") ? (try file.readStrings("/overrides")).filter { !$0.isEmpty } : []
        if case .integer(let repeats)? = try? file.attribute("requested_repeats", on: "/aggregate") { results.requestedRepeats = Int(repeats) }
        let ids = try file.readStrings("/trials/trial_id")
        let models = try file.readStrings("/trials/model")
        let repeats = try file.readIntegers("/trials/repeat").values
        let seeds = try file.readIntegers("/trials/seed").values
        let states = try file.readStrings("/trials/status")
        let messages = try file.readStrings("/trials/message")
        results.trials = ids.indices.map { i in
            TrialEntry(
                trialID: ids[i], model: models[i], repeatIndex: Int(repeats[i]), seed: UInt64(bitPattern: seeds[i]),
                state: TrialEntry.State(rawValue: states[i]) ?? .missing, message: messages[i])
        }
        let paths = try file.readStrings("/spec_sources/path"), texts = try file.readStrings("/spec_sources/text")
        return zip(paths, texts).map { ($0, $1) }
    }

    static func storedSources(_ path: String) throws -> [(path: String, text: String)] {
        let file = try HDF5File.open(path)
        defer { file.close() }
        return zip(try file.readStrings("/spec_sources/path"), try file.readStrings("/spec_sources/text")).map { ($0, $1) }
    }
}
