import Catalog
import Datasets
import Foundation
import Grid
import Results
import Spec
import Storage
import Tensors

/// Runs a resolved grid: every trial of its shard whose cell file is not already complete (so a
/// rerun resumes), each written to `cells/<id>.h5` as soon as it ends; then rebuilds the index
/// from the cell files. A failing trial is recorded and the
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

    public init(
        grid: ResolvedGrid, outputDirectory: String, shard: Shard = .all, jobs: Int? = nil, failFast: Bool = false,
        log: @escaping (String) -> Void
    ) {
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

    public var experimentDirectory: String { files.directory }
    /// The index file of this experiment.
    public var resultsPath: String { files.indexPath }
    public func cellPath(_ trial: Trial) -> String { files.cellPath(trial.id) }
    /// Where this experiment's files go.
    var files: ExperimentFiles { ExperimentFiles(outputDirectory: outputDirectory, name: grid.name) }

    public struct Report: Sendable {
        /// Trials this run executed (complete cells found on disk are not rerun).
        public var ran: Int
        public var skipped: Int
        /// Every trial of the grid with its cell, if present.
        public var cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)]
        public var resultsPath: String
        /// Whether `failFast` stopped the run before every trial ran.
        public var stoppedEarly = false

        public init(
            ran: Int, skipped: Int, cells: [(trial: ResolvedTrial, summary: CellFile.Summary?)], resultsPath: String,
            stoppedEarly: Bool = false
        ) {
            self.ran = ran
            self.skipped = skipped
            self.cells = cells
            self.resultsPath = resultsPath
            self.stoppedEarly = stoppedEarly
        }
        public var failedCount: Int { cells.filter { if case .failed? = $0.summary?.status { true } else { false } }.count }
        public var missingCount: Int { cells.filter { $0.summary == nil }.count }
    }

    public func run() throws -> Report {
        let mine = grid.trials.filter { shard.contains($0.trial.index) && (onlyTrials?.contains($0.trial.id) ?? true) }
        let abandoned = AtomicFile.removeAbandoned(in: files.cellsDirectory)
        if !abandoned.isEmpty { log("removed \(abandoned.count) temporary file(s) of an interrupted run") }

        // Trials that differ only in evaluation share one training run; complete cells are skipped.
        let incomplete = mine.filter { CellFile.summary(at: cellPath($0.trial), trialID: $0.trial.id)?.status != .completed }
        let skipped = mine.count - incomplete.count
        let inGridOrder = ResolvedTrial.trainingGroups(incomplete)

        let cores = ProcessInfo.processInfo.activeProcessorCount
        let jobs = max(1, jobs ?? Self.defaultJobs(inGridOrder, cores: cores))
        let pending = jobs > 1 ? Self.longestFirst(inGridOrder) : inGridOrder
        let threadsPerJob = max(1, blasThreads ?? cores / jobs)
        BLAS.setThreadCount(threadsPerJob)
        let provenance = Provenance.current(specFile: grid.document.file)
        let shardText = shard == .all ? "" : ", shard \(shard.index)/\(shard.count): \(mine.count) of them"
        log(
            "gauntlet \(provenance.toolVersion): experiment '\(grid.name)', \(grid.trials.count) trial(s)\(shardText); \(jobs) job(s) × \(provenance.blasThreads) BLAS thread(s); products: \(provenance.blasCore)"
        )
        if skipped > 0 { log("\(skipped) trial(s) already complete in \(files.cellsDirectory), not rerun") }

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

        let counter = NSLock()
        nonisolated(unsafe) var ran = 0
        nonisolated(unsafe) var failures = 0
        let total = pending.reduce(0) { $0 + $1.count }
        var stopped = false
        do {
            let launcher: any TrialLauncher
            if let isolation {
                signal(SIGPIPE, SIG_IGN)  // a dead child must not kill us through its pipe
                launcher = ChildProcessLauncher(
                    isolation: isolation, children: ChildWorkerPool(count: jobs), threads: threadsPerJob,
                    files: files, grid: grid, logPrefix: workerLogPrefix, provenance: provenance, log: log)
            } else {
                launcher = InProcessLauncher(
                    runner: TrialRunner(log: log), datasets: datasets, datasetCache: datasetCache, files: files,
                    grid: grid, provenance: provenance, log: log)
            }
            defer { launcher.finish() }
            try WorkerPool.run(pending, threads: jobs) { group in
                try launcher.launch(group) { status in
                    counter.lock()
                    ran += 1
                    if case .failed = status { failures += 1 }
                    progress?(ran, failures, total)
                    counter.unlock()
                    if failFast, case .failed = status { throw StopAfterFailure() }
                }
            }
        } catch is StopAfterFailure {
            stopped = true
            log("stopped after the first failure (--fail-fast); the remaining trials did not run")
        }
        guard writesIndex else {
            let cells = mine.map { ($0, CellFile.summary(at: cellPath($0.trial), trialID: $0.trial.id)) }
            return Report(ran: ran, skipped: skipped, cells: cells, resultsPath: resultsPath, stoppedEarly: stopped)
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

    /// Rebuilds the index from the cell files of the current grid (`gauntlet merge`).
    public func rebuildIndex(provenance: Provenance? = nil, ran: Int = 0, skipped: Int = 0) throws -> Report {
        let provenance = provenance ?? Provenance.current(specFile: grid.document.file)
        let cells = grid.trials.map { ($0, CellFile.summary(at: cellPath($0.trial), trialID: $0.trial.id)) }
        let known = Set(grid.trials.map { "\($0.trial.id).h5" })
        let stale = ((try? FileManager.default.contentsOfDirectory(atPath: files.cellsDirectory)) ?? [])
            .filter { $0.hasSuffix(".h5") && !known.contains($0) }
        if !stale.isEmpty {
            log("\(stale.count) cell file(s) in \(files.cellsDirectory) belong to another version of the spec; they are not part of this index")
        }
        try IndexFile.write(grid: grid, cells: cells, provenance: provenance, to: resultsPath)
        return Report(ran: ran, skipped: skipped, cells: cells, resultsPath: resultsPath)
    }
}
