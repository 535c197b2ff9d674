import Datasets
import Evaluation
import Grid
import Perturbations
import Spec

/// A trial with its cell resolved.
public struct ResolvedTrial: Sendable {
    public var trial: Trial
    public var experiment: ResolvedExperiment
    public var model: ResolvedModel { experiment.models[trial.modelIndex] }

    /// Floating-point operations the trial will take, from shapes and sizes alone: training is
    /// forward + two backward products (3 × 2 MACs per sample per epoch, plus a validation
    /// pass); each evaluation is one forward pass over the test set, and an attack costs what
    /// its `forwardPasses` says (a gradient step is a forward and an input-gradient pass).
    /// Uncertainty methods multiply the forward passes of every evaluation (and, with
    /// calibration, of the validation split); ensemble members are trained like the model;
    /// out-of-distribution sets are one pass of every predictor.
    public var estimatedFLOPs: Double {
        let counts = experiment.dataset.sampleCounts
        let forward = 2 * Double(model.multiplyAccumulates(inputShape: experiment.dataset.sampleShape))
        let epochs = Double(trial.spec.training.epochs)
        // Adversarial training adds the attack's passes (less its evaluation pass) for the
        // attacked fraction of every batch.
        let attackPasses =
            experiment.trainingAttack.map { attack in
                (trial.spec.training.adversarial?.ratio ?? 0) * (attack.forwardPasses - 1)
            } ?? 0
        let models = Double(1 + experiment.extraModels)
        let training = models * epochs * ((3 + attackPasses) * forward * Double(counts.training) + forward * Double(counts.validation))
        let predictorPasses = 1 + Double(experiment.uncertaintyMethods.reduce(0) { $0 + $1.forwardPasses })
        // With `uncertainty.evaluations: clean`, corrupted and attacked sets take the model's pass only.
        let otherPasses = trial.spec.uncertainty.evaluations == .all ? predictorPasses : 1
        let evaluations =
            predictorPasses + Double(experiment.corruptions.count) * otherPasses
            + experiment.attacks.reduce(0) { $0 + $1.forwardPasses - 1 + otherPasses }
        let calibration = experiment.calibrators.isEmpty ? 0 : predictorPasses * Double(counts.validation)
        let outOfDistribution = experiment.outOfDistributionSources.reduce(0.0) { $0 + Double($1.samples ?? counts.test) } * predictorPasses
        // Interpretation: per explained evaluation and sample, each method's passes (a gradient
        // pass ≈ 3 forward passes), the deletion and insertion curves, and the layer statistics.
        let interpret = trial.spec.interpret
        let explained = interpret.isPresent ? Double(1 + experiment.corruptions.count + experiment.attacks.count) : 0
        let attributions =
            Double(interpret.samples)
            * experiment.attributionMethods.reduce(0.0) { total, method in
                total + 3 * Double(method.passes) + 2 * Double(interpret.deletionSteps + 1)
            }
        let interpretation = explained * (attributions + Double(interpret.statisticsSamples))
        return training + forward * (evaluations * Double(counts.test) + calibration + outOfDistribution + interpretation)
    }
}

/// An experiment file expanded into its grid, every cell resolved and checked before anything
/// runs; every problem of every cell is reported once, at the place it was written.
public struct ResolvedGrid: Sendable {
    public var document: SpecDocument
    public var trials: [ResolvedTrial]

    /// The experiment's name (results go to `results/<name>/`).
    public var name: String { trials.first?.trial.spec.name ?? "experiment" }

    /// Reads, composes, expands and resolves an experiment file with command-line overrides.
    public static func load(_ file: String, overrides: [String] = []) throws(SpecErrors) -> ResolvedGrid {
        try resolve(try SpecDocument.load(file, overrides: overrides))
    }

    public static func resolve(_ document: SpecDocument) throws(SpecErrors) -> ResolvedGrid {
        let (trials, expansionIssues) = try GridExpansion.expand(document)
        var cache: [String: ResolvedExperiment] = [:]
        var failed: Set<String> = []
        var issues = expansionIssues
        var seen = Set(issues.map(\.description))
        var resolved: [ResolvedTrial] = []
        for trial in trials {
            let key = trial.cellKey
            if failed.contains(key) { continue }
            if let experiment = cache[key] {
                resolved.append(ResolvedTrial(trial: trial, experiment: experiment))
                continue
            }
            do {
                let experiment = try ResolvedExperiment.resolve(trial.spec)
                cache[key] = experiment
                resolved.append(ResolvedTrial(trial: trial, experiment: experiment))
            } catch {
                failed.insert(key)
                for issue in error.issues where seen.insert(issue.description).inserted { issues.append(issue) }
            }
        }
        guard issues.isEmpty else { throw SpecErrors(issues) }
        return ResolvedGrid(document: document, trials: resolved)
    }
}
