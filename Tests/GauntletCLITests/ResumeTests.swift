import Foundation
import Storage
import Testing

/// A sweep of six synthetic cells, slow enough (in a debug build) to be killed midway.
let resumableExperiment = """
    schema_version: 1
    name: resumable
    seed: 3
    dataset: {type: synthetic, train: 1500, validation: 100, test: 200, classes: 4, side: 12, noise: 0.5}
    models:
      - name: mlp
        layers: [{type: flatten}, {type: linear, out_features: 64}, {type: relu}, {type: linear, out_features: 4}]
    training: {optimizer: {type: adam, lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}}, epochs: 4, batch_size: 32}
    attacks: [{type: fgsm, epsilon: 0.05}]
    """

@Suite(.serialized) struct ResumeTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Binary.path), "build the executable first: swift build --build-tests")
    }

    func cellFiles(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".h5") && !$0.hasPrefix(".") }.sorted()
    }

    @Test func aKilledSweepResumesWithoutRerunningCompleteCells() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("resumable.yaml", resumableExperiment)
        let cells = "\(workspace.directory)/resumable/cells"

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = ["run", spec, "--quiet", "--output", workspace.directory]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while cellFiles(cells).count < 2, Date() < deadline, process.isRunning { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let survivors = cellFiles(cells)
        try #require(survivors.count >= 2 && survivors.count < 6, "killed after \(survivors.count) of 6 cells")
        // What the first run finished, with the time it finished.
        var finished: [String: AttributeValue?] = [:]
        for name in survivors { finished[name] = try HDF5File.open("\(cells)/\(name)").attribute("finished") }

        let rerun = try Binary.run(["run", spec, "--output", workspace.directory])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        // A worker may finish the cell it had in flight before it notices its parent is gone
        // (it checks every 100 ms), so the rerun skips at least the cells seen at the kill.
        let skippedText = rerun.stderr.split(separator: "\n").first { $0.contains("trial(s) already complete") }
        let skipped = skippedText.flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        #expect(skipped >= survivors.count && skipped < 6, "\(rerun.stderr)")
        let all = cellFiles(cells)
        #expect(all.count == 6)
        for name in all {
            let file = try HDF5File.open("\(cells)/\(name)")  // every file opens
            #expect(try file.attribute("status") == .string("completed"))
            if let before = finished[name] { #expect(try file.attribute("finished") == before, "\(name) ran twice") }
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cells)) ?? []).allSatisfy { !$0.hasSuffix(".tmp") })
        let index = try HDF5File.open("\(workspace.directory)/resumable/resumable.h5")
        #expect(try index.attribute("complete") == .integer(6))
    }

    @Test func oneFailingCellIsRecordedAndTheOthersComplete() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "failing.yaml",
            resumableExperiment
                .replacingOccurrences(of: "lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}", with: "lr: {sweep: [0.001, 1.0e+30, 0.003]}")
                .replacingOccurrences(of: "epochs: 4", with: "epochs: 1"))
        let result = try Binary.run(["run", spec, "--output", workspace.directory])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: 1 of 3 trial(s) failed"))
        let index = try HDF5File.open("\(workspace.directory)/resumable/resumable.h5")
        #expect(try index.readStrings("/trials/status") == ["completed", "failed", "completed"])
        let message = try index.readStrings("/trials/message")[1]
        #expect(message.hasPrefix("training diverged: loss is "), "\(message)")
        #expect(message.contains(" at epoch 1, step ") && message.hasSuffix(" of 47"), "\(message)")
        #expect(result.stdout.contains("FAILED: training diverged"))
        // Not a terminal: one plain progress line per finished trial.
        #expect(result.stderr.contains("progress: [1/3] ") && result.stderr.contains("progress: [2/3] "))
        #expect(result.stderr.contains("progress: [3/3] 1 failed, 0 remaining, ETA 0s"))
        // A rerun retries only the failed cell.
        let again = try Binary.run(["run", spec, "--output", workspace.directory])
        #expect(again.stderr.contains("2 trial(s) already complete"))
    }

    @Test func failFastStopsAfterTheFirstFailureAndJSONSummarises() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "fast.yaml",
            resumableExperiment
                .replacingOccurrences(of: "lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}", with: "lr: {sweep: [1.0e+30, 0.001, 0.002]}")
                .replacingOccurrences(of: "epochs: 4", with: "epochs: 1"))
        let result = try Binary.run(["run", spec, "--jobs", "1", "--fail-fast", "--json", "--output", workspace.directory])
        #expect(result.status == 1)
        #expect(result.stderr.contains("stopped after the first failure (--fail-fast)"))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["trials"] as? Int == 3 && summary["failed"] as? Int == 1 && summary["missing"] as? Int == 2)
        #expect(summary["stopped_early"] as? Bool == true)
        let cells = try #require(summary["cells"] as? [[String: Any]])
        #expect(cells.map { $0["status"] as? String } == ["failed", "missing", "missing"])
        #expect((cells[0]["message"] as? String)?.hasPrefix("training diverged") == true)
        #expect((cells[0]["parameters"] as? [String: String])?["training.optimizer.lr"] == "1.0e+30")

        let rest = try Binary.run(["run", spec, "--quiet", "--json", "--output", workspace.directory, "training.optimizer.lr=0.001,0.002"])
        let again = try #require(try JSONSerialization.jsonObject(with: Data(rest.stdout.utf8)) as? [String: Any])
        let metrics = try #require((again["cells"] as? [[String: Any]])?.first?["metrics"] as? [String: [Double]])
        #expect(metrics["accuracy"]?.count == 2 && metrics["cross_entropy"]?.count == 2)
    }

    @Test func aCrashingCellIsRecordedAndTheSweepGoesOn() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "crash.yaml",
            resumableExperiment
                .replacingOccurrences(of: "lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}", with: "lr: {sweep: [0.001, 0.002, 0.003]}")
                .replacingOccurrences(of: "epochs: 4", with: "epochs: 1"))
        let plan = try Binary.run(["plan", spec])
        let crashing = try #require(plan.stdout.split(separator: "\n").dropFirst(3).first?.split(separator: " ").dropFirst().first.map(String.init))
        let result = try Binary.run(["run", spec, "--output", workspace.directory], environment: ["GAUNTLET_CRASH_TRIAL": crashing])
        #expect(result.status == 1)
        let index = try HDF5File.open("\(workspace.directory)/resumable/resumable.h5")
        let ids = try index.readStrings("/trials/trial_id"), statuses = try index.readStrings("/trials/status")
        let position = try #require(ids.firstIndex(of: crashing))
        #expect(statuses[position] == "failed" && statuses.filter { $0 == "completed" }.count == 2)
        let message = try index.readStrings("/trials/message")[position]
        #expect(message.hasPrefix("crashed (signal 11) while running this trial; log: logs/worker-"), "\(message)")
        let logName = String(message.split(separator: " ").last ?? "")
        let log = try String(contentsOfFile: "\(workspace.directory)/resumable/\(logName)", encoding: .utf8)
        #expect(log.contains("experiment 'resumable'") && log.contains("Program crashed"), "\(log.prefix(400))")
        #expect(result.stderr.contains("FAILED: crashed (signal 11)"))
        // In process, the same crash would end the run: the option says so.
        #expect(try Binary.run(["run", "--help"]).stdout.contains("--in-process"))
    }

    @Test func shardsMergedEqualOneRun() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("sharded.yaml", resumableExperiment.replacingOccurrences(of: "epochs: 4", with: "epochs: 1"))
        for shard in 0..<3 {
            let result = try Binary.run(["run", spec, "--quiet", "--shard", "\(shard)/3", "--output", "\(workspace.directory)/sharded"])
            #expect(result.status == 0, "\(result.stderr)")
            if shard == 0 {
                // After the first shard the index shows its two cells and four missing ones.
                let partial = try HDF5File.open("\(workspace.directory)/sharded/resumable/resumable.h5")
                #expect(try partial.attribute("complete") == .integer(2) && partial.attribute("missing") == .integer(4))
                #expect(result.stderr.contains("note: 4 of 6 trial(s) have no results yet"))
            }
        }
        let merged = try Binary.run(["merge", spec, "--output", "\(workspace.directory)/sharded"])
        #expect(merged.status == 0, "\(merged.stderr)")
        let single = try Binary.run(["run", spec, "--quiet", "--output", "\(workspace.directory)/single"])
        #expect(single.status == 0)
        #expect(merged.stdout.replacingOccurrences(of: "/sharded/", with: "/single/") == single.stdout)

        let a = try HDF5File.open("\(workspace.directory)/sharded/resumable/resumable.h5")
        let b = try HDF5File.open("\(workspace.directory)/single/resumable/resumable.h5")
        #expect(try a.members(of: "/table") == b.members(of: "/table"))
        for column in try a.members(of: "/table") {
            if column == "accuracy" || column == "cross_entropy" || column == "repeat" || column == "seed" {
                #expect(try a.readDoubles("/table/\(column)").values == b.readDoubles("/table/\(column)").values, "\(column)")
            } else {
                #expect(try a.readStrings("/table/\(column)") == b.readStrings("/table/\(column)"), "\(column)")
            }
        }
    }

    @Test func cellsDifferingOnlyInEvaluationTrainOnce() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "shared.yaml",
            resumableExperiment
                .replacingOccurrences(of: "lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}", with: "lr: 0.002")
                .replacingOccurrences(of: "epochs: 4", with: "epochs: 2")
                .replacingOccurrences(of: "epsilon: 0.05", with: "epsilon: {sweep: [0.02, 0.1]}"))
        let result = try Binary.run(["run", spec, "--output", workspace.directory])
        #expect(result.status == 0, "\(result.stderr)")
        let index = try HDF5File.open("\(workspace.directory)/resumable/resumable.h5")
        let ids = try index.readStrings("/trials/trial_id")
        #expect(ids.count == 2 && ids[0] != ids[1])
        // The worker logs show a single two-epoch training run for both trials.
        let logs = "\(workspace.directory)/resumable/logs"
        let log = try FileManager.default.contentsOfDirectory(atPath: logs).map {
            try String(contentsOfFile: "\(logs)/\($0)", encoding: .utf8)
        }.joined()
        #expect(log.components(separatedBy: "] epoch ").count - 1 == 2, "one training run of two epochs")
        #expect(log.contains("trained once for 2 trials that differ only in evaluation"))
        let first = "/cells/\(ids[0])", second = "/cells/\(ids[1])"
        #expect(try index.readFloats("\(first)/state_dict/1.weight").values == index.readFloats("\(second)/state_dict/1.weight").values)
        #expect(try index.readDoubles("\(first)/learning_curve/train_loss").values == index.readDoubles("\(second)/learning_curve/train_loss").values)
        let fgsm = try [first, second].map { try index.readDoubles("\($0)/metrics/accuracy").values[1] }
        #expect(fgsm[1] < fgsm[0], "a larger epsilon must not help: \(fgsm)")
    }

    @Test func h5pyReadsTheDocumentedLayout() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "layout.yaml",
            resumableExperiment
                .replacingOccurrences(of: "lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}", with: "lr: {sweep: [0.001, 0.002]}")
                .replacingOccurrences(of: "epochs: 4", with: "epochs: 1")
                .replacingOccurrences(
                    of: "attacks: [{type: fgsm, epsilon: 0.05}]",
                    with: """
                        attacks: [{type: fgsm, epsilon: 0.05}, {type: fgsm, epsilon: 0.2}, {type: pgd, epsilon: 0.1, steps: 2}]
                        noise: [{type: gaussian_noise, severity: 2}, {type: rotation, degrees: 15}]
                        metrics: [{type: accuracy}, {type: cross_entropy}, {type: confusion_matrix}, {type: auroc, curve_points: 20}, {type: ece}]
                        calibration: {methods: [{type: temperature}, {type: isotonic}]}
                        uncertainty: {methods: [{type: mc_dropout, passes: 4, per_layer: true}, {type: ensemble, members: 2}], ood: [{type: uniform_images, samples: 50}]}
                        store: {logits: true}
                        """
                )
                .replacingOccurrences(
                    of: "{type: relu}, {type: linear, out_features: 4}", with: "{type: relu}, {type: dropout, p: 0.2}, {type: linear, out_features: 4}"))
        #expect(try Binary.run(["run", spec, "--quiet", "--output", workspace.directory]).status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")  // Debian's python3-h5py, installed by make test
        process.arguments = ["\(Binary.packageRoot)/scripts/check_results_layout.py", "\(workspace.directory)/resumable/resumable.h5"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("layout ok: 2 cells"), "\(output)")
    }
}

@Suite(.serialized) struct DeterminismTests {
    /// The same cells with the same seeds and the same thread layout give bit-identical metrics and
    /// tensors, whether trained one after the other or two at a time.
    @Test func sameSeedsAndThreadsGiveIdenticalBits() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "determinism.yaml",
            resumableExperiment
                .replacingOccurrences(of: "lr: {sweep: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}", with: "lr: {sweep: [0.001, 0.003, 0.005]}")
                .replacingOccurrences(of: "epochs: 4", with: "epochs: 1"))
        var files: [HDF5File] = []
        for run in ["a", "b"] {
            let result = try Binary.run(["run", spec, "--quiet", "--jobs", "2", "--output", "\(workspace.directory)/\(run)"])
            #expect(result.status == 0, "\(result.stderr)")
            files.append(try HDF5File.open("\(workspace.directory)/\(run)/resumable/resumable.h5"))
        }
        let ids = try files[0].readStrings("/trials/trial_id")
        #expect(try files[1].readStrings("/trials/trial_id") == ids)
        for id in ids {
            let cell = "/cells/\(id)"
            #expect(try files[0].attribute("blas_threads", on: cell) == .integer(1))
            for path in ["metrics/accuracy", "metrics/cross_entropy", "learning_curve/train_loss"] {
                #expect(try files[0].readDoubles("\(cell)/\(path)").values == files[1].readDoubles("\(cell)/\(path)").values, "\(path)")
            }
            for key in try files[0].members(of: "\(cell)/state_dict") {
                #expect(try files[0].readFloats("\(cell)/state_dict/\(key)").values == files[1].readFloats("\(cell)/state_dict/\(key)").values)
            }
            #expect(try files[0].readIntegers("\(cell)/predictions").values == files[1].readIntegers("\(cell)/predictions").values)
        }
    }
}
