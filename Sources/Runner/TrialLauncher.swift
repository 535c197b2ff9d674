import Catalog
import Datasets
import Foundation
import Grid
import Results
import Spec

/// Runs one training group (trials that share a trained model: `ResolvedTrial.trainingGroups`)
/// and writes each trial's cell; `ExperimentRunner` decides which groups run, in which order,
/// and how many at once. Two conformers: `InProcessLauncher` (this process) and
/// `ChildProcessLauncher` (long-lived child processes, so that a crash fails only its group).
protocol TrialLauncher {
    /// Runs `group`, writing each trial's cell, and calls `finished` with each trial's status as
    /// its cell is written, in the group's order. Throws what `finished` throws, or an error
    /// writing a cell.
    func launch(_ group: [ResolvedTrial], finished: (TrialOutcome.Status) throws -> Void) throws

    /// Called once every group has run.
    func finish()
}

/// Trains and evaluates in this process, with datasets loaded beforehand.
struct InProcessLauncher: TrialLauncher {
    let runner: TrialRunner
    /// Every dataset of the groups to run, by its canonical parameters.
    let datasets: [String: DatasetSplits]
    let datasetCache: DatasetCache
    let files: ExperimentFiles
    let grid: ResolvedGrid
    let provenance: Provenance
    let log: (String) -> Void

    func launch(_ group: [ResolvedTrial], finished: (TrialOutcome.Status) throws -> Void) throws {
        let first = group[0]
        let data = datasets[first.trial.spec.dataset.canonicalParameters]!
        let started = Date()
        let training = runner.train(first, data: data, extraModels: group.map(\.experiment.extraModels).max() ?? 0)
        if group.count > 1 { log("[\(first.trial.modelName)] trained once for \(group.count) trials that differ only in evaluation") }
        for resolved in group {
            var outcome = runner.evaluate(resolved, after: training, data: data)
            outcome.stageSeconds.insert(("data", datasetCache.claimLoadingSeconds(first.trial.spec.dataset.canonicalParameters)), at: 0)
            if case .failed(let message) = outcome.status { log("[\(resolved.trial.label)] FAILED: \(message)") }
            let heldOut = Set(resolved.experiment.heldOutClasses)  // removed from the test split the cell scores
            let testLabels = data.test.labels.filter { !heldOut.contains($0) }
            try CellFile.write(
                outcome, trial: resolved, grid: grid, testLabels: testLabels, provenance: provenance, started: started,
                to: files.cellPath(resolved.trial.id))
            try RobustBenchRow.write(outcome, trial: resolved, testLabels: testLabels, directory: files.directory)
            try finished(outcome.status)
        }
    }

    func finish() {}
}

/// Runs each group in a child worker process (`gauntlet run --serve`, started on first use; its
/// standard error appended to `logs/<prefix>-<slot>.log`). Trials the child did not write
/// because it died (a crash, a kill) are written here as failed, with the reason and the log's
/// path, and the next group gets a new child.
struct ChildProcessLauncher: TrialLauncher {
    let isolation: ExperimentRunner.Isolation
    let children: ChildWorkerPool
    /// BLAS threads of each child.
    let threads: Int
    let files: ExperimentFiles
    let grid: ResolvedGrid
    let logPrefix: String
    let provenance: Provenance
    let log: (String) -> Void

    func launch(_ group: [ResolvedTrial], finished: (TrialOutcome.Status) throws -> Void) throws {
        let (slot, existing) = children.checkOut()
        var worker = existing
        defer { children.checkIn(slot, worker: worker) }
        let logName = "logs/\(logPrefix)-\(slot).log"
        let logPath = "\(files.directory)/\(logName)"
        let started = Date()
        if worker == nil {
            try FileManager.default.createDirectory(atPath: files.logsDirectory, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
            guard let logHandle = FileHandle(forWritingAtPath: logPath) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: logPath])
            }
            logHandle.seekToEndOfFile()
            worker = try ChildWorker(isolation: isolation, threads: threads, log: logHandle)
            try? logHandle.close()
        }
        var reason: String?
        if worker?.run(group.map(\.trial.id)) != true {
            reason = worker?.exitReason ?? "the worker process did not start"
            worker = nil
        }
        // Each trial's status as its cell says, the cells of a dead child's trials written here.
        let statuses = try group.map { resolved -> TrialOutcome.Status in
            if let summary = CellFile.summary(at: files.cellPath(resolved.trial.id), trialID: resolved.trial.id) {
                switch summary.status {
                case .failed(let message): log("[\(resolved.trial.label)] FAILED: \(message) (log: \(logName))")
                case .completed: log("[\(resolved.trial.label)] completed (log: \(logName))")
                }
                return summary.status
            }
            let message = "\(reason ?? "the worker process did not write this trial"); log: \(logName)"
            log("[\(resolved.trial.label)] FAILED: \(message)")
            try CellFile.write(
                TrialOutcome(trial: resolved.trial, status: .failed(message)), trial: resolved, grid: grid,
                testLabels: [], provenance: provenance, started: started, to: files.cellPath(resolved.trial.id))
            return .failed(message)
        }
        for status in statuses { try finished(status) }
    }

    func finish() { children.finishAll() }
}
