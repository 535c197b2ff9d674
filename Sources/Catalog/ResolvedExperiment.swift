import Foundation
import Datasets
import Evaluation
import Grid
import Layers
import Onnx
import Perturbations
import Spec
import Tensors

/// A model's layers decoded into their kinds and checked against the dataset's shapes.
public struct ResolvedModel: Sendable {
    public var name: String
    /// The layers in order, each with the layers it reads.
    public var nodes: [ModelNode]
    /// The model declaration as canonical JSON.
    public var canonical: String
    /// The training loss: the model's `loss`, else `training.loss`, else the task's default.
    public var loss: Loss
    /// The weights file the model starts from (absolute path), if the file names one.
    public var weights: String?
    /// Where an imported model comes from, for the results' provenance: the ONNX file's path,
    /// SHA-256, opset, producer and the initializers converted to Float32.
    public var source: String?
    /// The ONNX file of an imported model (absolute path).
    public var onnxFile: String?

    /// Multiply-accumulates of one forward pass of one sample, from the shapes alone.
    public func multiplyAccumulates(inputShape: [Int]) -> Int {
        (try? ModelPlan(nodes: nodes, inputShape: inputShape))?.multiplyAccumulates ?? 0
    }

    /// A freshly initialised model (PyTorch default initialisation from `rng`).
    public func build(inputShape: [Int], normalization: InputNormalization?, rng: inout RandomSource) throws(ModelError) -> Sequential {
        try Sequential(nodes: nodes, inputShape: inputShape, normalization: normalization, rng: &rng)
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
    /// Attribution methods of the `interpret` section, in the file's order.
    public var attributionMethods: [any AttributionMethod]
    /// Classes removed from every split (held out as an out-of-distribution set), sorted.
    public var heldOutClasses: [Int] { Array(Set(outOfDistributionSources.flatMap(\.heldOutClasses))).sorted() }
    /// Classification or regression, by the dataset.
    public var task: TaskKind

    /// Models each trial trains besides its own (the largest ensemble's other members).
    public var extraModels: Int { uncertaintyMethods.map(\.extraModels).max() ?? 0 }

    public var normalization: InputNormalization? {
        dataset.normalization.map { InputNormalization(mean: $0.mean, std: $0.std) }
    }

    /// Decodes every component of a cell's spec through the registries, collecting every problem
    /// (`Resolution`, one step per section of the file, in the file's order).
    public static func resolve(_ spec: ExperimentSpec) throws(SpecErrors) -> ResolvedExperiment {
        var resolution = Resolution(spec: spec)
        let dataset = resolution.dataset()
        let task: TaskKind = (dataset?.targetCount ?? 0) > 0 ? .regression : .classification
        let trainingLoss = resolution.loss(
            spec.training.loss, at: spec.training.node?["loss"]?.location, keyPath: "training.loss", fallback: .default(for: task),
            dataset: dataset, task: task)
        let optimizer = resolution.collect { () throws(SpecErrors) in try Registries.optimizers.decode(spec.training.optimizer) }
        let schedule: (any LearningRateSchedule)? =
            spec.training.schedule.map { c in
                resolution.collect { () throws(SpecErrors) in try Registries.schedules.decode(c) }
            } ?? ConstantSchedule()
        let corruptions = resolution.corruptions(dataset: dataset)
        /// An attack, checked against the dataset's classes.
        func attack(_ c: Component) -> (any Attack)? {
            guard let attack = resolution.collect({ () throws(SpecErrors) in try Registries.attacks.decode(c) }) else { return nil }
            if task == .classification, let dataset {
                resolution.issues += attack.problems(classCount: dataset.classCount).map { c.issue($0, key: Registry<any Attack>.key(in: $0)) }
            }
            return attack
        }
        let trainingAttack = spec.training.adversarial.flatMap { attack($0.attack) }
        let attacks = spec.attacks.compactMap(attack)
        var metrics = resolution.metrics(dataset: dataset, task: task)
        let calibrators = resolution.unique(spec.calibration.methods, Registries.calibrators) { $0.label }.map(\.kind)
        let uncertaintyMethods = resolution.unique(spec.uncertainty.methods, Registries.uncertaintyMethods) { $0.label }
        let oodEntries = resolution.unique(spec.uncertainty.ood, Registries.outOfDistributionSources) { $0.label }
        resolution.checkHeldOutClasses(oodEntries, dataset: dataset)
        let models = resolution.models(dataset: dataset, task: task, trainingLoss: trainingLoss)
        let attributionMethods = resolution.unique(spec.interpret.methods, Registries.attributionMethods) { $0.label }
        if spec.interpret.isPresent, let dataset {
            resolution.issues += interpretIssues(spec, methods: attributionMethods, models: models, dataset: dataset, task: task)
        }
        resolution.checkBaseline()
        resolution.checkMonteCarloDropout(uncertaintyMethods, models: models)
        if task == .regression {
            resolution.issues += regressionIssues(spec, dataset: dataset)
            if let dataset { resolution.issues += augmentationIssues(spec, dataset: dataset) }
        } else if let dataset, dataset.sampleShape.count == 1 {
            resolution.issues += featureRowIssues(spec, dataset: dataset)
        } else if let dataset {
            resolution.issues += augmentationIssues(spec, dataset: dataset)
        }
        if spec.metrics.isEmpty {
            metrics = defaultMetrics(task, models: models, uncertaintyMethods: uncertaintyMethods.map(\.kind))
        }
        resolution.checkReportColumns(metrics)
        guard resolution.issues.isEmpty, let dataset, let optimizer, let schedule else { throw SpecErrors(resolution.issues) }
        return ResolvedExperiment(
            spec: spec, dataset: dataset, models: models, optimizer: optimizer, schedule: schedule,
            corruptions: corruptions, attacks: attacks, trainingAttack: trainingAttack, metrics: metrics,
            calibrators: calibrators, uncertaintyMethods: uncertaintyMethods.map(\.kind), outOfDistributionSources: oodEntries.map(\.kind),
            attributionMethods: attributionMethods.map(\.kind), task: task)
    }

    /// The metrics of a file that names none: accuracy and cross-entropy for classification;
    /// MSE, MAE and R² for regression, with Gaussian NLL and interval coverage where a model
    /// predicts a variance or an uncertainty method gives one.
    static func defaultMetrics(_ task: TaskKind, models: [ResolvedModel], uncertaintyMethods: [any UncertaintyMethod]) -> [any Metric] {
        switch task {
        case .classification: return [Accuracy(), CrossEntropy()]
        case .regression:
            var metrics: [any Metric] = [MeanSquaredError(), MeanAbsoluteError(), R2Score()]
            if models.contains(where: \.loss.predictsVariance) || !uncertaintyMethods.isEmpty { metrics += [GaussianNLL(), IntervalCoverage()] }
            return metrics
        }
    }

    /// The steps of `resolve`, each decoding and checking one section of the file and adding
    /// what is wrong with it to `issues`.
    struct Resolution {
        let spec: ExperimentSpec
        var issues: [SpecIssue] = []

        /// `body`'s value, or nil with its problems added to `issues`.
        mutating func collect<T>(_ body: () throws(SpecErrors) -> T) -> T? {
            do { return try body() } catch {
                issues += error.issues
                return nil
            }
        }

        /// The dataset; a relative path of a file-backed dataset is relative to the file that names it.
        mutating func dataset() -> (any DatasetSource)? {
            let component = spec.dataset
            let directory = component.location.map { URL(fileURLWithPath: $0.file).deletingLastPathComponent().path }
            return collect { () throws(SpecErrors) in
                try Registries.datasets.decode(component) { source in
                    guard let fileBacked = source as? any FileBackedSource, let directory else { return source }
                    return fileBacked.resolvingPaths(relativeTo: directory)
                }
            }
        }

        /// The loss written at `keyPath` (nil: `fallback`), checked against the task.
        mutating func loss(
            _ written: String?, at location: SourceLocation?, keyPath: String, fallback: Loss, dataset: (any DatasetSource)?, task: TaskKind
        ) -> Loss {
            guard let written else { return fallback }
            guard let known = Loss(rawValue: written) else {
                let names = Loss.allCases.map(\.rawValue)
                issues.append(
                    SpecIssue(
                        location: location, keyPath: keyPath,
                        message: "unknown loss '\(written)'\(Suggestion.hint(for: written, among: names)); known: \(names.joined(separator: ", "))"))
                return fallback
            }
            if dataset != nil && known.task != task {
                issues.append(
                    SpecIssue(
                        location: location, keyPath: keyPath,
                        message:
                            "loss '\(written)' is for \(known.task.rawValue); the dataset '\(spec.dataset.type)' is a \(task.rawValue) task (use \(Loss.allCases.filter { $0.task == task }.map(\.rawValue).joined(separator: " or ")))"
                    ))
            }
            return known
        }

        /// The corruptions, each checked against the dataset's sample shape.
        mutating func corruptions(dataset: (any DatasetSource)?) -> [any Corruption] {
            spec.noise.compactMap { c -> (any Corruption)? in
                let directory = c.location.map { URL(fileURLWithPath: $0.file).deletingLastPathComponent().path }
                let decoded = collect { () throws(SpecErrors) in
                    try Registries.corruptions.decode(c) { kind in
                        guard let set = kind as? CorruptionSet, let directory else { return kind }
                        return set.resolvingPaths(relativeTo: directory)
                    }
                }
                guard let corruption = decoded else { return nil }
                issues += dataset.map { corruption.problems(sampleShape: $0.sampleShape) }?.map { c.issue($0, key: "type") } ?? []
                return corruption
            }
        }

        /// The metrics: each of the task, in range for the dataset's classes, listed once and
        /// writing columns no other metric writes.
        mutating func metrics(dataset: (any DatasetSource)?, task: TaskKind) -> [any Metric] {
            var metrics: [any Metric] = []
            var columns: Set<String> = []
            for component in spec.metrics {
                guard let metric = collect({ () throws(SpecErrors) in try Registries.metrics.decode(component) }) else { continue }
                let metricTask = type(of: metric).task
                if dataset != nil && metricTask != task {
                    let fitting = Registries.metrics.entries.filter { entry in Registries.metricTasks[entry.name] == task }.map(\.name)
                    issues.append(
                        component.issue(
                            "metric '\(component.type)' measures \(metricTask.rawValue); the dataset '\(spec.dataset.type)' is a \(task.rawValue) task (its metrics: \(fitting.joined(separator: ", ")))",
                            key: "type"))
                    continue
                }
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
            return metrics
        }

        /// Each component decoded, with the component it came from; a label listed twice is an issue.
        mutating func unique<Kind>(_ components: [Component], _ registry: Registry<Kind>, label: (Kind) -> String) -> [(component: Component, kind: Kind)] {
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

        /// Held-out classes are classes of the dataset, and leave at least two to train on.
        mutating func checkHeldOutClasses(_ entries: [(component: Component, kind: any OutOfDistributionSource)], dataset: (any DatasetSource)?) {
            guard let classes = dataset?.classCount, classes > 0 else { return }
            for (component, source) in entries {
                if let outside = source.heldOutClasses.first(where: { $0 >= classes }) {
                    issues.append(component.issue("classes must be in 0..<\(classes) (the dataset's classes), got \(outside)", key: "classes"))
                }
            }
            let held = Set(entries.map(\.kind).flatMap(\.heldOutClasses).filter { $0 < classes })
            if classes - held.count < 2, let component = entries.first(where: { !$0.kind.heldOutClasses.isEmpty })?.component {
                issues.append(
                    component.issue(
                        "classes would leave \(max(0, classes - held.count)) of the dataset's \(classes) classes to train on; at least 2 must remain",
                        key: "classes"))
            }
        }

        /// Every model: its layers, loss and weights file, and its shapes against the dataset.
        mutating func models(dataset: (any DatasetSource)?, task: TaskKind, trainingLoss: Loss) -> [ResolvedModel] {
            var models: [ResolvedModel] = []
            for (modelIndex, model) in spec.models.enumerated() {
                var nodes: [ModelNode] = []
                var complete = true
                let loss = loss(
                    model.loss, at: model.node?["loss"]?.location, keyPath: "models[\(modelIndex)].loss", fallback: trainingLoss, dataset: dataset,
                    task: task)
                let declared = [!model.layers.isEmpty, model.architecture != nil, model.onnx != nil].filter { $0 }.count
                if declared > 1 {
                    issues.append(
                        SpecIssue(
                            location: model.location, keyPath: "models[\(modelIndex)]",
                            message: "a model has layers, an architecture or an onnx file, only one of them"))
                } else if declared == 0 {
                    issues.append(
                        SpecIssue(
                            location: model.location, keyPath: "models[\(modelIndex)]",
                            message: "a model needs layers (a list of layers), an architecture ({type: resnet, depth: 20}) or an onnx file (onnx: model.onnx)"))
                }
                if model.onnxOutput != nil, model.onnx == nil {
                    issues.append(
                        SpecIssue(
                            location: model.node?["onnx_output"]?.location, keyPath: "models[\(modelIndex)].onnx_output",
                            message: "onnx_output names an output of an onnx model; this model has no onnx file"))
                }
                var source: String?
                var onnxFile: String?
                if let written = model.onnx {
                    complete = false
                    let location = model.node?["onnx"]?.location
                    let path = Self.path(written, relativeTo: location ?? model.location)
                    do {
                        let imported = try OnnxModel.load(path: path, output: model.onnxOutput)
                        source = Self.describe(imported)
                        onnxFile = path
                        if let dataset {
                            // Checks the input against the dataset's samples and that samples run independently.
                            _ = try imported.makeModel(sampleShape: dataset.sampleShape)
                            complete = true
                        }
                        nodes = imported.nodes
                    } catch {
                        var message = error.description
                        if !FileManager.default.fileExists(atPath: path) {
                            message = "onnx '\(written)': no such file (\(path); paths are relative to the experiment file)"
                        }
                        issues.append(SpecIssue(location: location, keyPath: "models[\(modelIndex)].onnx", message: message))
                    }
                }
                if let component = model.architecture {
                    complete = false
                    if let architecture = collect({ () throws(SpecErrors) in try Registries.architectures.decode(component) }), let dataset {
                        let outputs = loss.outputCount(classes: dataset.classCount, targets: dataset.targetCount)
                        do {
                            nodes = try architecture.nodes(inputShape: dataset.sampleShape, outputs: outputs)
                            complete = true
                        } catch {
                            issues.append(component.issue(error.description))
                        }
                    }
                }
                var sources = model.architecture.map { [Component](repeating: $0, count: nodes.count) } ?? []
                if !model.layers.isEmpty {
                    let expanded = LayerBlocks.expand(
                        model.layers, prefix: "", previous: ModelPlan.inputName, defaultName: { String($0) }, scopes: [], issues: &issues)
                    nodes = expanded.layers.map(\.node)
                    sources = expanded.layers.map(\.component)
                    complete = expanded.complete
                }
                var weights: String?
                if let written = model.weights {
                    let location = model.node?["weights"]?.location
                    let path = Self.path(written, relativeTo: location ?? model.location)
                    if FileManager.default.fileExists(atPath: path) {
                        weights = path
                    } else {
                        issues.append(
                            SpecIssue(
                                location: location, keyPath: "models[\(modelIndex)].weights",
                                message: "weights '\(written)': no such file (\(path); paths are relative to the experiment file)"))
                    }
                }
                var resolved = ResolvedModel(name: model.name, nodes: nodes, canonical: model.canonical, loss: loss, weights: weights)
                resolved.source = source
                resolved.onnxFile = onnxFile
                if complete, let dataset {
                    issues += shapeIssues(resolved, spec: model, sources: sources, index: modelIndex, dataset: dataset)
                }
                models.append(resolved)
            }
            return models
        }

        /// An imported model's provenance in one line.
        static func describe(_ model: OnnxModel) -> String {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: model.file))).map { [UInt8]($0) } ?? []
            let digest = SHA256.digest(bytes).map { String(format: "%02x", $0) }.joined()
            let converted = model.conversions.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key) initializer(s) converted to float32" }
            return
                (["onnx \(model.file)", "sha256 \(digest)", "opset \(model.opset)", model.producer.isEmpty ? nil : "producer \(model.producer)"]
                .compactMap { $0 } + converted).joined(separator: "; ")
        }

        /// A path as written in the file at `location`: absolute, or relative to that file's folder.
        static func path(_ written: String, relativeTo location: SourceLocation?) -> String {
            let directory = location.map { URL(fileURLWithPath: $0.file).deletingLastPathComponent().path } ?? "."
            return written.hasPrefix("/") ? written : URL(fileURLWithPath: directory).appendingPathComponent(written).standardizedFileURL.path
        }

        /// `report.baseline` names one of the models.
        mutating func checkBaseline() {
            guard let baseline = spec.report.baseline, !spec.models.contains(where: { $0.name == baseline }) else { return }
            let names = spec.models.map(\.name)
            issues.append(
                SpecIssue(
                    location: spec.report.node?["baseline"]?.location ?? spec.report.node?.location, keyPath: "report.baseline",
                    message: "no model named '\(baseline)'\(Suggestion.hint(for: baseline, among: names)); the models: \(names.joined(separator: ", "))"))
        }

        /// An uncertainty method that samples dropout needs a dropout layer in every model.
        mutating func checkMonteCarloDropout(_ methods: [(component: Component, kind: any UncertaintyMethod)], models: [ResolvedModel]) {
            for (component, method) in methods where method is MonteCarloDropout {
                let stochastic = { (node: ModelNode) in
                    ((node.spec as? DropoutSpec)?.p ?? 0) > 0 || (node.spec as? OnnxOperationSpec)?.drawsRandomNumbers == true
                }
                for model in models where !model.nodes.contains(where: stochastic) {
                    let imported = model.nodes.contains { $0.spec is OnnxOperationSpec }
                    let why =
                        imported
                        ? "model '\(model.name)' is an ONNX file without Dropout nodes (an export in eval mode drops them), so its passes would all be identical; export it with its dropout modules in training mode and the rest in eval mode (model.eval(), then .train() on each nn.Dropout, then torch.onnx.export(..., training=torch.onnx.TrainingMode.PRESERVE))"
                        : "model '\(model.name)' has none, so its passes would all be identical"
                    issues.append(component.issue("mc_dropout needs a dropout layer with p > 0; \(why)", key: "type"))
                }
            }
        }

        /// Every column `report.metrics` names is written by one of the metrics.
        mutating func checkReportColumns(_ metrics: [any Metric]) {
            let metricColumns = metrics.flatMap { $0.columns.map(\.name) }
            for (index, column) in spec.report.metrics.enumerated() where !metricColumns.contains(column) {
                issues.append(
                    SpecIssue(
                        location: spec.report.node?["metrics"]?.elements?[index].location ?? spec.report.node?.location,
                        keyPath: "report.metrics[\(index)]",
                        message:
                            "no metric column '\(column)'\(Suggestion.hint(for: column, among: metricColumns)); the experiment's columns: \(metricColumns.joined(separator: ", "))"
                    ))
            }
        }
    }

    /// Interpretation needs a classification task on images, and every layer it names must be a
    /// layer of every model (Grad-CAM's with a spatial output).
    static func interpretIssues(
        _ spec: ExperimentSpec, methods: [(component: Component, kind: any AttributionMethod)],
        models: [ResolvedModel], dataset: any DatasetSource, task: TaskKind
    ) -> [SpecIssue] {
        let node = spec.interpret.node
        guard task == .classification, dataset.sampleShape.count == 3 else {
            return [
                SpecIssue(
                    location: node?.location, keyPath: "interpret",
                    message:
                        "interpretation explains image classifiers; the dataset '\(spec.dataset.type)' is \(task == .regression ? "a regression task" : "not made of images")"
                )
            ]
        }
        var found: [SpecIssue] = []
        for model in models {
            let perSample = ModelPlan.perSampleNodes(nodes: model.nodes, inputShape: dataset.sampleShape)
            let shapes = ((try? ModelPlan(nodes: model.nodes, inputShape: dataset.sampleShape))?.sampleShapes ?? [:]).filter { name, _ in
                model.nodes.indices.contains { model.nodes[$0].name == name && perSample[$0] }
            }
            let names = model.nodes.indices.filter { perSample[$0] }.map { model.nodes[$0].name }
            func missing(_ layer: String) -> String {
                "model '\(model.name)' has no layer '\(layer)'\(Suggestion.hint(for: layer, among: names)); its layers: \(names.joined(separator: ", "))"
            }
            for (index, layer) in spec.interpret.layers.enumerated() where shapes[layer] == nil {
                found.append(
                    SpecIssue(
                        location: node?["layers"]?.elements?[index].location ?? node?.location, keyPath: "interpret.layers[\(index)]", message: missing(layer)))
            }
            for (component, method) in methods {
                guard let layer = method.layer else { continue }
                guard let output = shapes[layer] else {
                    found.append(component.issue(missing(layer), key: "layer"))
                    continue
                }
                if output.count != 3 {
                    found.append(
                        component.issue(
                            "layer '\(layer)' of model '\(model.name)' outputs \(output.map(String.init).joined(separator: "×")) values per sample; \(type(of: method).kind) needs a spatial output [channels, height, width]",
                            key: "layer"))
                }
            }
        }
        return found
    }

    /// What a classification of feature rows (a CSV table, `[N, F]` arrays) cannot have:
    /// attacks and corruptions, which perturb pixels in [0, 1] with budgets in pixel units.
    static func featureRowIssues(_ spec: ExperimentSpec, dataset: any DatasetSource) -> [SpecIssue] {
        let rows = "the dataset '\(spec.dataset.type)' has feature rows of \(dataset.sampleShape[0]) value(s), not images"
        var found: [SpecIssue] = []
        if let first = spec.attacks.first { found.append(first.issue("attacks perturb images in [0, 1] pixels within a pixel budget; \(rows)")) }
        if let adversarial = spec.training.adversarial {
            found.append(adversarial.attack.issue("adversarial training perturbs images in [0, 1] pixels; \(rows)"))
        }
        if let first = spec.noise.first(where: { $0.type != ClassPriorShift.kind }) {
            found.append(first.issue("corruptions perturb images in [0, 1] pixels; \(rows)"))
        }
        found += augmentationIssues(spec, dataset: dataset)
        return found
    }

    /// Augmentation crops and flips images: not feature rows, and a crop's padding smaller than the image.
    static func augmentationIssues(_ spec: ExperimentSpec, dataset: any DatasetSource) -> [SpecIssue] {
        guard let augmentation = spec.training.augmentation else { return [] }
        let node = spec.training.node?["augmentation"]
        func issue(_ message: String) -> SpecIssue { SpecIssue(location: node?.location, keyPath: "training.augmentation", message: message) }
        let shape = dataset.sampleShape
        guard shape.count == 3 else {
            return [issue("augmentation crops and flips images; the dataset '\(spec.dataset.type)' has samples of shape \(shape)")]
        }
        if augmentation.randomCrop >= min(shape[1], shape[2]) {
            return [issue("random_crop (\(augmentation.randomCrop)) must be smaller than the images' sides (\(shape[1])×\(shape[2]))")]
        }
        return []
    }

    /// What a regression experiment cannot have: attacks and adversarial training (they
    /// maximise a classification loss), post-hoc calibration (it recalibrates class
    /// probabilities), out-of-distribution sets (images scored by classification uncertainty),
    /// and corruptions of tabular rows (they perturb pixels in [0, 1]).
    static func regressionIssues(_ spec: ExperimentSpec, dataset: (any DatasetSource)?) -> [SpecIssue] {
        let task = "the dataset '\(spec.dataset.type)' is a regression task"
        var found: [SpecIssue] = []
        if let first = spec.attacks.first {
            found.append(first.issue("attacks maximise a classification loss; \(task)"))
        }
        if let adversarial = spec.training.adversarial {
            found.append(adversarial.attack.issue("adversarial training needs a classification task; \(task)"))
        }
        if let first = spec.calibration.methods.first {
            found.append(
                first.issue(
                    "calibration methods recalibrate class probabilities; \(task) (its predictive variance is scored by gaussian_nll and interval_coverage)"))
        }
        if let first = spec.uncertainty.ood.first {
            found.append(first.issue("out-of-distribution detection scores classification uncertainty; \(task)"))
        }
        for component in spec.noise where component.type == ClassPriorShift.kind {
            found.append(
                component.issue(
                    "class_prior shifts the class labels' distribution; the dataset '\(spec.dataset.type)' is a regression task without classes", key: "type"))
        }
        if let dataset, dataset.sampleShape.count == 1, let first = spec.noise.first(where: { $0.type != ClassPriorShift.kind }) {
            found.append(
                first.issue(
                    "corruptions perturb images in [0, 1] pixels; the dataset '\(spec.dataset.type)' has feature rows of \(dataset.sampleShape[0]) value(s), not images"
                ))
        }
        return found
    }

    /// Walks the layer shapes from the dataset's sample shape; the output must be one logit per
    /// class, or the values the regression loss needs per target.
    static func shapeIssues(_ model: ResolvedModel, spec: ModelSpec, sources: [Component], index: Int, dataset: any DatasetSource) -> [SpecIssue] {
        // The entry a node comes from: its layer, the block that wrote it, or the architecture.
        func component(_ node: Int) -> Component { sources[node] }
        var names: Set<String> = []
        for (index, node) in model.nodes.enumerated() where !names.insert(node.name).inserted {
            return [component(index).issue("duplicate layer name '\(node.name)'", key: "name")]
        }
        let shape: [Int]
        do {
            shape = try ModelPlan(nodes: model.nodes, inputShape: dataset.sampleShape).shapes.last ?? [1] + dataset.sampleShape
        } catch {
            guard error.node < sources.count else {
                return [SpecIssue(location: spec.node?["onnx"]?.location ?? spec.location, keyPath: "models[\(index)].onnx", message: error.error.description)]
            }
            let at = spec.architecture == nil && error.concernsInputs && sources[error.node].node["inputs"] != nil ? "inputs" : nil
            return [component(error.node).issue(error.error.description, key: at)]
        }
        let loss = model.loss
        guard loss.task == (dataset.targetCount > 0 ? .regression : .classification) else { return [] }  // reported with the loss
        let needed = loss.outputCount(classes: dataset.classCount, targets: dataset.targetCount)
        if shape != [1, needed] {
            let got = shape.dropFirst().map(String.init).joined(separator: "×")
            let why =
                switch loss {
                case .crossEntropy: "the dataset has \(dataset.classCount) classes"
                case .meanSquaredError: "the dataset has \(dataset.targetCount) target(s) and loss mse predicts one value per target"
                case .gaussianNLL: "the dataset has \(dataset.targetCount) target(s) and loss gaussian_nll predicts a mean and a log-variance per target"
                }
            return [
                SpecIssue(
                    location: spec.node?["onnx"]?.location ?? spec.location, keyPath: "models[\(index)].\(spec.onnx == nil ? "layers" : "onnx")",
                    message: "the model outputs \(got) values per sample; \(why), so the last layer needs \(needed) outputs")
            ]
        }
        return []
    }
}
