import Tensors

/// One evaluation of the test split for `EvaluationPipeline`: clean, under a corruption, or
/// under an attack, with what its record says of it.
public struct EvaluationCase {
    /// A label with parameters, for example `fgsm(epsilon=0.1)`.
    public var name: String
    public var kind: EvaluationRecord.Kind
    /// The corruption or attack kind (`gaussian_noise`, `pgd`), `clean` for the clean evaluation.
    public var type: String
    /// The published severity (1–5) of a corruption given by severity.
    public var severity: Int?
    /// An attack's budget in pixel units.
    public var budget: Float?
    /// An attack's label without its budget: evaluations of one family form an epsilon sweep.
    public var family: String?
    /// How each batch of test inputs is changed (given its rows' range), or nil.
    public var transform: ((Tensor, Range<Int>) -> Tensor)?
    /// A label shift's test-sample indices: the split evaluated in their place (images and
    /// labels, in that order), or nil.
    public var resampled: [Int]?
    /// Where an ensemble attack's transform appends its per-batch reports, or nil.
    public var reports: AttackReportCollector?

    public init(
        name: String, kind: EvaluationRecord.Kind, type: String, severity: Int? = nil, budget: Float? = nil, family: String? = nil,
        transform: ((Tensor, Range<Int>) -> Tensor)? = nil, resampled: [Int]? = nil
    ) {
        self.name = name
        self.kind = kind
        self.type = type
        self.severity = severity
        self.budget = budget
        self.family = family
        self.transform = transform
        self.resampled = resampled
    }

    /// The clean evaluation.
    public static var clean: EvaluationCase { EvaluationCase(name: "clean", kind: .clean, type: "clean") }
}
