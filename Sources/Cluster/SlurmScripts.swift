import Foundation

/// The resources and placement a Slurm submission asks for; nil leaves a setting to the cluster.
public struct SlurmOptions: Codable, Sendable, Equatable {
    public var partition: String?
    /// `--time` of every job, as sbatch takes it (`30`, `2:00:00`, `1-0`).
    public var time: String?
    /// CPUs of each array task; the task runs its cells one after another with this many BLAS threads.
    public var cpusPerTask = 1
    /// `--mem` of each job (`4G`).
    public var memory: String?
    /// At most this many array tasks run at once (`--array=0-9%K`).
    public var arrayParallelism: Int?
    public var account: String?
    public var qos: String?
    /// Further sbatch options, written as they are (`--constraint=avx512`).
    public var extra: [String] = []
    /// When the merge job starts: after every task ended (`any`), or only if every task succeeded (`ok`).
    public var mergeAfter: MergeCondition = .any

    public enum MergeCondition: String, Codable, Sendable, CaseIterable {
        case any, ok
    }

    public init() {}
}

/// The sbatch scripts of one submission: array scripts whose task i runs shard i of N of a work
/// list, and a merge job that rebuilds the index and the report once the arrays have ended.
/// Slurm limits array indices to `MaxArraySize - 1`, so N tasks become ⌈N / MaxArraySize⌉ arrays,
/// each adding its offset to `SLURM_ARRAY_TASK_ID`.
public struct SlurmScripts: Sendable {
    public var experiment: String
    /// The submission's number (`slurm/submission-<number>/`).
    public var number: Int
    /// Where the jobs start: the folder `gauntlet submit` ran in, so that the experiment file and
    /// the output folder mean what they meant there (a shared filesystem is assumed).
    public var workingDirectory: String
    /// The `gauntlet` executable the jobs run.
    public var executable: String
    /// The experiment file and overrides, as given.
    public var specArguments: [String]
    /// The output folder, as given.
    public var output: String
    /// This submission's folder (absolute): scripts, `cells.txt`, logs.
    public var directory: String
    public var options: SlurmOptions
    /// Array tasks in all (N of `--shard i/N`).
    public var tasks: Int
    public var maxArraySize: Int
    /// The command that made the submission, quoted, written into every script as a comment.
    public var command: String

    public init(
        experiment: String, number: Int, workingDirectory: String, executable: String, specArguments: [String], output: String,
        directory: String, options: SlurmOptions, tasks: Int, maxArraySize: Int, command: String
    ) {
        self.experiment = experiment
        self.number = number
        self.workingDirectory = workingDirectory
        self.executable = executable
        self.specArguments = specArguments
        self.output = output
        self.directory = directory
        self.options = options
        self.tasks = tasks
        self.maxArraySize = maxArraySize
        self.command = command
    }

    public var workListPath: String { "\(directory)/cells.txt" }

    /// The shards each array covers, in order.
    public var chunks: [Range<Int>] {
        stride(from: 0, to: tasks, by: max(1, maxArraySize)).map { $0..<min(tasks, $0 + max(1, maxArraySize)) }
    }

    public func arrayScriptName(_ chunk: Int) -> String { "array-\(chunk + 1).sbatch" }
    public let mergeScriptName = "merge.sbatch"

    /// The script of array `chunk` (an index into `chunks`).
    public func arrayScript(_ chunk: Int) -> String {
        let shards = chunks[chunk]
        let throttle = options.arrayParallelism.map { "%\($0)" } ?? ""
        var lines = [
            "#!/bin/bash",
            "# Gauntlet, experiment '\(experiment)', submission \(number), array \(chunk + 1) of \(chunks.count): shards \(shards.lowerBound)–\(shards.upperBound - 1) of \(tasks).",
            "# Submitted with: \(command)",
            "# Task i runs `gauntlet run --shard i/\(tasks)` over the units of cells.txt. Every cell is written as soon as",
            "# it ends, so a task that is preempted or runs out of time loses at most the cell it was running;",
            "# `gauntlet submit … --resume` submits what is missing or failed.",
        ]
        lines += header(
            jobName: "gauntlet-\(experiment)", cpus: options.cpusPerTask,
            before: [
                "#SBATCH --array=0-\(shards.count - 1)\(throttle)",
                "#SBATCH --output=\(directory)/logs/task-%A_%a.log",
                "#SBATCH --open-mode=append",
            ])
        lines += [
            "cd \(Shell.quote(workingDirectory)) || exit 1",
            "shard=$((SLURM_ARRAY_TASK_ID + \(shards.lowerBound)))",
            "exec " + Shell.command([executable, "run"] + specArguments + ["--output", output, "--cells", workListPath])
                + " --shard \"$shard/\(tasks)\" --jobs 1 --blas-threads \(options.cpusPerTask) --no-index",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The merge job's script, once the arrays' job ids are known (`dry-run` shows placeholders).
    public func mergeScript(after arrayJobIDs: [String]) -> String {
        let condition = options.mergeAfter == .ok ? "afterok" : "afterany"
        var lines = [
            "#!/bin/bash",
            "# Gauntlet, experiment '\(experiment)', submission \(number): when the arrays have ended (\(condition)), rebuild",
            "# the index from the cell files and write the report; exits 1 when cells are missing or failed.",
            "# Submitted with: \(command)",
        ]
        // Never pending forever on a dependency that can no longer be met (`--merge-after ok` and a
        // failed task), unless the user decides otherwise: sbatch lets a `yes` win over a later `no`.
        let killOnInvalidDependency = options.extra.contains { $0.hasPrefix("--kill-on-invalid-dep") } ? [] : ["#SBATCH --kill-on-invalid-dep=yes"]
        lines += header(
            jobName: "gauntlet-\(experiment)-merge", cpus: 1,
            before: [
                "#SBATCH --dependency=\(condition):\(arrayJobIDs.joined(separator: ":"))"
            ] + killOnInvalidDependency + [
                "#SBATCH --output=\(directory)/logs/merge-%j.log"
            ])
        lines += [
            "cd \(Shell.quote(workingDirectory)) || exit 1",
            Shell.command([executable, "merge"] + specArguments + ["--output", output]),
            "merged=$?",
            Shell.command([executable, "report", "\(output)/\(experiment)"]) + " || exit $?",
            "exit $merged",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `#SBATCH` lines: the job's own (`before`), the resources, then `--sbatch` options last,
    /// so that a user's option wins over a default of ours.
    private func header(jobName: String, cpus: Int, before: [String]) -> [String] {
        var lines = ["#SBATCH --job-name=\(jobName)"] + before + ["#SBATCH --cpus-per-task=\(cpus)", "#SBATCH --ntasks=1"]
        if let partition = options.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let account = options.account { lines.append("#SBATCH --account=\(account)") }
        if let qos = options.qos { lines.append("#SBATCH --qos=\(qos)") }
        if let time = options.time { lines.append("#SBATCH --time=\(time)") }
        if let memory = options.memory { lines.append("#SBATCH --mem=\(memory)") }
        lines += options.extra.map { "#SBATCH \($0)" }
        return lines
    }
}

/// Quoting for POSIX shells.
public enum Shell {
    /// `word` as one shell word: bare when it holds only safe characters, else in single quotes.
    public static func quote(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+,@%")
        if !word.isEmpty, word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func command(_ words: [String]) -> String { words.map(quote).joined(separator: " ") }
}
