import Catalog
import Cluster
import Foundation
@testable import GauntletCLI
import GoldenFiles
import Grid
import Results
import Spec
import Testing

/// `scontrol -o show job` as Slurm 22.05 printed it for an array `--array=0-3%1` (task 0 failed,
/// task 1 running, tasks 2-3 pending on the throttle) and a job depending on it, cut to the fields
/// around the ones read; the last line is that job once Slurm knows the dependency can never be met.
let scontrolFixture = """
    JobId=2 ArrayJobId=2 ArrayTaskId=2-3%1 ArrayTaskThrottle=1 JobName=my job UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=JobArrayTaskLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 AllocNode:Sid=localhost:12384 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=12052M,node=1,billing=1 WorkDir=/tmp StdOut=/tmp/slurm-2_4294967294.out Power=
    JobId=5 ArrayJobId=2 ArrayTaskId=1 ArrayTaskThrottle=1 JobName=my job UserId=root(0) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 ExitCode=0:0 RunTime=00:00:00 WorkDir=/tmp StdOut=/tmp/slurm-2_1.out Power=
    JobId=4 ArrayJobId=2 ArrayTaskId=0 ArrayTaskThrottle=1 JobName=my job UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 ExitCode=1:0 RunTime=00:00:03 WorkDir=/tmp StdOut=/tmp/slurm-2_0.out Power=
    JobId=3 JobName=wrap UserId=root(0) JobState=PENDING Reason=Dependency Dependency=afterok:2_*(unfulfilled) Requeue=1 ExitCode=0:0 WorkDir=/tmp Power=
    JobId=3 JobName=wrap UserId=root(0) JobState=PENDING Reason=DependencyNeverSatisfied Dependency=afterok:2_*(failed) Requeue=1 ExitCode=0:0 WorkDir=/tmp Power=
    """

/// Runs a script with bash, as Slurm runs a batch script (its output discarded); returns the exit status.
func bash(_ script: String, environment: [String: String] = [:], in directory: String? = nil) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [script]
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

@Suite struct SlurmTests {
    let golden = GoldenFolder()

    @Test func scontrolRecordsParse() {
        let jobs = SlurmJob.parse(scontrolFixture)
        #expect(jobs.count == 5)
        #expect(jobs[0] == SlurmJob(jobID: "2", arrayJobID: "2", arrayTasks: "2-3%1", state: "PENDING", reason: "JobArrayTaskLimit", exitCode: "0:0"))
        #expect(jobs[0].taskCount == 2 && jobs[0].isActive && !jobs[0].waitsForever)
        #expect(jobs[1].state == "RUNNING" && jobs[1].arrayTasks == "1" && jobs[1].isActive)
        #expect(jobs[2].state == "FAILED" && jobs[2].exitCode == "1:0" && !jobs[2].isActive && !jobs[2].succeeded)
        #expect(jobs[3].arrayJobID == nil && jobs[3].reason == "Dependency" && jobs[3].isActive)
        // Pending forever: not active (waiting for it would never end), and flagged.
        #expect(jobs[4].waitsForever && !jobs[4].isActive)
        #expect(SlurmJob(jobID: "9", state: "CANCELLED", reason: "DependencyNeverSatisfied").cancelledForDependency)
        #expect(SlurmJob(jobID: "9", arrayTasks: "1,4-6%2", state: "PENDING").taskCount == 4)
        #expect(SlurmJob.parse("slurm_load_jobs error: Invalid job id specified\n").isEmpty)
    }

    func scripts(
        tasks: Int, maxArraySize: Int, options: SlurmOptions = SlurmOptions(), executable: String = "/opt/gauntlet/bin/gauntlet",
        workingDirectory: String = "/home/me/project"
    ) -> SlurmScripts {
        SlurmScripts(
            experiment: "sweep", number: 2, workingDirectory: workingDirectory, executable: executable,
            specArguments: ["experiments/sweep.yaml", "attacks[0].epsilon=linspace(0,0.1,5)", "model=it's"], output: "results",
            directory: "/home/me/project/results/sweep/slurm/submission-2", options: options, tasks: tasks, maxArraySize: maxArraySize,
            command: "gauntlet submit experiments/sweep.yaml --slurm")
    }

    @Test func largeSweepsAreSplitIntoArraysTheClusterAccepts() {
        let split = scripts(tasks: 2500, maxArraySize: 1001)
        #expect(split.chunks == [0..<1001, 1001..<2002, 2002..<2500])
        let last = split.arrayScript(2)
        #expect(last.contains("#SBATCH --array=0-497\n") && last.contains("shard=$((SLURM_ARRAY_TASK_ID + 2002))"))
        #expect(last.contains("--shard \"$shard/2500\""))
        #expect(scripts(tasks: 3, maxArraySize: 1001).chunks == [0..<3])
        #expect(scripts(tasks: 4, maxArraySize: 2).chunks == [0..<2, 2..<4])
    }

    @Test func scriptsAreGolden() throws {
        var options = SlurmOptions()
        options.partition = "gpu"
        options.time = "2:00:00"
        options.cpusPerTask = 4
        options.memory = "8G"
        options.arrayParallelism = 10
        options.account = "lab"
        options.extra = ["--constraint=avx512"]
        let scripts = scripts(tasks: 1500, maxArraySize: 1001, options: options)
        try golden.expect("slurm-array-2.sbatch", scripts.arrayScript(1))
        try golden.expect("slurm-merge.sbatch", scripts.mergeScript(after: ["101", "102"]))
    }

    @Test func mergeJobDependsOnEveryArray() {
        var options = SlurmOptions()
        let any = scripts(tasks: 3, maxArraySize: 1001, options: options).mergeScript(after: ["7", "8"])
        #expect(any.contains("#SBATCH --dependency=afterany:7:8\n") && any.contains("#SBATCH --kill-on-invalid-dep=yes\n"))
        options.mergeAfter = .ok
        options.extra = ["--kill-on-invalid-dep=no"]
        let ok = scripts(tasks: 3, maxArraySize: 1001, options: options).mergeScript(after: ["7"])
        #expect(ok.contains("#SBATCH --dependency=afterok:7\n"))
        // sbatch lets a `yes` win over a later `no`: the user's choice must be the only one.
        #expect(!ok.contains("--kill-on-invalid-dep=yes") && ok.contains("#SBATCH --kill-on-invalid-dep=no\n"))
    }

    /// Runs the generated scripts with bash, with a stand-in executable that records its arguments.
    @Test func scriptsRunTheirShardWithTheArgumentsIntact() throws {
        let workspace = try Workspace()
        let record = "\(workspace.directory)/calls.txt"
        let stub = try workspace.write(
            "fake gauntlet",
            """
            #!/bin/bash
            { echo "cwd=$PWD"; printf '<%s>' "$@"; echo; } >> '\(record)'
            [ "$1" != merge ]
            """)
        chmod(stub, 0o755)
        let scripts = scripts(tasks: 6, maxArraySize: 4, executable: stub, workingDirectory: workspace.directory)
        for (chunk, task) in [(1, 1)] {
            let path = try workspace.write("array.sbatch", scripts.arrayScript(chunk))
            #expect(try bash(path, environment: ["SLURM_ARRAY_TASK_ID": "\(task)"]) == 0)
        }
        let merge = try workspace.write("merge.sbatch", scripts.mergeScript(after: ["1", "2"]))
        #expect(try bash(merge) == 1, "the merge script exits with the merge's status")
        let calls = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").map(String.init)
        let cwd = "cwd=\(workspace.directory)"
        let spec = "<experiments/sweep.yaml><attacks[0].epsilon=linspace(0,0.1,5)><model=it's>"
        #expect(
            calls == [
                cwd, "<run>\(spec)<--output><results><--cells><\(scripts.workListPath)><--shard><5/6><--jobs><1><--blas-threads><1><--no-index>",
                cwd, "<merge>\(spec)<--output><results>",
                cwd, "<report><results/sweep>",  // the report is written even when cells failed
            ])
    }

    @Test func workListsKeepCellsThatShareTrainingTogether() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "units.yaml",
            resumableExperiment
                .replacingOccurrences(of: "lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}", with: "lr: {sweep: [0.001, 0.002]}")
                .replacingOccurrences(of: "epsilon: 0.05", with: "epsilon: {sweep: [0.02, 0.1]}"))
        let grid = try ResolvedGrid.load(spec)
        let ids = grid.trials.map(\.trial.id)
        let list = WorkList.grouping(grid.trials)
        // Cells differing only in the attack's epsilon share a unit; the learning rate splits units.
        #expect(list.units.count == 2 && list.cellCount == 4)
        #expect(Set(list.units.flatMap { $0 }) == Set(ids))
        for unit in list.units {
            let lrs = Set(unit.map { id in grid.trials.first { $0.trial.id == id }!.trial.spec.training.canonical })
            #expect(unit.count == 2 && lrs.count == 1)
        }
        #expect(list.trials(of: Shard(index: 1, count: 2)) == list.units[1])
        #expect(list.trials(of: Shard(index: 0, count: 1)).count == 4)

        let path = try workspace.write("cells.txt", list.text(experiment: grid.name))
        #expect(try WorkList.read(path) == list)
        try list.check(against: grid, file: path)

        let bad = try workspace.write("bad.txt", "# comment\n\(ids[0])\n\(ids[1]) not-an-id\n")
        #expect(throws: (any Error).self) { try WorkList.read(bad) }
        do { _ = try WorkList.read(bad) } catch { #expect("\(error)" == "\(bad): line 3: 'not-an-id' is not a trial id (16 hex digits)") }
        let empty = try workspace.write("empty.txt", "# nothing\n")
        do { _ = try WorkList.read(empty); Issue.record("an empty list must be refused") } catch { #expect("\(error)" == "\(empty): lists no trial") }
        let other = WorkList(units: [[ids[0]], ["0123456789abcdef"]])
        do {
            try other.check(against: grid, file: "cells.txt")
            Issue.record("a trial outside the grid must be refused")
        } catch {
            #expect("\(error)".hasPrefix("cells.txt: trial 0123456789abcdef not in the grid of \(spec)"))
        }
    }

    @Test func submissionRecordsRoundTrip() throws {
        let workspace = try Workspace()
        var options = SlurmOptions()
        options.time = "10"
        let record = SlurmSubmission(
            number: 3, experiment: "x", submitted: "2026-11-24T00:00:00Z", command: ["gauntlet", "submit", "x.yaml", "--slurm"],
            workingDirectory: "/w", file: "x.yaml", overrides: ["seed=1"], output: "results", resume: true, options: options, tasks: 2,
            submittedCells: ["0123456789abcdef"], arrays: [.init(jobID: "11", script: "array-1.sbatch", firstShard: 0, shards: 2)],
            mergeJobID: "12", gridCells: [.init(id: "0123456789abcdef", label: "mlp seed=1")])
        try record.write(in: workspace.directory)
        try FileManager.default.createDirectory(atPath: "\(workspace.directory)/slurm/submission-4", withIntermediateDirectories: true)
        // Submission 4 has no record (it failed midway): the latest is 3.
        #expect(SlurmSubmission.numbers(in: workspace.directory) == [3, 4])
        let read = try #require(try SlurmSubmission.latest(in: workspace.directory))
        #expect(read.number == 3 && read.jobIDs == ["11", "12"] && read.options == options && read.gridCells == record.gridCells)
        #expect(read.resume && read.overrides == ["seed=1"])
    }

    func status(_ states: [ExperimentStatus.State], resume: Bool = false) -> ExperimentStatus {
        let cells = states.enumerated().map { (SlurmSubmission.Cell(id: String(format: "%016x", $0.offset), label: "mlp lr=\($0.offset)"), $0.element) }
        let submission = SlurmSubmission(
            number: 1, experiment: "x", submitted: "2026-11-24T00:00:00Z", command: ["gauntlet", "submit", "x.yaml", "--slurm"],
            workingDirectory: "/w", file: "x.yaml", overrides: [], output: "results", resume: resume, options: SlurmOptions(),
            tasks: states.count, submittedCells: cells.map(\.0.id), arrays: [.init(jobID: "2", script: "array-1.sbatch", firstShard: 0, shards: states.count)],
            mergeJobID: "3", gridCells: cells.map(\.0))
        return ExperimentStatus(experimentDirectory: "results/x", cells: cells, submission: submission)
    }

    @Test func statusTellsDoneRunningAndFailed() {
        let done = Status.render(
            status([.complete, .complete]),
            jobs: [
                "2": .success([
                    SlurmJob(jobID: "4", arrayJobID: "2", arrayTasks: "0", state: "COMPLETED"),
                    SlurmJob(jobID: "5", arrayJobID: "2", arrayTasks: "1", state: "COMPLETED"),
                ]),
                "3": .success([SlurmJob(jobID: "3", state: "COMPLETED")]),
            ])
        #expect(done.1 == .done)
        #expect(done.0.contains("2 cell(s): 2 complete, 0 failed, 0 missing") && done.0.contains("array job 2: 2 COMPLETED"))

        // Jobs Slurm has forgotten (MinJobAge) are no failure: the cells tell.
        #expect(Status.render(status([.complete]), jobs: ["2": .success(nil), "3": .success(nil)]).1 == .done)

        let running = Status.render(
            status([.complete, .missing, .missing]),
            jobs: [
                "2": .success(SlurmJob.parse(scontrolFixture).filter { $0.arrayJobID == "2" && $0.state != "FAILED" }),
                "3": .success([SlurmJob(jobID: "3", state: "PENDING", reason: "Dependency")]),
            ])
        #expect(running.1 == .running)
        #expect(running.0.contains("array job 2: 2 PENDING, 1 RUNNING") && running.0.contains("missing  mlp lr=1 [0000000000000001]"))
        #expect(!running.0.contains("--resume"), "no resubmission advice while jobs run")

        let stuck = Status.render(
            status([.complete, .failed("training diverged")]),
            jobs: [
                "2": .success([
                    SlurmJob(jobID: "4", arrayJobID: "2", arrayTasks: "0", state: "COMPLETED"),
                    SlurmJob(jobID: "5", arrayJobID: "2", arrayTasks: "1", state: "FAILED", reason: "NonZeroExitCode", exitCode: "1:0"),
                ]),
                "3": .success([SlurmJob(jobID: "3", state: "PENDING", reason: "DependencyNeverSatisfied")]),
            ])
        #expect(stuck.1 == .failed)
        #expect(stuck.0.contains("failed   mlp lr=1 [0000000000000001]: training diverged"))
        #expect(stuck.0.contains("array job 2 task 1: FAILED, exit 1:0, reason NonZeroExitCode; log: results/x/slurm/submission-1/logs/task-2_1.log"))
        #expect(stuck.0.contains("merge job 3: 1 PENDING (DependencyNeverSatisfied)"))
        #expect(stuck.0.contains("can never be satisfied") && stuck.0.contains("it would wait forever: scancel 3"))
        #expect(stuck.0.contains("cd /w && gauntlet submit x.yaml --slurm --resume"))
        let cancelled = Status.render(
            status([.complete, .failed("x")]), jobs: ["3": .success([SlurmJob(jobID: "3", state: "CANCELLED", reason: "None")])],
            cancelled: ["3"])
        #expect(cancelled.0.contains("cancelled it (scancel 3)") && cancelled.0.contains("gauntlet merge x.yaml --output results && gauntlet report results/x"))

        let unknown = Status.render(status([.complete]), jobs: ["2": .failure(SlurmError(command: "scontrol", message: "not found")), "3": .success(nil)])
        #expect(unknown.0.contains("array job 2: state unknown (scontrol: not found)") && unknown.1 == .done)
    }
}

/// `gauntlet submit` and `gauntlet status` as processes, against stand-ins for sbatch, scontrol
/// and scancel on the PATH (scripts/check-slurm.sh does the same against a real Slurm in CI).
/// The array scripts they write are then run with bash, as Slurm would run them.
@Suite(.serialized) struct SlurmBinaryTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Binary.path), "build the executable first: swift build --build-tests")
    }

    /// A folder of stand-ins: sbatch answers job ids from 100 and logs its arguments (it refuses
    /// merge scripts when FAIL_MERGE is set), scontrol reports MaxArraySize 3 and every job in
    /// the state STUB_STATE (COMPLETED by default), scancel logs what it cancels.
    func stubs(_ workspace: Workspace) throws -> [String: String] {
        let bin = "\(workspace.directory)/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let scripts = [
            "sbatch": """
            #!/bin/bash
            n=$(cat '\(bin)/next' 2>/dev/null || echo 100)
            echo "$*" >> '\(bin)/sbatch.log'
            if [ -n "${FAIL_MERGE:-}" ] && [[ "$2" == *merge.sbatch ]]; then echo "sbatch: error: Batch job submission failed: Invalid account" >&2; exit 1; fi
            echo $((n + 1)) > '\(bin)/next'
            echo "$n;cluster"
            """,
            "scontrol": """
            #!/bin/bash
            if [ "$1" = show ]; then echo "MaxArraySize            = 3"; exit 0; fi
            echo "JobId=$4 JobName=x JobState=${STUB_STATE:-COMPLETED} Reason=None ExitCode=0:0"
            """,
            "scancel": "#!/bin/bash\necho \"$*\" >> '\(bin)/scancel.log'\n",
        ]
        for (name, text) in scripts {
            let path = try workspace.write("bin/\(name)", text + "\n")
            chmod(path, 0o755)
        }
        return ["PATH": "\(bin):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
    }

    @Test func submitWritesArraysThatRunEveryCellOnceThenStatusAndResume() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("sweep.yaml", resumableExperiment.replacingOccurrences(of: "epochs: 4", with: "epochs: 1"))
        let environment = try stubs(workspace)
        let output = "\(workspace.directory)/results"
        let submitted = try Binary.run(["submit", spec, "--slurm", "--time", "10", "--output", output], environment: environment)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stdout.contains("submission 1: 6 cell(s) in 6 unit(s) of work, 6 task(s) in 2 array(s)"), "\(submitted.stdout)")
        #expect(submitted.stdout.contains("array job 100: shards 0–2") && submitted.stdout.contains("merge job 102"))
        let folder = "\(output)/resumable"
        let submission = "\(folder)/slurm/submission-1"
        let merge = try String(contentsOfFile: "\(submission)/merge.sbatch", encoding: .utf8)
        #expect(merge.contains("#SBATCH --dependency=afterany:100:101\n"))
        let record = try #require(try SlurmSubmission.latest(in: folder))
        #expect(record.jobIDs == ["100", "101", "102"] && record.gridCells.count == 6 && record.tasks == 6)

        // Nothing has run yet: six missing cells, jobs "completed" (a launch that failed looks like that).
        let before = try Binary.run(["status", folder], environment: environment)
        #expect(before.status == 1 && before.stdout.contains("6 cell(s): 0 complete, 0 failed, 6 missing"), "\(before.stdout)")
        #expect(before.stdout.contains("--resume"))

        // Run the tasks as Slurm would: each writes its cell and no index; the merge writes index and report.
        for (script, tasks) in [("array-1.sbatch", 0..<3), ("array-2.sbatch", 0..<3)] {
            for task in tasks { #expect(try bash("\(submission)/\(script)", environment: ["SLURM_ARRAY_TASK_ID": "\(task)"], in: workspace.directory) == 0) }
        }
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/resumable.h5"), "array tasks leave the index to the merge job")
        #expect(try bash("\(submission)/merge.sbatch", in: workspace.directory) == 0)
        #expect(FileManager.default.fileExists(atPath: "\(folder)/resumable.h5") && FileManager.default.fileExists(atPath: "\(folder)/report.md"))
        let logs = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/logs").sorted()
        #expect(logs.count == 6 && logs.allSatisfy { $0.hasPrefix("shard-") }, "one worker log per shard: \(logs)")
        let after = try Binary.run(["status", folder], environment: environment)
        #expect(after.status == 0 && after.stdout.contains("6 complete, 0 failed, 0 missing"), "\(after.stdout)")

        let nothing = try Binary.run(["submit", spec, "--slurm", "--output", output, "--resume"], environment: environment)
        #expect(nothing.status == 0 && nothing.stdout.contains("all 6 cell(s) of 'resumable' are complete"), "\(nothing.stdout)")

        let lost = record.gridCells[4].id
        try FileManager.default.removeItem(atPath: "\(folder)/cells/\(lost).h5")
        let busy = try Binary.run(
            ["submit", spec, "--slurm", "--output", output, "--resume"], environment: environment.merging(["STUB_STATE": "RUNNING"]) { $1 })
        #expect(busy.status == 1 && busy.stderr.contains("job(s) 100, 101, 102 of submission 1 are still queued or running"), "\(busy.stderr)")
        let resumed = try Binary.run(["submit", spec, "--slurm", "--output", output, "--resume"], environment: environment)
        #expect(resumed.status == 0 && resumed.stdout.contains("submission 2: 1 cell(s) in 1 unit(s) of work, 1 task(s) in 1 array(s)"), "\(resumed.stdout)")
        let list = try WorkList.read("\(folder)/slurm/submission-2/cells.txt")
        #expect(list.units == [[lost]])
    }

    @Test func aFailedSubmissionTakesBackWhatItSubmitted() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("sweep.yaml", resumableExperiment)
        var environment = try stubs(workspace)
        environment["FAIL_MERGE"] = "1"
        let result = try Binary.run(["submit", spec, "--slurm", "--output", "\(workspace.directory)/results"], environment: environment)
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("Invalid account") && result.stderr.contains("cancelled the array job(s) already submitted: 100, 101"), "\(result.stderr)")
        #expect(try String(contentsOfFile: "\(workspace.directory)/bin/scancel.log", encoding: .utf8) == "100 101\n")
        #expect(try SlurmSubmission.latest(in: "\(workspace.directory)/results/resumable") == nil, "no record of a submission that did not happen")
    }

    @Test func dryRunPrintsAndWritesNothing() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("sweep.yaml", resumableExperiment)
        let result = try Binary.run(
            [
                "submit", spec, "--slurm", "--dry-run", "--max-array-size", "4", "--array-parallelism", "2",
                "--output", "\(workspace.directory)/results",
            ], environment: try stubs(workspace))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("#SBATCH --array=0-3%2\n") && result.stdout.contains("#SBATCH --array=0-1%2\n"))
        #expect(result.stdout.contains("--dependency=afterany:<job id of array 1>:<job id of array 2>"))
        #expect(!FileManager.default.fileExists(atPath: "\(workspace.directory)/results"))
        #expect(!FileManager.default.fileExists(atPath: "\(workspace.directory)/bin/sbatch.log"), "sbatch must not be called")

        let noFlag = try Binary.run(["submit", spec, "--dry-run"])
        #expect(noFlag.status != 0 && noFlag.stderr.contains("give --slurm"))
    }

    @Test func statusOfALocalRunAndOfNothing() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "sweep.yaml",
            resumableExperiment
                .replacingOccurrences(of: "epochs: 4", with: "epochs: 1")
                .replacingOccurrences(of: "lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}", with: "lr: {sweep: [0.001, 0.002]}"))
        #expect(try Binary.run(["run", spec, "--quiet", "--output", workspace.directory]).status == 0)
        let folder = "\(workspace.directory)/resumable"
        let complete = try Binary.run(["status", folder])
        #expect(complete.status == 0 && complete.stdout == "'resumable' (\(folder)): 2 cell(s): 2 complete, 0 failed, 0 missing\n", "\(complete.stdout)")
        let cell = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(folder)/cells").first { $0.hasSuffix(".h5") })
        try FileManager.default.removeItem(atPath: "\(folder)/cells/\(cell)")
        let missing = try Binary.run(["status", folder])
        #expect(missing.status == 1 && missing.stdout.contains("missing  mlp [\(cell.dropLast(3))]"), "\(missing.stdout)")
        let nowhere = try Binary.run(["status", workspace.directory])
        #expect(nowhere.status == 1 && nowhere.stderr.contains("has neither an index"), "\(nowhere.stderr)")
    }
}
