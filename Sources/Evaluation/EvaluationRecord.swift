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
    /// An ensemble attack's per-sample report (the model's uncalibrated record only).
    public var attackReport: AttackReport?

    public init(
        name: String, kind: Kind, metrics: [(name: String, value: Double)], arrays: [(metric: String, array: MetricArray)] = [],
        predictor: String = "model", calibration: String = "none", uncertainty: [[Double]]? = nil, layerVariance: [Double]? = nil,
        predictions: [Int], regression: RegressionBatch? = nil, logits: Tensor? = nil, examples: Tensor? = nil, seconds: Double,
        type: String = "clean", severity: Int? = nil, budget: Float? = nil, family: String? = nil, sampleIndices: [Int]? = nil
    ) {
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

    public init(
        predictor: String, method: String, parameters: [(name: String, values: [Double])], validationLossBefore: Double,
        validationLossAfter: Double, validationECEBefore: Double, validationECEAfter: Double
    ) {
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
