/// One job, or one array task, as `scontrol -o show job ID` describes it (one line per record:
/// `JobId=… ArrayJobId=… ArrayTaskId=… JobState=… Reason=… ExitCode=…`). Pending tasks of an
/// array that have not started share one record whose `ArrayTaskId` is a range such as `2-5%2`.
public struct SlurmJob: Sendable, Equatable {
    public var jobID: String
    /// The array's job id, for an array task; nil for a plain job.
    public var arrayJobID: String?
    /// `3`, `2-5`, `2-5%2` or `1,4-6`, as Slurm prints it; nil for a plain job.
    public var arrayTasks: String?
    public var state: String
    public var reason: String
    public var exitCode: String

    public init(jobID: String, arrayJobID: String? = nil, arrayTasks: String? = nil, state: String, reason: String = "None", exitCode: String = "0:0") {
        self.jobID = jobID
        self.arrayJobID = arrayJobID
        self.arrayTasks = arrayTasks
        self.state = state
        self.reason = reason
        self.exitCode = exitCode
    }

    /// Parses `scontrol -o show job` output: one record per non-empty line. Values may hold spaces
    /// (a job name, a command); only the fields read here are kept, and a field's value runs to
    /// the next `Key=` word.
    public static func parse(_ text: String) -> [SlurmJob] {
        text.split(separator: "\n").compactMap { line in
            var fields: [String: String] = [:]
            var key: String?
            for word in line.split(separator: " ", omittingEmptySubsequences: true) {
                if let equals = word.firstIndex(of: "="), word[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || $0 == ":" }),
                    !word[..<equals].isEmpty
                {
                    key = String(word[..<equals])
                    fields[key!] = String(word[word.index(after: equals)...])
                } else if let key {
                    fields[key, default: ""] += " " + word
                }
            }
            guard let id = fields["JobId"], let state = fields["JobState"] else { return nil }
            return SlurmJob(
                jobID: id, arrayJobID: fields["ArrayJobId"], arrayTasks: fields["ArrayTaskId"], state: state,
                reason: fields["Reason"] ?? "None", exitCode: fields["ExitCode"] ?? "0:0")
        }
    }

    /// How many array tasks this record stands for: a range `2-5` is four, `%2` (the throttle)
    /// does not count; a plain job or a single task is one.
    public var taskCount: Int {
        guard let arrayTasks else { return 1 }
        let list = arrayTasks.split(separator: "%").first ?? ""
        return list.split(separator: ",").reduce(0) { count, part in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            return count + (bounds.count == 2 ? max(0, bounds[1] - bounds[0] + 1) : 1)
        }
    }

    /// The job can still run or is running (pending, running, completing, suspended, requeued…).
    public var isActive: Bool {
        !Self.finalStates.contains(state) && !waitsForever
    }

    /// Pending on a dependency that can never be satisfied (a task it waits for under `afterok`
    /// failed): on clusters without `kill_invalid_depend` such a job would stay pending forever.
    public var waitsForever: Bool { state == "PENDING" && reason == "DependencyNeverSatisfied" }

    /// Slurm removed the job because its dependency can never be satisfied.
    public var cancelledForDependency: Bool { state == "CANCELLED" && reason == "DependencyNeverSatisfied" }

    public var succeeded: Bool { state == "COMPLETED" }

    /// States a job does not leave.
    public static let finalStates: Set<String> = [
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED",
        "REVOKED", "SPECIAL_EXIT",
    ]
}
