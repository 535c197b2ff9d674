import Evaluation
import Grid
import Spec
import Layers
import Tensors

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
