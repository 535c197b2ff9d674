import Tensors

/// What a model predicts: a class (its outputs are logits) or real-valued targets.
public enum TaskKind: String, Sendable, Equatable {
    case classification
    case regression
}

/// The training objective (`training.loss` in experiment files), a closed set.
public enum Loss: String, Sendable, Equatable, CaseIterable {
    /// Softmax cross-entropy of the logits against the labels (classification).
    case crossEntropy = "cross_entropy"
    /// Mean squared error of `T` outputs against `T` targets (regression, point predictions).
    case meanSquaredError = "mse"
    /// Gaussian negative log-likelihood of `2T` outputs, a mean and a log-variance per target
    /// (regression with a variance head: the mean–variance network).
    case gaussianNLL = "gaussian_nll"

    public var task: TaskKind { self == .crossEntropy ? .classification : .regression }

    /// The loss used when the file names none: cross-entropy for classification, MSE for regression.
    public static func `default`(for task: TaskKind) -> Loss { task == .classification ? .crossEntropy : .meanSquaredError }

    /// Model outputs per sample: one logit per class, or `T` (MSE) or `2T` (Gaussian NLL) values
    /// for `T` regression targets.
    public func outputCount(classes: Int, targets: Int) -> Int {
        switch self {
        case .crossEntropy: classes
        case .meanSquaredError: targets
        case .gaussianNLL: 2 * targets
        }
    }

    /// Whether the outputs hold a predicted variance (the second half of each row).
    public var predictsVariance: Bool { self == .gaussianNLL }
}

extension Variable {
    /// `loss` of these outputs against the batch's supervision.
    public func loss(_ loss: Loss, _ supervision: Supervision, reduction: Reduction = .mean) -> Variable {
        switch (loss, supervision) {
        case (.crossEntropy, .labels(let labels)): crossEntropy(labels: labels, reduction: reduction)
        case (.meanSquaredError, .targets(let targets)): meanSquaredError(targets: targets, reduction: reduction)
        case (.gaussianNLL, .targets(let targets)): gaussianNegativeLogLikelihood(targets: targets, reduction: reduction)
        default: preconditionFailure("loss \(loss.rawValue) does not fit \(supervision)")
        }
    }
}
