/// What a report reads from a results folder: the experiment's provenance, every trial of its
/// grid with its state, and, for every readable cell file, the numbers the tables and figures
/// need. Built by the results reader (`Runner.ResultsFolder`) from the HDF5 files alone; the
/// report never reruns a model.
public struct ResultSet: Sendable {
    public var experiment: String
    /// The results folder as given (`results/quickstart`).
    public var folder: String
    public var description = ""
    /// The experiment file's path and text as stored, with every included file.
    public var specFile = ""
    public var specText = ""
    /// The command-line overrides of the run (`seed=0,1,2`).
    public var overrides: [String] = []
    /// A combined set's experiments, each with its file and overrides (empty for one experiment).
    public var runs: [(specFile: String, overrides: [String])] = []
    public var toolVersion = ""
    public var gitCommit = ""
    public var created = ""
    public var host = ""
    /// The repeats the spec asks for.
    public var requestedRepeats = 1
    /// The model that mCE and relative mCE are normalised by (the spec's `report.baseline`, or
    /// the command line's `--baseline`); nil: unnormalised corruption errors only.
    public var baseline: String?
    /// The spec's `report.figure_settings`: per-setting figures for at most this many settings.
    public var figureSettings: Int?
    /// The spec's `report.metrics`: metric columns plotted against numeric sweep axes.
    public var comparedMetrics: [String] = []
    public var trials: [TrialEntry] = []
    public var cells: [CellResult] = []
    /// Cells and files that could not be read, each naming the file and why.
    public var problems: [String] = []

    public init(experiment: String, folder: String) {
        self.experiment = experiment
        self.folder = folder
    }
}

/// One trial of the grid as the index lists it.
public struct TrialEntry: Sendable {
    public enum State: String, Sendable { case completed, failed, missing, unreadable }
    public var trialID: String
    public var model: String
    public var repeatIndex: Int
    public var seed: UInt64
    public var state: State
    public var message: String

    public init(trialID: String, model: String, repeatIndex: Int, seed: UInt64, state: State, message: String) {
        self.trialID = trialID
        self.model = model
        self.repeatIndex = repeatIndex
        self.seed = seed
        self.state = state
        self.message = message
    }
}

/// The direction a metric column is better in.
public struct ColumnDirection: Sendable, Equatable {
    public var higherIsBetter: Bool
    /// The best value when it is neither end (an interval's nominal coverage).
    public var ideal: Double?

    public init(higherIsBetter: Bool, ideal: Double? = nil) {
        self.higherIsBetter = higherIsBetter
        self.ideal = ideal
    }

    /// Whether `a` is strictly better than `b` (NaN is never better).
    public func isBetter(_ a: Double, than b: Double) -> Bool {
        guard a.isFinite else { return false }
        guard b.isFinite else { return true }
        if let ideal { return abs(a - ideal) < abs(b - ideal) }
        return higherIsBetter ? a > b : a < b
    }
}

/// One evaluation of a cell: a perturbation seen through a predictor and a calibration.
public struct EvaluationInfo: Sendable, Equatable {
    public var name: String
    /// `clean`, `corruption` or `attack`.
    public var kind: String
    /// The corruption or attack kind (`gaussian_noise`, `pgd`), `clean` for the clean one.
    public var type: String
    /// A corruption's published severity 1–5; 0 otherwise.
    public var severity: Int
    /// An attack's budget in pixel units; NaN otherwise.
    public var budget: Double
    /// An attack's label without its budget; empty otherwise.
    public var family: String
    public var predictor: String
    public var calibration: String
    public var seconds: Double

    public init(
        name: String, kind: String, type: String = "clean", severity: Int = 0, budget: Double = .nan, family: String = "",
        predictor: String = "model", calibration: String = "none", seconds: Double = 0
    ) {
        self.name = name
        self.kind = kind
        self.type = type
        self.severity = severity
        self.budget = budget
        self.family = family
        self.predictor = predictor
        self.calibration = calibration
        self.seconds = seconds
    }

    /// The model's own, uncalibrated output: what robustness figures plot.
    public var isModelUncalibrated: Bool { predictor == "model" && calibration == "none" }
}

/// What a report uses of one cell file.
public struct CellResult: Sendable {
    public var trialID: String
    public var model: String
    public var repeatIndex: Int
    public var seed: UInt64
    /// The trial's swept values by axis, in the grid's order (`model` and `repeat` included when swept).
    public var parameters: [(axis: String, value: String)]
    public var completed: Bool
    public var message: String
    /// Provenance attributes as text (host, CPU, BLAS, commit, times), in file order.
    public var attributes: [(name: String, value: String)]
    public var trainingSeconds: Double
    public var evaluationSeconds: Double
    /// Wall time per stage (`data`, `training`, `calibration`, `evaluations`, `attacks`, …).
    public var stages: [(stage: String, seconds: Double)] = []
    public var evaluations: [EvaluationInfo] = []
    /// Every metric column's values, one per evaluation, in the experiment's column order.
    public var metrics: [(name: String, values: [Double])] = []
    /// Directions of the metric columns (absent for extra columns such as `mean_entropy`).
    public var directions: [String: ColumnDirection] = [:]
    /// Every metric's exact definition, by metric name.
    public var definitions: [(metric: String, definition: String)] = []
    public var learningCurve: LearningCurve?
    /// Reliability bins of the first ECE/MCE metric, per evaluation.
    public var reliability: [ReliabilityBinsData] = []
    /// ROC and PR curves per evaluation (`auroc`, `average_precision` metrics).
    public var roc: [[Curve]] = []
    public var precisionRecall: [[Curve]] = []
    /// Confusion counts per evaluation, `K × K` row-major (rows true).
    public var confusion: [[Double]] = []
    public var classCount = 0
    /// The dataset's class names (`/class_names`), empty when the cell has none.
    public var classNames: [String] = []
    /// What figures and tables call class `k`: its name where the cell has names, else `k`.
    public func className(_ k: Int) -> String { k >= 0 && k < classNames.count ? classNames[k] : String(k) }
    public var uncertainty: UncertaintyData?
    public var attacks: AttackData?
    /// Every ensemble attack's per-sample report (`/autoattack`).
    public var ensembles: [EnsembleData] = []
    public var attributions: [AttributionData] = []
    public var layerStatistics: LayerStatisticsData?
    public var detections: [DetectionRow] = []

    public init(
        trialID: String, model: String, repeatIndex: Int, seed: UInt64, parameters: [(axis: String, value: String)],
        completed: Bool, message: String, attributes: [(name: String, value: String)] = [],
        trainingSeconds: Double = .nan, evaluationSeconds: Double = .nan
    ) {
        self.trialID = trialID
        self.model = model
        self.repeatIndex = repeatIndex
        self.seed = seed
        self.parameters = parameters
        self.completed = completed
        self.message = message
        self.attributes = attributes
        self.trainingSeconds = trainingSeconds
        self.evaluationSeconds = evaluationSeconds
    }

    /// The values of the swept axes other than `model` and `repeat`.
    public var settings: [(axis: String, value: String)] { parameters.filter { $0.axis != "model" && $0.axis != "repeat" } }

    /// The cell's name in figures: the model and its swept settings (`cnn, lr=0.01`).
    public var label: String {
        ([model] + settings.map { "\(Self.shortAxis($0.axis))=\($0.value)" }).joined(separator: ", ")
    }

    public func metric(_ name: String) -> [Double]? { metrics.first { $0.name == name }?.values }

    /// The last component of a key path (`training.optimizer.lr` → `lr`; `attacks[0].epsilon` → `epsilon`).
    static func shortAxis(_ axis: String) -> String {
        String(axis.split(separator: ".").last ?? Substring(axis))
    }
}

public struct LearningCurve: Sendable {
    public var epoch: [Double]
    public var trainLoss: [Double]
    public var validationLoss: [Double]
    public var validationAccuracy: [Double]

    public init(epoch: [Double], trainLoss: [Double], validationLoss: [Double], validationAccuracy: [Double]) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
    }
}

public struct ReliabilityBinsData: Sendable {
    public var lower: [Double], upper: [Double], confidence: [Double], accuracy: [Double], count: [Double]

    public init(lower: [Double], upper: [Double], confidence: [Double], accuracy: [Double], count: [Double]) {
        self.lower = lower
        self.upper = upper
        self.confidence = confidence
        self.accuracy = accuracy
        self.count = count
    }
}

/// One class's curve (ROC: x false-positive rate, y true-positive rate; PR: x recall, y precision).
public struct Curve: Sendable {
    public var positiveClass: Int
    public var x: [Double]
    public var y: [Double]

    public init(positiveClass: Int, x: [Double], y: [Double]) {
        self.positiveClass = positiveClass
        self.x = x
        self.y = y
    }
}

public struct UncertaintyData: Sendable {
    public var scores: [String]
    /// The evaluations whose per-sample scores are stored, and their values `[u][score][sample]`.
    public var evaluations: [Int]
    public var values: [[[Double]]]
    /// Out-of-distribution sets with the model's scores `[score][sample]`.
    public var outOfDistribution: [(source: String, values: [[Double]])]

    public init(scores: [String], evaluations: [Int], values: [[[Double]]], outOfDistribution: [(source: String, values: [[Double]])]) {
        self.scores = scores
        self.evaluations = evaluations
        self.values = values
        self.outOfDistribution = outOfDistribution
    }
}

/// Per-sample attack outcomes of the model.
public struct AttackData: Sendable {
    /// Attack evaluation names, and per attack and sample whether it fooled the model.
    public var evaluations: [String]
    public var success: [[Bool]]
    /// Whether the clean input was already misclassified, per sample.
    public var cleanWrong: [Bool]

    public init(evaluations: [String], success: [[Bool]], cleanWrong: [Bool]) {
        self.evaluations = evaluations
        self.success = success
        self.cleanWrong = cleanWrong
    }
}

/// One ensemble attack evaluation (`autoattack`): which component broke each sample first.
public struct EnsembleData: Sendable {
    public var evaluation: String
    /// `clean`, then the attacks in the order they ran.
    public var components: [String]
    /// Per sample: the index in `components` of the first that broke it, −1 when robust.
    public var brokenBy: [Int]
    /// Per sample: the perturbation's norm (NaN when robust).
    public var norms: [Double]
    /// The robust accuracy after each component (the clean accuracy first; the last is the
    /// ensemble's), as the cell stores it.
    public var robustAccuracyAfter: [Double]
    public var warnings: [String]

    public init(evaluation: String, components: [String], brokenBy: [Int], norms: [Double], robustAccuracyAfter: [Double], warnings: [String]) {
        self.evaluation = evaluation
        self.components = components
        self.brokenBy = brokenBy
        self.norms = norms
        self.robustAccuracyAfter = robustAccuracyAfter
        self.warnings = warnings
    }
}

/// The clean evaluation's attribution maps of one method.
public struct AttributionData: Sendable {
    public var label: String
    /// Per sample: the map summed over channels, `height × width`, and its display scale.
    public var maps: [[Double]]
    public var scales: [Double]
    public var height: Int
    public var width: Int
    public var targets: [Int]
    public var deletionAUC: [Double]
    public var insertionAUC: [Double]

    public init(
        label: String, maps: [[Double]], scales: [Double], height: Int, width: Int, targets: [Int],
        deletionAUC: [Double], insertionAUC: [Double]
    ) {
        self.label = label
        self.maps = maps
        self.scales = scales
        self.height = height
        self.width = width
        self.targets = targets
        self.deletionAUC = deletionAUC
        self.insertionAUC = insertionAUC
    }
}

public struct LayerStatisticsData: Sendable {
    public var layers: [String]
    public var evaluations: [String]
    /// `[evaluation][layer]`.
    public var relativeChange: [[Double]]
    public var deadFraction: [[Double]]

    public init(layers: [String], evaluations: [String], relativeChange: [[Double]], deadFraction: [[Double]]) {
        self.layers = layers
        self.evaluations = evaluations
        self.relativeChange = relativeChange
        self.deadFraction = deadFraction
    }
}

public struct DetectionRow: Sendable {
    public var source: String, predictor: String, score: String
    public var auroc: Double, aupr: Double, fprAt95: Double

    public init(source: String, predictor: String, score: String, auroc: Double, aupr: Double, fprAt95: Double) {
        self.source = source
        self.predictor = predictor
        self.score = score
        self.auroc = auroc
        self.aupr = aupr
        self.fprAt95 = fprAt95
    }
}

extension ResultSet {
    /// Several experiments as one set: every cell gains an `experiment` axis (its experiment's
    /// name), so tables and comparison figures put the experiments side by side.
    public static func combining(_ sets: [ResultSet]) -> ResultSet {
        var combined = ResultSet(experiment: sets.map(\.experiment).joined(separator: " vs "), folder: sets.map(\.folder).joined(separator: ", "))
        combined.description = sets.map { "\($0.experiment): \($0.description)" }.joined(separator: "\n")
        combined.specFile = sets.map(\.specFile).joined(separator: ", ")
        combined.specText = sets.map { "# \($0.specFile)\n\($0.specText)" }.joined(separator: "\n")
        combined.toolVersion = Array(Set(sets.map(\.toolVersion))).sorted().joined(separator: ", ")
        combined.gitCommit = Array(Set(sets.map(\.gitCommit))).sorted().joined(separator: ", ")
        combined.host = Array(Set(sets.map(\.host))).sorted().joined(separator: ", ")
        combined.created = sets.map(\.created).joined(separator: ", ")
        combined.requestedRepeats = sets.map(\.requestedRepeats).max() ?? 1
        combined.baseline = sets.compactMap(\.baseline).first
        combined.runs = sets.map { ($0.specFile, $0.overrides) }
        for set in sets {
            combined.trials += set.trials
            combined.cells += set.cells.map { cell in
                var cell = cell
                cell.parameters.insert(("experiment", set.experiment), at: 0)
                return cell
            }
            combined.problems += set.problems.map { "\(set.experiment): \($0)" }
        }
        return combined
    }
}
