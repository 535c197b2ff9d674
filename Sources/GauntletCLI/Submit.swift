import ArgumentParser
import Catalog
import Cluster
import Foundation
import Grid
import Results

/// `gauntlet submit FILE [key=value ...] --slurm`: the grid as Slurm job arrays of shards, and a
/// merge job that rebuilds the index and the report when they have ended.
struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit an experiment's grid to a Slurm cluster: job arrays of `gauntlet run --shard i/N`, then a job that merges and reports.",
        discussion: """
            The scripts, the list of cells and a record of the submission are kept in \
            <output>/<experiment>/slurm/submission-<n>/ with the task logs. The jobs start in the current folder and \
            run this gauntlet executable; both must be on a filesystem the compute nodes share. Each unit of work \
            (the cells that share a trained model) runs in one task; a task writes every cell as it ends, so a \
            preempted or timed-out task loses at most the cell it was running. Watch with `gauntlet status`; \
            submit again with --resume to run only the missing and failed cells.
            """)

    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Argument(help: "Overrides and sweeps, as for `gauntlet run`.")
    var overrides: [String] = []

    @Flag(help: "Submit to Slurm with sbatch (the scheduler gauntlet submits to).")
    var slurm = false

    @Option(name: .shortAndLong, help: "The folder that receives <experiment name>/, as for `gauntlet run`.")
    var output = "results"

    @Option(help: "Slurm partition of every job (default: the cluster's default partition).")
    var partition: String?

    @Option(help: "Time limit of every job, as sbatch takes it: minutes, H:MM:SS or D-HH (default: the partition's).")
    var time: String?

    @Option(help: "CPUs of each array task; its cells run one after another with this many BLAS threads.")
    var cpusPerTask = 1

    @Option(help: "Memory of each job, as sbatch takes it (4G) (default: the cluster's).")
    var mem: String?

    @Option(help: "At most this many array tasks run at once.")
    var arrayParallelism: Int?

    @Option(help: "Account charged for the jobs.")
    var account: String?

    @Option(help: "Quality of service of the jobs.")
    var qos: String?

    @Option(name: .customLong("sbatch"), help: ArgumentHelp("A further sbatch option for every job, written as is; repeatable.", valueName: "--option=value"))
    var sbatchOptions: [String] = []

    @Option(help: "Array tasks in all (default: one per unit of work; fewer tasks run several units each).")
    var tasks: Int?

    @Option(help: "When the merge job runs: after every task ended (any), or only when all succeeded (ok).")
    var mergeAfter: SlurmOptions.MergeCondition = .any

    @Option(help: "Largest array size (default: the cluster's MaxArraySize, from scontrol show config); larger grids are split into several arrays.")
    var maxArraySize: Int?

    @Option(help: "The gauntlet executable the jobs run (default: this one).")
    var executable: String?

    @Flag(help: "Submit only the cells that are missing or failed in <output>/<experiment>.")
    var resume = false

    @Flag(help: "Print the scripts instead of writing and submitting them.")
    var dryRun = false

    func validate() throws {
        if !slurm { throw ValidationError("give --slurm: Slurm is the scheduler `gauntlet submit` submits to") }
        if cpusPerTask < 1 { throw ValidationError("--cpus-per-task must be at least 1, got \(cpusPerTask)") }
        if let tasks, tasks < 1 { throw ValidationError("--tasks must be at least 1, got \(tasks)") }
        if let arrayParallelism, arrayParallelism < 1 { throw ValidationError("--array-parallelism must be at least 1, got \(arrayParallelism)") }
        if let maxArraySize, maxArraySize < 1 { throw ValidationError("--max-array-size must be at least 1, got \(maxArraySize)") }
        if let bad = sbatchOptions.first(where: { !$0.hasPrefix("-") }) {
            throw ValidationError("--sbatch takes an sbatch option such as --sbatch=--constraint=avx512, got '\(bad)'")
        }
    }

    var options: SlurmOptions {
        var options = SlurmOptions()
        options.partition = partition
        options.time = time
        options.cpusPerTask = cpusPerTask
        options.memory = mem
        options.arrayParallelism = arrayParallelism
        options.account = account
        options.qos = qos
        options.extra = sbatchOptions
        options.mergeAfter = mergeAfter
        return options
    }

    func run() throws {
        let grid = try Diagnostics.resolve(file, overrides: overrides)
        let client = SlurmClient()
        let experimentDirectory = "\(output)/\(grid.name)"
        do {
            try submit(grid, experimentDirectory: experimentDirectory, client: client)
        } catch let error as ExitCode {
            throw error
        } catch {
            Diagnostics.printError("error: \(error)")
            throw ExitCode.failure
        }
    }

    func submit(_ grid: ResolvedGrid, experimentDirectory: String, client: SlurmClient) throws {
        let files = ExperimentFiles(directory: experimentDirectory)
        let states = grid.trials.map { CellFile.summary(at: files.cellPath($0.trial.id), trialID: $0.trial.id)?.status }
        let complete = states.filter { $0 == .completed }.count
        var selected = grid.trials
        if resume {
            if !dryRun, let previous = try SlurmSubmission.latest(in: experimentDirectory) {
                let active = try previous.jobIDs.filter { id in try client.job(id)?.contains(where: \.isActive) ?? false }
                if !active.isEmpty {
                    throw SlurmError(
                        command: "gauntlet submit --resume",
                        message:
                            "job(s) \(active.joined(separator: ", ")) of submission \(previous.number) are still queued or running; wait for them (gauntlet status \(experimentDirectory) --wait) or cancel them (scancel \(active.joined(separator: " "))) first"
                    )
                }
            }
            selected = zip(grid.trials, states).filter { $0.1 != .completed }.map(\.0)
            if selected.isEmpty {
                print("all \(grid.trials.count) cell(s) of '\(grid.name)' are complete in \(experimentDirectory); nothing to submit")
                return
            }
        } else if complete > 0 {
            Diagnostics.printError(
                "note: \(complete) of \(grid.trials.count) cell(s) are already complete; their tasks skip them (--resume submits only the others)")
        }
        let workList = WorkList.grouping(selected)
        let tasks = min(workList.units.count, self.tasks ?? workList.units.count)
        var maxArraySizeSource = "--max-array-size"
        var maxArraySize = self.maxArraySize ?? 1001
        if self.maxArraySize == nil {
            do {
                maxArraySize = try client.maxArraySize()
                maxArraySizeSource = "the cluster's, from scontrol"
            } catch  where dryRun {
                maxArraySizeSource = "Slurm's default; scontrol did not answer: \(error)"
            }
        }
        let number = (SlurmSubmission.numbers(in: experimentDirectory).max() ?? 0) + 1
        let workingDirectory = FileManager.default.currentDirectoryPath
        let absoluteExperiment = URL(fileURLWithPath: experimentDirectory, relativeTo: URL(fileURLWithPath: workingDirectory + "/")).standardizedFileURL.path
        let arguments = CommandLine.arguments.dropFirst().filter { $0 != "--dry-run" }
        let scripts = SlurmScripts(
            experiment: grid.name, number: number, workingDirectory: workingDirectory, executable: executablePath,
            specArguments: [file] + overrides, output: output, directory: SlurmSubmission.directory(number, in: absoluteExperiment),
            options: options, tasks: tasks, maxArraySize: maxArraySize, command: Shell.command(["gauntlet"] + arguments))
        let summary = "\(workList.cellCount) cell(s) in \(workList.units.count) unit(s) of work, \(tasks) task(s) in \(scripts.chunks.count) array(s)"

        if dryRun {
            print("# dry run: submission \(number) of '\(grid.name)' would submit \(summary); nothing written or submitted")
            print("# MaxArraySize \(maxArraySize) (\(maxArraySizeSource))")
            print("# \(scripts.workListPath):\n" + workList.text(experiment: grid.name), terminator: "")
            for chunk in scripts.chunks.indices {
                print("# \(scripts.directory)/\(scripts.arrayScriptName(chunk)) (sbatch --parsable):\n" + scripts.arrayScript(chunk), terminator: "")
            }
            let placeholders = scripts.chunks.indices.map { "<job id of array \($0 + 1)>" }
            print("# \(scripts.directory)/\(scripts.mergeScriptName) (sbatch --parsable):\n" + scripts.mergeScript(after: placeholders), terminator: "")
            return
        }

        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: "\(scripts.directory)/logs", withIntermediateDirectories: true)
        try workList.text(experiment: grid.name).write(toFile: scripts.workListPath, atomically: true, encoding: .utf8)
        var arrays: [SlurmSubmission.ArrayJob] = []
        var mergeJobID = ""
        do {
            for (chunk, shards) in scripts.chunks.enumerated() {
                let path = "\(scripts.directory)/\(scripts.arrayScriptName(chunk))"
                try scripts.arrayScript(chunk).write(toFile: path, atomically: true, encoding: .utf8)
                let id = try client.submit(path)
                arrays.append(.init(jobID: id, script: scripts.arrayScriptName(chunk), firstShard: shards.lowerBound, shards: shards.count))
            }
            let path = "\(scripts.directory)/\(scripts.mergeScriptName)"
            try scripts.mergeScript(after: arrays.map(\.jobID)).write(toFile: path, atomically: true, encoding: .utf8)
            mergeJobID = try client.submit(path)
        } catch {
            // A partial submission would merge too early or never: take back what was submitted.
            if !arrays.isEmpty { try? client.cancel(arrays.map(\.jobID)) }
            let cancelled = arrays.isEmpty ? "" : " (cancelled the array job(s) already submitted: \(arrays.map(\.jobID).joined(separator: ", ")))"
            throw SlurmError(command: "gauntlet submit", message: "\(error)\(cancelled)")
        }
        let record = SlurmSubmission(
            number: number, experiment: grid.name, submitted: ISO8601DateFormatter().string(from: Date()), command: ["gauntlet"] + arguments,
            workingDirectory: workingDirectory, file: file, overrides: overrides, output: output, resume: resume, options: options, tasks: tasks,
            submittedCells: workList.units.flatMap { $0 },
            arrays: arrays, mergeJobID: mergeJobID, gridCells: grid.trials.map { .init(id: $0.trial.id, label: $0.trial.label) })
        try record.write(in: experimentDirectory)
        print("submitted '\(grid.name)' as submission \(number): \(summary)")
        for array in arrays {
            print("  array job \(array.jobID): shards \(array.firstShard)–\(array.firstShard + array.shards - 1) (\(array.script))")
        }
        print("  merge job \(mergeJobID): index and report once the arrays have ended (\(mergeAfter == .ok ? "afterok" : "afterany"))")
        print("scripts and logs: \(experimentDirectory)/slurm/submission-\(number)/")
        print("watch: gauntlet status \(experimentDirectory)   (or: squeue -j \(record.jobIDs.joined(separator: ",")))")
        print("wait:  gauntlet status \(experimentDirectory) --wait")
    }

    /// This executable's path, for the jobs to run.
    var executablePath: String {
        if let executable { return URL(fileURLWithPath: executable).standardizedFileURL.path }
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

extension SlurmOptions.MergeCondition: ExpressibleByArgument {}
