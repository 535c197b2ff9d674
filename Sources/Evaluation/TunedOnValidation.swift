/// A metric with a parameter chosen on the validation split (a decision threshold): the
/// capability `EvaluationPipeline` looks for. The pipeline tunes every such metric on the
/// validation outputs of each predictor, after each calibration, and scores the test split with
/// the tuned copy.
public protocol TunedOnValidation: Metric {
    /// This metric with its parameter tuned on `samples` (validation probabilities and labels).
    func tuned(on samples: ProbabilityTable) -> any Metric
}
