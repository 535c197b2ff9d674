import Spec
import Layers

/// Deep ensembles (Lakshminarayanan, Pritzel & Blundell, NeurIPS 2017): `members` models of the
/// same architecture trained independently with different seeds (member 0 is the trial's own
/// model; member `m` derives its initialisation, shuffling and dropout from the trial seed and
/// `m`), the predictive distribution being the mean of their softmax outputs. Members are
/// trained once per trained model and shared by every evaluation of the grid that uses them.
public struct DeepEnsemble: UncertaintyMethod, Equatable {
    public static let kind = "ensemble"
    public static let defaults = ["members": "5"]
    public static let summary = "Mean softmax of K independently trained members with different seeds (Lakshminarayanan et al. 2017)."
    /// Number of members including the trial's model, ≥ 2 (default 5).
    public var members: Int?

    public init(members: Int? = nil) { self.members = members }

    var memberCount: Int { members ?? 5 }
    public var label: String { "\(Self.kind)(members=\(memberCount))" }
    public var forwardPasses: Int { memberCount }
    public var extraModels: Int { memberCount - 1 }

    public func predictor(model: Sequential, members: [Sequential]) -> Predictor {
        precondition(members.count >= extraModels, "an ensemble of \(memberCount) needs \(extraModels) trained members besides the model")
        return Predictor(label: label, method: .ensemble, models: [model] + members.prefix(extraModels))
    }

    public func problems() -> [String] {
        memberCount >= 2 ? [] : ["members must be ≥ 2, got \(memberCount)"]
    }
}
