import ArgumentParser
import Cluster
import Foundation

/// `gauntlet status DIR`: which cells are complete, failed or missing, and the state of the
/// newest Slurm submission's jobs.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which cells of a results folder are complete, failed or missing, and the state of its Slurm jobs.",
        discussion: """
            The cells come from the newest `gauntlet submit` record in <folder>/slurm/, else from the index. Job states \
            come from scontrol while Slurm remembers the jobs (MinJobAge). A job pending on a dependency that can never \
            be satisfied (Reason=DependencyNeverSatisfied: a task it waits for under afterok failed) is reported as a \
            failure; --wait cancels it instead of waiting forever. Exit status: 0 when every cell is complete and no job \
            failed, 3 while jobs are still queued or running, 1 otherwise.
            """)

    @Argument(help: "The results folder (results/<experiment>).")
    var folder: String

    @Flag(help: "Wait until no job of the newest submission is queued or running, then report.")
    var wait = false

    @Option(help: "Seconds between two looks at the queue with --wait.")
    var interval = 2.0

    @Option(help: "With --wait, give up after this many seconds (exit status 3).")
    var timeout: Double?

    func validate() throws {
        if interval <= 0 { throw ValidationError("--interval must be positive, got \(interval)") }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive, got \(timeout)") }
    }

    func run() throws {
        let client = SlurmClient()
        var status: ExperimentStatus
        var jobs: [String: Result<[SlurmJob]?, any Error>] = [:]
        var cancelled: [String] = []
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var timedOut = false
        do {
            status = try ExperimentStatus.read(folder)
            while let submission = status.submission {
                jobs = Dictionary(uniqueKeysWithValues: submission.jobIDs.map { id in (id, Result { try client.job(id) }) })
                guard wait else { break }
                // Cancelled once each: a job Slurm still shows as stuck right after is not waited for either.
                let stuck = jobs.filter { !cancelled.contains($0.key) && ((try? $0.value.get())??.contains(where: \.waitsForever) ?? false) }
                    .map(\.key).sorted()
                if !stuck.isEmpty {
                    try client.cancel(stuck)
                    cancelled += stuck
                    continue
                }
                if !jobs.values.contains(where: { (try? $0.get())??.contains(where: \.isActive) ?? false }) { break }
                if let deadline, Date() >= deadline {
                    timedOut = true
                    break
                }
                Thread.sleep(forTimeInterval: interval)
            }
            if wait { status = try ExperimentStatus.read(folder) }  // the cells as the jobs left them
        } catch {
            Diagnostics.printError("error: \(error)")
            throw ExitCode.failure
        }
        let (text, outcome) = Self.render(status, jobs: jobs, cancelled: cancelled)
        print(text, terminator: "")
        if timedOut { Diagnostics.printError("note: still running after --timeout \(timeout!) s") }
        switch outcome {
        case .done: return
        case .running: throw ExitCode(3)
        case .failed: throw ExitCode.failure
        }
    }

    enum Outcome: Equatable { case done, running, failed }

    /// The report, and whether everything is done, still running, or failed somewhere.
    static func render(_ status: ExperimentStatus, jobs: [String: Result<[SlurmJob]?, any Error>], cancelled: [String] = []) -> (String, Outcome) {
        let name = URL(fileURLWithPath: status.experimentDirectory).lastPathComponent
        var lines = [
            "'\(name)' (\(status.experimentDirectory)): \(status.cells.count) cell(s): \(status.completeCount) complete, \(status.failedCount) failed, \(status.missingCount) missing"
        ]
        // At most `shown` lines of each kind, so that a large sweep stays readable.
        let shown = 20
        var listed = (failed: 0, missing: 0)
        for (cell, state) in status.cells {
            switch state {
            case .complete: continue
            case .failed(let message):
                listed.failed += 1
                if listed.failed <= shown { lines.append("  failed   \(cell.label) [\(cell.id)]: \(message)") }
            case .missing:
                listed.missing += 1
                if listed.missing <= shown { lines.append("  missing  \(cell.label) [\(cell.id)]") }
            }
        }
        if listed.failed > shown { lines.append("  … and \(listed.failed - shown) more failed") }
        if listed.missing > shown { lines.append("  … and \(listed.missing - shown) more missing") }
        var running = false
        var jobFailed = false
        if let submission = status.submission {
            let scope = submission.resume ? "the missing and failed cells, " : ""
            lines.append(
                "Slurm submission \(submission.number) (\(submission.submitted)): \(scope)\(submission.submittedCells.count) cell(s) in \(submission.tasks) task(s)"
            )
            let logs = "\(status.experimentDirectory)/slurm/submission-\(submission.number)/logs"
            func describe(_ id: String, role: String) {
                switch jobs[id] {
                case nil:
                    lines.append("  \(role) \(id): not looked up")
                case .failure(let error)?:
                    lines.append("  \(role) \(id): state unknown (\(error))")
                case .success(nil)?:
                    lines.append("  \(role) \(id): no longer known to Slurm (ended more than MinJobAge ago); the cells tell what it did")
                case .success(let records?)?:
                    var counts: [String: Int] = [:]
                    for record in records { counts[record.waitsForever ? "PENDING (DependencyNeverSatisfied)" : record.state, default: 0] += record.taskCount }
                    let states = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                    lines.append("  \(role) \(id): \(states)")
                    for record in records.sorted(by: { ($0.arrayTasks.flatMap { Int($0) } ?? -1) < ($1.arrayTasks.flatMap { Int($0) } ?? -1) })
                    where !record.isActive && !record.succeeded && !record.cancelledForDependency && !record.waitsForever {
                        jobFailed = true
                        let task = record.arrayTasks.map { " task \($0)" } ?? ""
                        let log = record.arrayTasks.map { "\(logs)/task-\(id)_\($0).log" } ?? "\(logs)/merge-\(record.jobID).log"
                        lines.append(
                            "    \(record.arrayJobID.map { _ in "array job \(id)" } ?? "job \(record.jobID)")\(task): \(record.state), exit \(record.exitCode), reason \(record.reason); log: \(log)"
                        )
                    }
                    if records.contains(where: \.isActive) { running = true }
                    if cancelled.contains(id) || records.contains(where: { $0.waitsForever || $0.cancelledForDependency }) {
                        jobFailed = true
                        let action =
                            cancelled.contains(id)
                            ? "cancelled it (scancel \(id))"
                            : records.contains(where: \.waitsForever) ? "it would wait forever: scancel \(id)" : "Slurm cancelled it"
                        lines.append("    waits on a dependency that can never be satisfied (a task it needs under afterok failed); \(action)")
                    }
                }
            }
            for array in submission.arrays { describe(array.jobID, role: "array job") }
            describe(submission.mergeJobID, role: "merge job")
            if case .success(let records?)? = jobs[submission.mergeJobID],
                !records.contains(where: { $0.isActive || $0.succeeded || ($0.state == "FAILED" && $0.exitCode == "1:0") })
            {
                // (Exit status 1 is the merge's own "cells missing or failed": it wrote the index and the report.)
                let merge = Shell.command(["gauntlet", "merge", submission.file] + submission.overrides + ["--output", submission.output])
                let report = Shell.command(["gauntlet", "report", "\(submission.output)/\(submission.experiment)"])
                lines.append(
                    "  the merge job did not run to its end, so the index and the report may be missing or old: cd \(Shell.quote(submission.workingDirectory)) && \(merge) && \(report)"
                )
            }
            lines.append("  logs: \(logs)/")
            if !running && status.completeCount < status.cells.count {
                let command = submission.command.contains("--resume") ? submission.command : submission.command + ["--resume"]
                lines.append("to submit the missing and failed cells again: cd \(Shell.quote(submission.workingDirectory)) && \(Shell.command(command))")
            }
        }
        let outcome: Outcome
        if running {
            outcome = .running
        } else if jobFailed || status.completeCount < status.cells.count {
            outcome = .failed
        } else {
            outcome = .done
        }
        return (lines.joined(separator: "\n") + "\n", outcome)
    }
}
