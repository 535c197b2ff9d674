import Datasets
import Evaluation
import Layers
import Perturbations
import Spec
import Tensors

/// A model's layers decoded into their kinds and checked against the dataset's shapes.
public struct ResolvedModel: Sendable {
    public var name: String
    public var layers: [(name: String, spec: any LayerSpec)]
    /// The model declaration as canonical JSON.
    public var canonical: String

    /// Multiply-accumulates of one forward pass of one sample, from the shapes alone.
    public func multiplyAccumulates(inputShape: [Int]) -> Int {
        var shape = [1] + inputShape
        var total = 0
        for (_, layer) in layers {
            total += layer.multiplyAccumulates(for: shape)
            shape = (try? layer.outputShape(for: shape)) ?? shape
        }
        return total
    }

    /// A freshly initialised model (PyTorch default initialisation from `rng`).
    public func build(inputShape: [Int], normalization: InputNormalization?, rng: inout RandomSource) throws(ModelError) -> Sequential {
        try Sequential(layers: layers, inputShape: inputShape, normalization: normalization, rng: &rng)
    }
}

/// One cell's spec with every component decoded, range-checked and shape-checked: nothing in
/// it can fail for a reason the file could have told before the run.
public struct ResolvedExperiment: Sendable {
    public var spec: ExperimentSpec
    public var dataset: any DatasetSource
    public var models: [ResolvedModel]
    public var optimizer: any OptimizerSpec
    public var schedule: any LearningRateSchedule
    public var corruptions: [any Corruption]
    public var attacks: [any Attack]
    /// The attack of adversarial training, when the spec trains adversarially.
    public var trainingAttack: (any Attack)?
    /// The metrics of every evaluation, in order; accuracy and cross-entropy when the file names none.
    public var metrics: [any Metric]
    /// Post-hoc calibration methods, in the file's order.
    public var calibrators: [any Calibrator]
    /// Uncertainty methods, each a predictor evaluated beside the model.
    public var uncertaintyMethods: [any UncertaintyMethod]
    /// Out-of-distribution sets for detection with uncertainty scores.
    public var outOfDistributionSources: [any OutOfDistributionSource]

    /// Models each trial trains besides its own (the largest ensemble's other members).
    public var extraModels: Int { uncertaintyMethods.map(\.extraModels).max() ?? 0 }

    public var normalization: InputNormalization? {
        dataset.normalization.map { InputNormalization(mean: $0.mean, std: $0.std) }
    }

    /// Decodes every component of a cell's spec through the registries, collecting every problem.
    public static func resolve(_ spec: ExperimentSpec) throws(SpecErrors) -> ResolvedExperiment {
        var issues: [SpecIssue] = []
        func collect<T>(_ body: () throws(SpecErrors) -> T) -> T? {
            do { return try body() } catch { issues += error.issues; return nil }
        }
        let dataset = collect { () throws(SpecErrors) in try Catalog.datasets.decode(spec.dataset) }
        let optimizer = collect { () throws(SpecErrors) in try Catalog.optimizers.decode(spec.training.optimizer) }
        let schedule: (any LearningRateSchedule)? = spec.training.schedule.map { c in
            collect { () throws(SpecErrors) in try Catalog.schedules.decode(c) }
        } ?? ConstantSchedule()
        let corruptions = spec.noise.compactMap { c -> (any Corruption)? in
            guard let corruption = collect({ () throws(SpecErrors) in try Catalog.corruptions.decode(c) }) else { return nil }
            issues += dataset.map { corruption.problems(sampleShape: $0.sampleShape) }?.map { c.issue($0, key: "type") } ?? []
            return corruption
        }
        let trainingAttack = spec.training.adversarial.flatMap { adversarial in
            collect { () throws(SpecErrors) in try Catalog.attacks.decode(adversarial.attack) }
        }
        let attacks = spec.attacks.compactMap { c in collect { () throws(SpecErrors) in try Catalog.attacks.decode(c) } }
        var metrics: [any Metric] = []
        var columns: Set<String> = []
        for component in spec.metrics {
            guard let metric = collect({ () throws(SpecErrors) in try Catalog.metrics.decode(component) }) else { continue }
            let problems = dataset.map { metric.problems(classCount: $0.classCount) } ?? []
            issues += problems.map { component.issue($0, key: Registry<any Metric>.key(in: $0)) }
            if metrics.contains(where: { $0.name == metric.name }) {
                issues.append(component.issue("metric '\(metric.name)' is listed twice"))
            } else if let clash = metric.columns.map(\.name).first(where: { columns.contains($0) }) {
                issues.append(component.issue("metric '\(metric.name)' writes the column '\(clash)', which another metric already writes"))
            }
            columns.formUnion(metric.columns.map(\.name))
            metrics.append(metric)
        }
        /// Each component decoded, with the component it came from; a label listed twice is an issue.
        func unique<Kind>(_ components: [Component], _ registry: Registry<Kind>, label: (Kind) -> String) -> [(component: Component, kind: Kind)] {
            var decoded: [(component: Component, kind: Kind)] = []
            for component in components {
                guard let kind = collect({ () throws(SpecErrors) in try registry.decode(component) }) else { continue }
                if decoded.contains(where: { label($0.kind) == label(kind) }) {
                    issues.append(component.issue("\(registry.extensionPoint) '\(label(kind))' is listed twice"))
                }
                decoded.append((component, kind))
            }
            return decoded
        }
        let calibrators = unique(spec.calibration.methods, Catalog.calibrators) { $0.label }.map(\.kind)
        let uncertaintyMethods = unique(spec.uncertainty.methods, Catalog.uncertaintyMethods) { $0.label }
        let oodSources = unique(spec.uncertainty.ood, Catalog.outOfDistributionSources) { $0.label }.map(\.kind)
        var models: [ResolvedModel] = []
        for (modelIndex, model) in spec.models.enumerated() {
            var layers: [(String, any LayerSpec)] = []
            var complete = true
            for (index, component) in model.layers.enumerated() {
                if let layer = collect({ () throws(SpecErrors) in try Catalog.layers.decode(component) }) {
                    layers.append((component.name ?? String(index), layer))
                } else {
                    complete = false
                }
            }
            let resolved = ResolvedModel(name: model.name, layers: layers, canonical: model.canonical)
            if complete, let dataset {
                issues += shapeIssues(resolved, spec: model, index: modelIndex, dataset: dataset)
            }
            models.append(resolved)
        }
        for (component, method) in uncertaintyMethods where method is MonteCarloDropout {
            for model in models where !model.layers.contains(where: { (($0.spec as? DropoutSpec)?.p ?? 0) > 0 }) {
                issues.append(component.issue(
                    "mc_dropout needs a dropout layer with p > 0; model '\(model.name)' has none, so its passes would all be identical", key: "type"))
            }
        }
        if spec.metrics.isEmpty { metrics = [Accuracy(), CrossEntropy()] }
        guard issues.isEmpty, let dataset, let optimizer, let schedule else { throw SpecErrors(issues) }
        return ResolvedExperiment(spec: spec, dataset: dataset, models: models, optimizer: optimizer, schedule: schedule,
                                  corruptions: corruptions, attacks: attacks, trainingAttack: trainingAttack, metrics: metrics,
                                  calibrators: calibrators, uncertaintyMethods: uncertaintyMethods.map(\.kind), outOfDistributionSources: oodSources)
    }

    /// Walks the layer shapes from the dataset's sample shape; the output must be one logit per class.
    static func shapeIssues(_ model: ResolvedModel, spec: ModelSpec, index: Int, dataset: any DatasetSource) -> [SpecIssue] {
        var shape = [1] + dataset.sampleShape
        var names: Set<String> = []
        for (index, (name, layer)) in model.layers.enumerated() {
            let component = spec.layers[index]
            if !names.insert(name).inserted {
                return [component.issue("duplicate layer name '\(name)'", key: "name")]
            }
            do {
                shape = try layer.outputShape(for: shape)
            } catch {
                return [component.issue(error.description)]
            }
        }
        if shape != [1, dataset.classCount] {
            let got = shape.dropFirst().map(String.init).joined(separator: "×")
            return [SpecIssue(location: spec.location, keyPath: "models[\(index)].layers",
                              message: "the model outputs \(got) values per sample; the dataset has \(dataset.classCount) classes, so the last layer needs \(dataset.classCount) outputs")]
        }
        return []
    }
}
