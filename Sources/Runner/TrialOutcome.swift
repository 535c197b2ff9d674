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
    /// The value of every metric of the experiment, by metric name, in the experiment's order.
    public var metrics: [(name: String, value: Double)]
    /// Predicted class per test sample.
    public var predictions: [Int]
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
    public var trainingSeconds = 0.0
    public var evaluationSeconds = 0.0

    public init(trial: Trial, status: Status) {
        self.trial = trial
        self.status = status
    }
}
