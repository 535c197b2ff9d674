import Grid
import Spec

extension ResolvedTrial {
    /// What determines a trial's trained model: its dataset, model, training settings, evaluation
    /// batch size (validation passes use it), seed and held-out classes. Trials with equal keys
    /// train identically.
    public var trainingKey: String {
        let spec = trial.spec
        return [
            spec.dataset.canonicalParameters, spec.models[trial.modelIndex].canonical, spec.training.canonical,
            String(spec.evaluation.batchSize), String(trial.seed),
            experiment.heldOutClasses.map(String.init).joined(separator: ","),
        ].joined(separator: "\n")
    }

    /// `trials` grouped by `trainingKey`, groups in the order of their first trial: each group
    /// trains once.
    public static func trainingGroups(_ trials: [ResolvedTrial]) -> [[ResolvedTrial]] {
        var index: [String: Int] = [:]
        var groups: [[ResolvedTrial]] = []
        for resolved in trials {
            let key = resolved.trainingKey
            if let group = index[key] {
                groups[group].append(resolved)
            } else {
                index[key] = groups.count
                groups.append([resolved])
            }
        }
        return groups
    }
}
