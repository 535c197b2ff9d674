import Catalog
import Datasets
import Foundation
import Grid
import Reporting
import Spec
import Storage
import Tensors

/// Which part of a grid one process runs: trials whose index is `index` modulo `count`.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public static let all = Shard(index: 0, count: 1)

    /// Parses `i/N` with 0 ≤ i < N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else { return nil }
        self.init(index: i, count: n)
    }

    public func contains(_ trialIndex: Int) -> Bool { trialIndex % count == index }
}

/// Runs a resolved grid: every trial of its shard whose cell file is not already complete (so a
/// rerun resumes), each written to `cells/<id>.h5` as soon as it ends; then rebuilds the index
/// from the cell files and renders the summary table. A failing trial is recorded and the
/// others go on.
public struct ExperimentRunner {
    public var grid: ResolvedGrid
    /// The folder under which `<experiment name>/` is written.
    public var outputDirectory: String
    public var shard: Shard
    /// Trials trained at once (default: one per core when there are at least two to train).
    public var jobs: Int?
    /// BLAS threads per job (default: cores / jobs).
    public var blasThreads: Int?
    /// Stop handing out trials after the first failure (trials in flight finish and are written).
    public var failFast = false
    /// Called after every trial is written: trials finished and failed so far in this run, and
    /// how many this run will run in all.
    public var progress: ((_ finished: Int, _ failed: Int, _ total: Int) -> Void)?
    public var log: (String) -> Void

    public init(grid: ResolvedGrid, outputDirectory: String, shard: Shard = .all, jobs: Int? = nil, failFast: Bool = false,
                log: @escaping (String) -> Void) {
        self.grid = grid
        self.outputDirectory = outputDirectory
        self.shard = shard
        self.jobs = jobs
        self.failFast = failFast
        self.log = log
    }

    /// Thrown inside the pool to stop it at the first failure under `failFast`.
    struct StopAfterFailure: Error {}

    /// How each group of trials runs in a child process, so that a crash (a signal) fails only
    /// that group's trials and the run goes on.
    public struct Isolation: Sendable {
        /// The gauntlet executable.
        public var executable: String
        /// Arguments that give the child this run's grid: the file, the overrides, `--output`.
        public var arguments: [String]

        public init(executable: String, arguments: [String]) {
            self.executable = executable
            self.arguments = arguments
        }
    }

    /// Run groups in child processes (nil: in this process).
    public var isolation: Isolation?
    /// Datasets loaded by this runner, kept across `run()` calls (a serving child loads each once).
    public let datasetCache = DatasetCache()
    /// Run only the trials with these ids (how an isolated run's child is told its group).
    public var onlyTrials: Set<String>?
    /// Rebuild the index after running (a child leaves that to its parent).
    public var writesIndex = true
    /// Worker logs are `logs/<prefix>-<slot>.log`; shards running at once (array tasks) need
    /// prefixes of their own.
    public var workerLogPrefix = "worker"

    public var experimentDirectory: String { "\(outputDirectory)/\(grid.name)" }
    /// The index file of this experiment.
    public var resultsPath: String { "\(experimentDirectory)/\(grid.name).h5" }
    public func cellPath(_ trial: Trial) -> String { "\(experimentDirectory)/cells/\(trial.id).h5" }

    public struct Report: Sendable {
        /// Trials this run executed (complete cells found on disk are not rerun).
        public var ran: Int
        public var skipped: Int
        /// Every trial of the grid with its cell, if present.
        public var cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)]
        public var resultsPath: String
        public var table: String
        /// Whether `failFast` stopped the run before every trial ran.
        public var stoppedEarly = false

        public init(ran: Int, skipped: Int, cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)], resultsPath: String,
                    table: String, stoppedEarly: Bool = false) {
            self.ran = ran
            self.skipped = skipped
            self.cells = cells
            self.resultsPath = resultsPath
            self.table = table
            self.stoppedEarly = stoppedEarly
        }
        public var failedCount: Int { cells.filter { if case .failed? = $0.summary?.status { true } else { false } }.count }
        public var missingCount: Int { cells.filter { $0.summary == nil }.count }
    }

    public func run() throws -> Report {
        let mine = grid.trials.filter { shard.contains($0.trial.index) && (onlyTrials?.contains($0.trial.id) ?? true) }
        let abandoned = AtomicFile.removeAbandoned(in: "\(experimentDirectory)/cells")
        if !abandoned.isEmpty { log("removed \(abandoned.count) temporary file(s) of an interrupted run") }

        // Trials that differ only in evaluation share one training run; complete cells are skipped.
        let incomplete = mine.filter { CellFile.summary(at: cellPath($0.trial), trialID: $0.trial.id)?.status != .completed }
        let skipped = mine.count - incomplete.count
        let inGridOrder = TrialRunner.trainingGroups(incomplete)

        let cores = ProcessInfo.processInfo.activeProcessorCount
        let jobs = max(1, jobs ?? Self.defaultJobs(inGridOrder, cores: cores))
        let pending = jobs > 1 ? Self.longestFirst(inGridOrder) : inGridOrder
        let threadsPerJob = max(1, blasThreads ?? cores / jobs)
        BLAS.setThreadCount(threadsPerJob)
        let provenance = Provenance.current(specFile: grid.document.file)
        let shardText = shard == .all ? "" : ", shard \(shard.index)/\(shard.count): \(mine.count) of them"
        log("gauntlet \(provenance.toolVersion): experiment '\(grid.name)', \(grid.trials.count) trial(s)\(shardText); \(jobs) job(s) × \(provenance.blasThreads) BLAS thread(s); products: \(provenance.blasCore)")
        if skipped > 0 { log("\(skipped) trial(s) already complete in \(experimentDirectory)/cells, not rerun") }

        // Worker processes load their own data: here it is only checked, so that a missing or
        // malformed file is one clear error before anything runs.
        var datasets: [String: DatasetSplits] = [:]
        for group in pending {
            let key = group[0].trial.spec.dataset.canonicalParameters
            guard datasets[key] == nil else { continue }
            if isolation != nil {
                try group[0].experiment.dataset.verify()
            } else {
                datasets[key] = try datasetCache.load(group[0].experiment.dataset, key: key, log: log)
            }
        }

        // Weights files are checked against their models here too, for the same reason.
        var checkedWeights: Set<String> = []
        for group in pending {
            let resolved = group[0].model
            guard resolved.weights != nil, checkedWeights.insert("\(resolved.name)\n\(resolved.weights!)").inserted else { continue }
            var rng = RandomSource(seed: 0)
            let model = try resolved.build(inputShape: group[0].experiment.dataset.sampleShape, normalization: group[0].experiment.normalization, rng: &rng)
            try StateDictFile.load(resolved, into: model)
        }

        let loaded = datasets
        let runner = TrialRunner(log: log)
        let counter = NSLock()
        nonisolated(unsafe) var ran = 0
        nonisolated(unsafe) var failures = 0
        let total = pending.reduce(0) { $0 + $1.count }
        var stopped = false
        do {
        let children = isolation.map { _ in ChildWorkerPool(count: jobs) }
        if isolation != nil { signal(SIGPIPE, SIG_IGN) }   // a dead child must not kill us through its pipe
        defer { children?.finishAll() }
        try WorkerPool.run(pending, threads: jobs) { group in
            if let isolation, let children {
                for outcome in try runInChild(group, isolation: isolation, children: children, threads: threadsPerJob, provenance: provenance) {
                    counter.lock()
                    ran += 1
                    if case .failed = outcome { failures += 1 }
                    progress?(ran, failures, total)
                    counter.unlock()
                    if failFast, case .failed = outcome { throw StopAfterFailure() }
                }
                return
            }
            let first = group[0]
            let data = loaded[first.trial.spec.dataset.canonicalParameters]!
            let started = Date()
            let training = runner.train(first, data: data, extraModels: group.map(\.experiment.extraModels).max() ?? 0)
            if group.count > 1 { log("[\(first.trial.modelName)] trained once for \(group.count) trials that differ only in evaluation") }
            for resolved in group {
                var outcome = runner.evaluate(resolved, after: training, data: data)
                outcome.stageSeconds.insert(("data", datasetCache.claimLoadingSeconds(first.trial.spec.dataset.canonicalParameters)), at: 0)
                if case .failed(let message) = outcome.status { log("[\(resolved.trial.label)] FAILED: \(message)") }
                let heldOut = Set(resolved.experiment.heldOutClasses)   // removed from the test split the cell scores
                try CellFile.write(outcome, trial: resolved, grid: grid, testLabels: data.test.labels.filter { !heldOut.contains($0) }, provenance: provenance,
                                   started: started, to: cellPath(resolved.trial))
                counter.lock()
                ran += 1
                if case .failed = outcome.status { failures += 1 }
                progress?(ran, failures, total)
                counter.unlock()
                if failFast, case .failed = outcome.status { throw StopAfterFailure() }
            }
        }
        } catch is StopAfterFailure {
            stopped = true
            log("stopped after the first failure (--fail-fast); the remaining trials did not run")
        }
        guard writesIndex else {
            let cells = mine.map { ($0, CellFile.summary(at: cellPath($0.trial), trialID: $0.trial.id)) }
            return Report(ran: ran, skipped: skipped, cells: cells, resultsPath: resultsPath, table: "", stoppedEarly: stopped)
        }
        var report = try rebuildIndex(provenance: provenance, ran: ran, skipped: skipped)
        report.stoppedEarly = stopped
        return report
    }

    /// Jobs × BLAS threads = cores. Several groups at once, one BLAS thread each, is faster than
    /// one at a time with every core in BLAS (the non-BLAS work parallelises too), as long as
    /// the workers stay busy: with `k` jobs the costliest group must be at most a `1/k` share
    /// of the estimated total, or the other workers idle while it runs alone on one thread.
    /// So: one job per core, at most one per group, and at most total / costliest.
    static func defaultJobs(_ groups: [[ResolvedTrial]], cores: Int) -> Int {
        let costs = groups.map(estimatedCost)
        guard let costliest = costs.max(), costliest > 0 else { return max(1, min(cores, groups.count)) }
        let balanced = Int((costs.reduce(0, +) / costliest).rounded(.down))
        return max(1, min(cores, groups.count, balanced))
    }

    /// Training groups in decreasing order of their estimated cost (the grid order among equals),
    /// so that with several jobs the costly groups start first and the cheap ones fill the gaps
    /// at the end instead of one long group running alone while the other workers idle. Which
    /// worker runs a trial never changes its results.
    static func longestFirst(_ groups: [[ResolvedTrial]]) -> [[ResolvedTrial]] {
        let costs = groups.map(estimatedCost)
        return groups.indices.sorted { costs[$0] != costs[$1] ? costs[$0] > costs[$1] : $0 < $1 }.map { groups[$0] }
    }

    /// A training group's estimated FLOPs: the sum of its trials' (the plan's estimate).
    static func estimatedCost(_ group: [ResolvedTrial]) -> Double {
        group.reduce(0.0) { $0 + $1.estimatedFLOPs }
    }

    /// Runs one training group in a child worker process (started on first use; its standard
    /// error is appended to `logs/worker-<slot>.log`). Trials the child did not write because it
    /// died (a crash, a kill) are written here as failed, with the reason and the log's path, and
    /// the next group gets a new child.
    func runInChild(_ group: [ResolvedTrial], isolation: Isolation, children: ChildWorkerPool, threads: Int,
                    provenance: Provenance) throws -> [TrialOutcome.Status] {
        let (slot, existing) = children.checkOut()
        var worker = existing
        defer { children.checkIn(slot, worker: worker) }
        let logName = "logs/\(workerLogPrefix)-\(slot).log"
        let logPath = "\(experimentDirectory)/\(logName)"
        let started = Date()
        if worker == nil {
            try FileManager.default.createDirectory(atPath: "\(experimentDirectory)/logs", withIntermediateDirectories: true)
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
        return try group.map { resolved in
            if let summary = CellFile.summary(at: cellPath(resolved.trial), trialID: resolved.trial.id) {
                switch summary.status {
                case .failed(let message): log("[\(resolved.trial.label)] FAILED: \(message) (log: \(logName))")
                case .completed: log("[\(resolved.trial.label)] completed (log: \(logName))")
                }
                return summary.status
            }
            let message = "\(reason ?? "the worker process did not write this trial"); log: \(logName)"
            log("[\(resolved.trial.label)] FAILED: \(message)")
            try CellFile.write(TrialOutcome(trial: resolved.trial, status: .failed(message)), trial: resolved, grid: grid,
                               testLabels: [], provenance: provenance, started: started, to: cellPath(resolved.trial))
            return .failed(message)
        }
    }

    /// Rebuilds the index from the cell files of the current grid (`gauntlet merge`).
    public func rebuildIndex(provenance: Provenance? = nil, ran: Int = 0, skipped: Int = 0) throws -> Report {
        let provenance = provenance ?? Provenance.current(specFile: grid.document.file)
        let cells = grid.trials.map { ($0, CellFile.summary(at: cellPath($0.trial), trialID: $0.trial.id)) }
        let known = Set(grid.trials.map { "\($0.trial.id).h5" })
        let stale = ((try? FileManager.default.contentsOfDirectory(atPath: "\(experimentDirectory)/cells")) ?? [])
            .filter { $0.hasSuffix(".h5") && !known.contains($0) }
        if !stale.isEmpty {
            log("\(stale.count) cell file(s) in \(experimentDirectory)/cells belong to another version of the spec; they are not part of this index")
        }
        try IndexFile.write(grid: grid, cells: cells, provenance: provenance, to: resultsPath)
        return Report(ran: ran, skipped: skipped, cells: cells, resultsPath: resultsPath, table: Self.table(cells))
    }

    /// A machine-readable summary of a run (`gauntlet run --json`).
    public static func json(_ report: Report, experiment: String) -> JSONValue {
        func state(_ summary: CellFile.Summary?) -> String {
            switch summary?.status { case .completed?: "completed"; case .failed?: "failed"; case nil: "missing" }
        }
        let cells: [JSONValue] = report.cells.map { resolved, summary in
            var members: [(String, JSONValue)] = [
                ("trial_id", .string(resolved.trial.id)), ("model", .string(resolved.trial.modelName)),
                ("seed", .string(String(resolved.trial.seed))), ("repeat", .integer(resolved.trial.repeatIndex)),
                ("parameters", .object(resolved.trial.parameters.map { ($0.axis, .string($0.value)) })),
                ("status", .string(state(summary))),
            ]
            if case .failed(let message)? = summary?.status { members.append(("message", .string(message))) }
            if let summary {
                members.append(("evaluations", .array(summary.evaluations.map { .string($0.name) })))
                members.append(("predictors", .array(summary.evaluations.map { .string($0.predictor) })))
                members.append(("calibrations", .array(summary.evaluations.map { .string($0.calibration) })))
                members.append(("metrics", .object(summary.metrics.map { ($0.name, .array($0.values.map { .number($0) })) })))
            }
            return .object(members)
        }
        return .object([
            ("experiment", .string(experiment)), ("results", .string(report.resultsPath)),
            ("trials", .integer(report.cells.count)), ("ran", .integer(report.ran)), ("skipped", .integer(report.skipped)),
            ("failed", .integer(report.failedCount)), ("missing", .integer(report.missingCount)),
            ("stopped_early", .bool(report.stoppedEarly)), ("cells", .array(cells)),
        ])
    }

    /// One row per trial and evaluation: the model, every swept value, and every metric;
    /// failed trials show their message, missing ones say so.
    public static func table(_ cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)]) -> String {
        let summary = RepeatSummary(cells)
        let axes = summary.axes, metrics = summary.metrics
        let evaluations = cells.flatMap { $0.summary?.evaluations ?? [] }
        // Predictor and calibration columns appear when some evaluation is not the plain model
        // or is calibrated; with repeats, a column says how many completed of those asked for.
        let predictors = evaluations.contains { $0.predictor != "model" }, calibrations = evaluations.contains { $0.calibration != "none" }
        let repeated = summary.requestedRepeats > 1
        let variantHeaders = (predictors ? ["predictor"] : []) + (calibrations ? ["calibration"] : []) + (repeated ? ["repeats"] : [])
        var table = TextTable(headers: ["model"] + axes + ["evaluation"] + variantHeaders + metrics,
                              alignments: [.left] + axes.map { _ in .right } + [.left] + variantHeaders.map { _ in .left } + metrics.map { _ in .right })
        func variant(predictor: String, calibration: String, repeats: String) -> [String] {
            (predictors ? [predictor] : []) + (calibrations ? [calibration] : []) + (repeated ? [repeats] : [])
        }
        if repeated {
            for row in summary.rows {
                let shown = zip(row.mean, row.standardDeviation).map { mean, std in
                    std.isNaN ? TextTable.number(mean) : "\(TextTable.number(mean)) ± \(TextTable.number(std))"
                }
                table.append([row.model] + row.values + [row.evaluation]
                             + variant(predictor: row.predictor, calibration: row.calibration, repeats: "\(row.repeats)/\(summary.requestedRepeats)") + shown)
            }
        }
        for (resolved, cellSummary) in cells {
            let trial = resolved.trial
            let values = axes.map { axis in trial.parameters.first { $0.axis == axis }?.value ?? "" }
            let blank = variantHeaders.map { _ in "" } + metrics.map { _ in "" }
            let which = repeated ? " (repeat \(trial.repeatIndex))" : ""
            guard let cellSummary else {
                table.append([trial.modelName] + values + ["missing (not run yet)\(which)"] + blank)
                continue
            }
            if case .failed(let message) = cellSummary.status {
                table.append([trial.modelName] + values + ["FAILED\(which): \(message)"] + blank)
                continue
            }
            guard !repeated else { continue }
            for (index, evaluation) in cellSummary.evaluations.enumerated() {
                let numbers = metrics.map { name in cellSummary.metrics.first { $0.name == name }.map { TextTable.number($0.values[index]) } ?? "" }
                table.append([trial.modelName] + values + [evaluation.name]
                             + variant(predictor: evaluation.predictor, calibration: evaluation.calibration, repeats: "") + numbers)
            }
        }
        return table.render()
    }
}
