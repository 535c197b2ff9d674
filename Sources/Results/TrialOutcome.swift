import Evaluation
import Grid
import Spec
import Layers
import Tensors

/// One evaluation of a trained model: clean, under a corruption, or under an attack.
public struct EvaluationRecord: Sendable {
    public enum Kind: String, Sendable { case clean, corruption, attack }
    /// A label with parameters, for example `fgsm(epsilon=0.1)`.
    public var name: String
    public var kind: Kind
    /// The value of every metric column of the experiment, in the experiment's order (then the
    /// mean uncertainty scores, when the experiment has an `uncertainty` section).
    public var metrics: [(name: String, value: Double)]
    /// The arrays of every metric (per-class scores, reliability bins, curves), by metric name.
    public var arrays: [(metric: String, array: MetricArray)] = []
    /// The predictor: `model`, or an uncertainty method's label.
    public var predictor = "model"
    /// The calibration method applied to the predictor's output, `none` when uncalibrated.
    public var calibration = "none"
    /// Every `UncertaintyScore` per test sample (`[score][sample]`), for uncalibrated
    /// evaluations of experiments with an `uncertainty` section.
    public var uncertainty: [[Double]]?
    /// Mean activation variance per layer across MC-dropout passes (`per_layer: true`).
    public var layerVariance: [Double]?
    /// Predicted class per test sample (empty for regression).
    public var predictions: [Int]
    /// A regression evaluation's predicted means and variances with the test targets.
    public var regression: RegressionBatch?
    /// Logits per test sample `[N, classes]` (when the spec stores them).
    public var logits: Tensor?
    /// The first test inputs as the model saw them (when the spec stores them).
    public var examples: Tensor?
    public var seconds: Double
    /// The corruption or attack kind (`gaussian_noise`, `pgd`), `clean` for the clean evaluation.
    public var type: String = "clean"
    /// The published severity (1–5) of a corruption given by severity.
    public var severity: Int?
    /// An attack's budget in pixel units.
    public var budget: Float?
    /// An attack's label without its budget: evaluations of one family form an epsilon sweep.
    public var family: String?
    /// A label-shift evaluation's test-sample indices (it evaluates the test split resampled).
    public var sampleIndices: [Int]?

    public init(name: String, kind: Kind, metrics: [(name: String, value: Double)], arrays: [(metric: String, array: MetricArray)] = [],
                predictor: String = "model", calibration: String = "none", uncertainty: [[Double]]? = nil, layerVariance: [Double]? = nil,
                predictions: [Int], regression: RegressionBatch? = nil, logits: Tensor? = nil, examples: Tensor? = nil, seconds: Double,
                type: String = "clean", severity: Int? = nil, budget: Float? = nil, family: String? = nil, sampleIndices: [Int]? = nil) {
        self.name = name
        self.kind = kind
        self.metrics = metrics
        self.arrays = arrays
        self.predictor = predictor
        self.calibration = calibration
        self.uncertainty = uncertainty
        self.layerVariance = layerVariance
        self.predictions = predictions
        self.regression = regression
        self.logits = logits
        self.examples = examples
        self.seconds = seconds
        self.type = type
        self.severity = severity
        self.budget = budget
        self.family = family
        self.sampleIndices = sampleIndices
    }
}

/// A calibration method fitted on the validation split for one predictor.
public struct CalibrationFit: Sendable {
    public var predictor: String
    public var method: String
    public var parameters: [(name: String, values: [Double])]
    public var validationLossBefore: Double
    public var validationLossAfter: Double
    public var validationECEBefore: Double
    public var validationECEAfter: Double

    public init(predictor: String, method: String, parameters: [(name: String, values: [Double])], validationLossBefore: Double,
                validationLossAfter: Double, validationECEBefore: Double, validationECEAfter: Double) {
        self.predictor = predictor
        self.method = method
        self.parameters = parameters
        self.validationLossBefore = validationLossBefore
        self.validationLossAfter = validationLossAfter
        self.validationECEBefore = validationECEBefore
        self.validationECEAfter = validationECEAfter
    }
}

/// How well one uncertainty score of one predictor detects one out-of-distribution set
/// (out-of-distribution is the positive class).
public struct DetectionRecord: Sendable {
    public var source: String
    public var predictor: String
    public var score: String
    public var detection: OutOfDistributionDetection

    public init(source: String, predictor: String, score: String, detection: OutOfDistributionDetection) {
        self.source = source
        self.predictor = predictor
        self.score = score
        self.detection = detection
    }
}

/// What the `interpret` section produced for one trial: attributions of the first test
/// samples under every evaluation of the model (clean, corrupted, attacked), their quality,
/// and layer introspection. Arrays are indexed by evaluation (E), sample (S), layer (L).
public struct Interpretation: Sendable {
    /// One attribution method's results.
    public struct Method: Sendable {
        public var label: String
        public var kind: String
        /// Raw maps per evaluation, each `[S, …]`.
        public var maps: [Tensor] = []
        /// `[E][S]`: the display normalisation (99th percentile of |map|).
        public var displayScale: [[Double]] = []
        /// `[E][S][steps + 1]` target probabilities (empty when `deletion_steps` is 0).
        public var deletion: [[[Double]]] = []
        public var insertion: [[[Double]]] = []
        /// `[E][S]` integrated gradients' completeness error, absolute and relative.
        public var completenessError: [[Double]] = []
        public var relativeCompletenessError: [[Double]] = []
        /// `[S]` on the clean evaluation: rank correlation with a randomly initialised model's maps.
        public var randomizationCorrelation: [Double] = []
        /// `[S]` on the clean evaluation: max-sensitivity.
        public var sensitivity: [Double] = []

        public init(label: String, kind: String) {
            self.label = label
            self.kind = kind
        }
    }

    public var evaluations: [String] = []
    /// `[E][S]` the class explained.
    public var targets: [[Int]] = []
    public var methods: [Method] = []
    /// Layer statistics per evaluation (`[E][L]`) over the first `statistics_samples` samples.
    public var layers: [String] = []
    public var layerMean: [[Double]] = []
    public var layerStd: [[Double]] = []
    public var deadFraction: [[Double]] = []
    /// `‖a(x′) − a(x)‖ / ‖a(x)‖` against the clean inputs, per layer.
    public var relativeChange: [[Double]] = []
    /// Activation maps of the named layers for the explained samples: per layer, per evaluation `[S, …]`.
    public var activationLayers: [String] = []
    public var activations: [[Tensor]] = []
    /// Per parameter tensor (state-dict key): mean, standard deviation, min, max and L2 norm.
    public var weightNames: [String] = []
    public var weightStatistics: [[Double]] = []
    /// The first convolution's weights `[out, in, kh, kw]`, when the model has one.
    public var firstLayerFilters: Tensor?

    public init(evaluations: [String] = [], targets: [[Int]] = []) {
        self.evaluations = evaluations
        self.targets = targets
    }
}

/// Training progress at the end of one epoch.
public struct EpochRecord: Sendable {
    public var epoch: Int
    /// The learning rate used during the epoch.
    public var learningRate: Double
    /// Mean of the per-batch training losses of the epoch.
    public var trainLoss: Double
    public var validationLoss: Double
    public var validationAccuracy: Double
    public var seconds: Double

    public init(epoch: Int, learningRate: Double, trainLoss: Double, validationLoss: Double, validationAccuracy: Double, seconds: Double) {
        self.epoch = epoch
        self.learningRate = learningRate
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.seconds = seconds
    }
}

/// Everything one trial produced; a failed trial keeps what it had when it failed.
public struct TrialOutcome: Sendable {
    public enum Status: Sendable, Equatable {
        case completed
        case failed(String)
    }

    public var trial: Trial
    public var status: Status
    public var learningCurve: [EpochRecord] = []
    public var evaluations: [EvaluationRecord] = []
    public var stateDict: [(key: String, value: Tensor)] = []
    public var summary: [LayerSummary] = []
    public var calibrationFits: [CalibrationFit] = []
    public var detections: [DetectionRecord] = []
    /// Per out-of-distribution set: its label, and per predictor every score of every sample.
    public var outOfDistributionScores: [(source: String, scores: [[[Double]]])] = []
    /// The names of the per-sample uncertainty scores (`EvaluationRecord.uncertainty`): the
    /// classification scores, or the regression variances.
    public var uncertaintyScores = UncertaintyScore.allCases.map(\.rawValue)
    /// Attributions and layer introspection (experiments with an `interpret` section).
    public var interpretation: Interpretation?
    /// The model graph in Graphviz DOT.
    public var modelGraph = ""
    /// The layers of `EvaluationRecord.layerVariance`.
    public var recordedLayers: [String] = []
    public var trainingSeconds = 0.0
    public var evaluationSeconds = 0.0
    /// Wall time of each stage, in order (`data`, `training`, `calibration`, `evaluations`,
    /// `attacks`, `interpretation`, `out_of_distribution`); stages that did not run are absent.
    public var stageSeconds: [(stage: String, seconds: Double)] = []

    public init(trial: Trial, status: Status) {
        self.trial = trial
        self.status = status
    }
}
